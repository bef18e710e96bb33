"""Python string values that remember where every character was written.

The extractor builds SQL from literals, f-strings, ``%``/``.format`` formatting and concatenation. The parse
stage later reports the line of a statement's first keyword, so each character of the assembled text must map
back to its file position. A :class:`Fragment` is a sequence of :class:`Part` slices; each part points into a
*position source* (a literal as written, or a synthetic value pinned to one spot). Positions are only computed
when a fragment is emitted as a candidate, so the thousands of non-SQL strings in a file cost nothing extra.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, TypeAlias

from guard.model import HOLE_PREFIX, SqlCandidate

Position = tuple[int, int]  # 1-based (line, column)

#: Origins ordered by how much the text was transformed; a composition reports the strongest one.
_ORIGIN_RANK = {"literal": 0, "constant": 1, "concat": 2, "format": 3, "fstring": 4, "textual": 5}

_SIMPLE_ESCAPES = {
    "\n": "",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
}
#: Lone surrogates (an ``\\ud8ff`` escape in a literal) cannot be encoded, so no driver can send them and no report can
#: print them; each becomes U+FFFD (one character for one, so positions stay exact).
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPE = re.compile(r"\\(?:N\{[^}\n]*\}|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|.)", re.S)


class SourceText:
    """The file's text with conversions between offsets, AST positions and 1-based (line, column)."""

    def __init__(self, text: str) -> None:
        self.text = text

    @functools.cached_property
    def line_offsets(self) -> list[int]:
        """Offset of the first character of each line (computed on first use)."""
        return [0, *itertools.accumulate(len(line) + 1 for line in self.text.split("\n")[:-1])]

    def offset(self, lineno: int, byte_col: int) -> int:
        """Character offset of an AST position (``col_offset`` counts UTF-8 bytes)."""
        start = self.line_offsets[min(lineno, len(self.line_offsets)) - 1]
        head = self.text[start : start + byte_col]
        if head.isascii():
            return start + byte_col
        end = self.text.find("\n", start)
        line = self.text[start : end if end != -1 else len(self.text)]
        return start + len(line.encode("utf-8")[:byte_col].decode("utf-8", "ignore"))

    def position(self, offset: int) -> Position:
        index = bisect.bisect_right(self.line_offsets, offset) - 1
        return index + 1, offset - self.line_offsets[index] + 1


class TextRun(NamedTuple):
    text: str
    line: int
    column: int


class PositionSource:
    """Where the characters of one decoded value were written."""

    def position_at(self, index: int) -> Position:
        raise NotImplementedError

    def entries(self, start: int, text: str) -> list[tuple[int, int, int]]:
        """``line_starts`` entries (relative offset, line, column) for ``text`` found at ``start``."""
        raise NotImplementedError


class Pinned(PositionSource):
    """Synthetic text (a substituted constant, a quoted identifier, a hole) attributed to one file position."""

    __slots__ = ("_pos",)

    def __init__(self, pos: Position) -> None:
        self._pos = pos

    def pin(self) -> Position:
        return self._pos

    def position_at(self, index: int) -> Position:
        return self.pin()

    def entries(self, start: int, text: str) -> list[tuple[int, int, int]]:
        line, column = self.pin()
        found = [(0, line, column)]
        newline = text.find("\n")
        while newline != -1:  # every line of the synthetic text stays at the pin
            found.append((newline + 1, line, column))
            newline = text.find("\n", newline + 1)
        return found


class Deferred(Pinned):
    """A pin computed only when a candidate is rendered (most strings never are)."""

    __slots__ = ("_compute",)

    def __init__(self, compute: Callable[[], Position]) -> None:
        super().__init__((0, 0))
        self._compute: Callable[[], Position] | None = compute

    def pin(self) -> Position:
        if self._compute is not None:
            self._pos = self._compute()
            self._compute = None
        return self._pos


