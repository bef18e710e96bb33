"""Where any of a few words occurs in a file, found in one pass: the byte tests that run on every file of a tree.

The prefilters ask of every file (most of which hold no write) whether it mentions one of a handful of words.
``bytes.find`` per word costs a full pass per absent word (about a gigabyte a second, so a dozen words is a
dozen passes over the whole tree); an Aho-Corasick automaton (``ahocorasick_rs``, SIMD-accelerated for small
sets of words) finds every word in one pass at several times that speed.

The automaton reports leftmost, non-overlapping matches. An occurrence that starts inside another match
(``models`` inside ``sqlmodels``, ``op.`` inside ``drop.``, ``copy`` at the start of ``copy_from``) is not
reported by it, so each word carries the offsets at which another word could start inside it, and those are
checked directly: :meth:`Words.present` and
:meth:`Words.positions` answer exactly what one ``find`` per word would.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ahocorasick_rs import AhoCorasick, BytesAhoCorasick, MatchKind


class Words:
    """A fixed set of byte words, searched together."""

    def __init__(self, words: Iterable[bytes]) -> None:
        self.words: tuple[bytes, ...] = tuple(dict.fromkeys(w for w in words if w))
        self._automaton = BytesAhoCorasick(self.words, matchkind=MatchKind.LeftmostFirst) if self.words else None
        #: per word (by index): (offset, other word) pairs where the other word may start inside this one
        self._inner: list[tuple[tuple[int, bytes], ...]] = [_inner_starts(word, self.words) for word in self.words]

    def _matches(self, data: bytes) -> Iterator[tuple[bytes, int]]:
        """Every occurrence of every word, as (word, position), in no particular order."""
        if self._automaton is None:
            return
        for index, start, _end in self._automaton.find_matches_as_indexes(data):
            yield self.words[index], start
            for offset, other in self._inner[index]:
                if data.startswith(other, start + offset):
                    yield other, start + offset

    def present(self, data: bytes) -> set[bytes]:
        """The words that occur in ``data``."""
        return {word for word, _ in self._matches(data)}

    def positions(self, data: bytes) -> list[int]:
        """Every position where a word starts, ascending."""
        return sorted({at for _, at in self._matches(data)})


def _inner_starts(word: bytes, words: tuple[bytes, ...]) -> tuple[tuple[int, bytes], ...]:
    """Offsets inside ``word`` where another word (or itself again, past its start) can begin: its start agrees
    with the rest of ``word`` there (it may run past the end: the check at match time reads the data). Offset 0
    too: of two words starting at one position the automaton reports one."""
    found = []
    for offset in range(len(word)):
        rest = word[offset:]
        for other in words:
            if (offset or other != word) and (other.startswith(rest) or rest.startswith(other)):
                found.append((offset, other))
    return tuple(found)


class TextWords:
    """The same for the words of one module's text (class names, anchors): which lines mention one."""

    def __init__(self, words: Iterable[str]) -> None:
        unique = tuple(dict.fromkeys(w for w in words if w))
        self._automaton = AhoCorasick(unique, matchkind=MatchKind.LeftmostFirst) if unique else None

    def starts(self, text: str) -> list[int]:
        """Start offsets of matches (leftmost, non-overlapping: an occurrence inside another match is on the
        same line as that match, which is all line-level callers need)."""
        if self._automaton is None:
            return []
        return [start for _index, start, _end in self._automaton.find_matches_as_indexes(text)]
