"""One-pass word search (the prefilters' engine) answers exactly what one ``find`` per word answers."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from guard.scan.frontends.python.wordscan import TextWords, Words

# small alphabets make overlaps (a word inside or across another) frequent
_WORD = st.binary(min_size=1, max_size=5).map(lambda b: bytes(c % 4 + 97 for c in b))
_DATA = st.binary(max_size=200).map(lambda b: bytes(c % 5 + 97 for c in b))


def _every_position(words: list[bytes], data: bytes) -> list[int]:
    found = set()
    for word in words:
        at = data.find(word)
        while at != -1:
            found.add(at)
            at = data.find(word, at + 1)
    return sorted(found)


@settings(max_examples=400, deadline=None)
@given(st.lists(_WORD, min_size=1, max_size=8), _DATA)
def test_words_match_find(words: list[bytes], data: bytes) -> None:
    scan = Words(words)
    assert scan.present(data) == {w for w in words if w in data}
    assert scan.positions(data) == _every_position(words, data)


def test_overlapping_words_are_all_found() -> None:
    """``models`` inside ``sqlmodels`` and ``op.`` inside ``drop.``: the automaton reports the outer match only."""
    scan = Words([b"sqlmodel", b"models", b"drop", b"op."])
    assert scan.present(b"import sqlmodels") == {b"sqlmodel", b"models"}
    assert scan.positions(b"x.drop.y") == [2, 4]
    assert Words([]).present(b"anything") == set()


def test_text_words_give_character_offsets() -> None:
    text = "é€ Job(x)\nsession.add(job)"
    starts = TextWords(["Job(", "add(", "Job("]).starts(text)
    assert [text[at : at + 4] for at in starts] == ["Job(", "add("]
    assert TextWords([]).starts(text) == []