class Verbatim(PositionSource):
    """Decoded literal text as runs written contiguously in the file, computed on first use."""

    __slots__ = ("_compute", "_offsets", "_runs")

    def __init__(self, compute: Callable[[], list[TextRun]]) -> None:
        self._compute = compute
        self._runs: list[TextRun] | None = None
        self._offsets: list[int] = []

    def _load(self) -> list[TextRun]:
        if self._runs is None:
            self._runs = self._compute()
            offset = 0
            for run in self._runs:
                self._offsets.append(offset)
                offset += len(run.text)
        return self._runs

    def position_at(self, index: int) -> Position:
        runs = self._load()
        if not runs:
            return (1, 1)
        i = max(bisect.bisect_right(self._offsets, index) - 1, 0)
        return _advance(runs[i], index - self._offsets[i])

    def entries(self, start: int, text: str) -> list[tuple[int, int, int]]:
        runs = self._load()
        if not runs:
            return [(0, 1, 1)]
        end = start + len(text)
        first = max(bisect.bisect_right(self._offsets, start) - 1, 0)
        found = []
        for i in range(first, len(runs)):
            run_start = self._offsets[i]
            if run_start >= end:
                break
            lo = max(start, run_start)
            line, column = _advance(runs[i], lo - run_start)
            found.append((lo - start, line, column))
        return found


def _advance(run: TextRun, count: int) -> Position:
    """Position of character ``count`` of a contiguous run."""
    head = run.text[:count]
    newlines = head.count("\n")
    if newlines:
        return run.line + newlines, count - head.rfind("\n")
    return run.line, run.column + count


class Part(NamedTuple):
    """A slice of a fragment's text: ``text`` starts at character ``start`` of ``source``."""

    text: str
    source: PositionSource
    start: int = 0
    hole: bool = False


@dataclass(frozen=True)
class Fragment:
    """One possible value of a string expression.

    ``product`` identifies the assignment that stored this value (``-1`` for a value computed in place), so the
    extractor can tell a constant used on its own from one that only serves as a piece of a larger statement.
    """

    parts: tuple[Part, ...]
    origin: str = "literal"
    dynamic: bool = False
    product: int = -1
    context: str = ""

    @property
    def text(self) -> str:
        return "".join(part.text for part in self.parts)

    def with_product(self, product: int) -> Fragment:
        return Fragment(self.parts, self.origin, self.dynamic, product, self.context)

    def with_context(self, context: str) -> Fragment:
        return Fragment(self.parts, self.origin, self.dynamic, self.product, context)

    def with_origin(self, origin: str) -> Fragment:
        return Fragment(self.parts, origin, self.dynamic, self.product, self.context)


#: Where synthetic text belongs: a file position, the first character of a part, or a position source.
Where: TypeAlias = Position | Part | PositionSource


def source_of(where: Where) -> PositionSource:
    if isinstance(where, PositionSource):
        return where
    if isinstance(where, Part):
        part = where
        return Deferred(lambda: part.source.position_at(part.start))
    return Pinned(where)


def pinned(text: str, where: Where, origin: str = "constant") -> Fragment:
    """Synthetic text (a substituted value, a quoted identifier) attributed to one place."""
    return Fragment((Part(text, source_of(where)),), origin)


def hole(where: Where) -> Fragment:
    """An unknown value; it renders as ``guard_hole_<n>`` so the SQL around it still parses."""
    return Fragment((Part(HOLE_PREFIX, source_of(where), 0, True),), "literal", dynamic=True)


def strongest_origin(origins: Iterable[str]) -> str:
    return max(origins, key=lambda origin: _ORIGIN_RANK.get(origin, 0), default="literal")


def concat(fragments: Sequence[Fragment], origin: str) -> Fragment:
    parts: list[Part] = []
    for fragment in fragments:
        parts.extend(fragment.parts)
    return Fragment(
        tuple(parts),
        strongest_origin([origin, *(f.origin for f in fragments)]),
        any(f.dynamic for f in fragments),
        context=next((f.context for f in fragments if f.context), ""),
    )


def slice_parts(parts: Sequence[Part], start: int, end: int) -> list[Part]:
    """The parts covering ``text[start:end]`` of the fragment made of ``parts`` (holes are never split)."""
    out: list[Part] = []
    offset = 0
    for part in parts:
        length = len(part.text)
        lo, hi = max(start, offset), min(end, offset + length)
        if lo < hi:
            if part.hole or (lo == offset and hi == offset + length):
                out.append(part)
            else:
                out.append(Part(part.text[lo - offset : hi - offset], part.source, part.start + lo - offset))
        offset += length
        if offset >= end:
            break
    return out


# --- lexing literals as written -------------------------------------------------------------------------------


class StringToken(NamedTuple):
    prefix: str  # lower-cased prefix letters
    body_start: int  # offset of the first character after the opening quote(s)
    body_end: int  # offset of the closing quote(s)


def lex_string_tokens(text: str, start: int, end: int) -> list[StringToken] | None:
    """Split ``text[start:end]`` (one AST string node: implicit concatenation allowed) into its literals.

    Returns None when the span holds something unexpected, so callers fall back to coarse positions.
    """
    tokens: list[StringToken] = []
    i = start
    while i < end:
        ch = text[i]
        if ch in " \t\f\r\n":
            i += 1
            continue
        if ch == "\\" and text.startswith("\n", i + 1):
            i += 2
            continue
        if ch == "#":
            newline = text.find("\n", i)
            i = end if newline == -1 else newline
            continue
        j = i
        while j < end and j - i < 3 and text[j] in "rRbBuUfF":
            j += 1
        if j >= end or text[j] not in "'\"":
            return None
        quote = text[j] * 3 if text.startswith(text[j] * 3, j) else text[j]
        body = j + len(quote)
        close = _find_closing(text, body, quote)
        if close < 0:
            return None
        tokens.append(StringToken(text[i:j].lower(), body, close))
        i = close + len(quote)
    return tokens


def _find_closing(text: str, pos: int, quote: str) -> int:
    """Offset of the quote closing a literal whose body starts at ``pos``; -1 if unterminated."""
    while True:
        close = text.find(quote, pos)
        if close < 0:
            return -1
        if len(quote) == 1:
            newline = text.find("\n", pos, close)
            while newline != -1 and _escaped(text, newline):
                newline = text.find("\n", newline + 1, close)
            if newline != -1:
                return -1
        if not _escaped(text, close):
            return close
        pos = close + 1


def _escaped(text: str, pos: int) -> bool:
    """Whether the character at ``pos`` follows an odd number of backslashes."""
    count = 0
    while pos - count - 1 >= 0 and text[pos - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def decode_py_escape(sequence: str) -> str:
    """The character(s) one backslash escape stands for in a (non-raw, non-bytes) str literal."""
    body = sequence[1:]
    if body in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[body]
    head = body[:1]
    try:
        if head in "01234567" and head:
            return chr(int(body, 8))
        if head in ("x", "u", "U"):
            return chr(int(body[1:], 16))
        if head == "N":
            return unicodedata.lookup(body[2:-1])
    except (ValueError, KeyError, OverflowError):
        pass
    return sequence  # unknown escapes keep the backslash, as Python does


def escape_at(text: str, pos: int) -> tuple[str, int]:
    """Decode the backslash escape at ``text[pos]`` of a (non-raw) str literal: (its value, its width in the source).

    ``guard patch`` maps edits through it; the scanner's :func:`decode_body` rests on the same
    :func:`decode_py_escape`, so both read a literal exactly as Python does.
    """
    if text.startswith("\\\r\n", pos):  # line continuation in a CRLF file
        return "", 3
    match = _ESCAPE.match(text, pos)
    if match is None:  # a lone backslash at the very end of the text
        return text[pos:], len(text) - pos
    return decode_py_escape(match.group()), match.end() - pos


def decode_body(src: SourceText, start: int, end: int, raw: bool) -> list[TextRun]:
    """Decode a literal body into runs of text, each run written contiguously from (line, column)."""
    text = src.text
    if raw or "\\" not in text[start:end]:
        line, column = src.position(start)
        return [TextRun(text[start:end], line, column)]
    runs: list[TextRun] = []
    pos = start
    for match in _ESCAPE.finditer(text, start, end):
        if match.start() > pos:
            runs.append(TextRun(text[pos : match.start()], *src.position(pos)))
        decoded = decode_py_escape(match.group())
        if decoded:
            runs.append(TextRun(decoded, *src.position(match.start())))
        pos = match.end()
    if pos < end:
        runs.append(TextRun(text[pos:end], *src.position(pos)))
    return runs


def decode_fstring_body(src: SourceText, start: int, end: int, raw: bool) -> list[TextRun | None]:
    """Decode an f-string body: text runs with ``{{``/``}}`` unescaped, and ``None`` for each replacement field."""
    text = src.text
    items: list[TextRun | None] = []
    pos = start
    i = start
    while i < end:
        ch = text[i]
        if ch in "{}":
            if i > pos:
                items.extend(decode_body(src, pos, i, raw))
            if text.startswith(ch * 2, i):
                items.append(TextRun(ch, *src.position(i)))
                i += 2
            elif ch == "{":
                items.append(None)
                i = _skip_field(text, i + 1, end)
            else:
                i += 1  # a lone '}' is a syntax error; keep going
            pos = i
            continue
        i += 2 if ch == "\\" and not raw and text[i + 1 : i + 2] in "{}" else 1
    if pos < end:
        items.extend(decode_body(src, pos, end, raw))
    return items


def _skip_field(text: str, i: int, end: int) -> int:
    """Offset just after the ``}`` that closes the replacement field starting at ``i``."""
    depth = 0
    while i < end:
        ch = text[i]
        if ch in "'\"":
            close = text.find(ch, i + 1, end)
            i = end if close < 0 else close + 1
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0 and ch == "}":
                return i + 1
            depth -= 1
        i += 1
    return end


# --- rendering a fragment as a candidate ------------------------------------------------------------------------


def render_candidate(fragment: Fragment, relpath: str, origin: str, context: str) -> SqlCandidate:
    """Number the holes and compute ``line_starts`` so ``position(offset)`` is exact for every character."""
    pieces: list[str] = []
    starts: list[tuple[int, int, int]] = []
    offset = 0
    holes = 0
    for part in fragment.parts:
        if part.hole:
            text = f"{HOLE_PREFIX}{holes}"
            holes += 1
            line, column = part.source.position_at(part.start)
            starts.append((offset, line, column))
        else:
            text = part.text
            for relative, line, column in part.source.entries(part.start, text):
                starts.append((offset + relative, line, column))
        pieces.append(text)
        offset += len(text)
    first = starts[0] if starts else (0, 1, 1)
    text = _LONE_SURROGATE.sub("\ufffd", "".join(pieces))
    return SqlCandidate(
        relpath=relpath,
        line=first[1],
        column=first[2],
        text=text,
        origin=origin,
        line_starts=_compact(starts, text),
        dynamic=fragment.dynamic or holes > 0,
        context=context,
    )


def _compact(starts: list[tuple[int, int, int]], text: str) -> tuple[tuple[int, int, int], ...]:
    """Drop entries that only restate where the previous entry's text already leads."""
    kept: list[tuple[int, int, int]] = []
    for entry in starts:
        if kept:
            base, line, column = kept[-1]
            if entry[0] == base:
                kept[-1] = entry
                continue
            if _advance(TextRun(text[base : entry[0]], line, column), entry[0] - base) == entry[1:]:
                continue
        kept.append(entry)
    return tuple(kept)
