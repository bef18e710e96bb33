"""String values the JS front-end builds from source: text pieces that remember where they came from.

A SQL statement in JavaScript is a string literal, a template literal whose ``${…}`` parts are values or
other strings, a ``+`` chain, ``[...].join(' ')``, or a constant defined elsewhere. Each is read into a
:class:`StrValue`: an ordered list of :class:`Piece` s, each either verbatim source text (its byte offset
known, so every character maps back to the file), generated text (a decoded escape, a column list rendered
from a row object) pinned to the byte that produced it, or a *hole* (a value unknown statically), which the
candidate holds as a parseable ``guard_hole_<n>`` identifier exactly like the Python front-end's holes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from guard.model import HOLE_PREFIX, SqlCandidate
from guard.scan.frontends.javascript.source import JsSource

#: Lower-case words one of which a statement must hold to be worth parsing as SQL (writes and DDL).
SQL_WORDS: tuple[bytes, ...] = (b"insert", b"copy", b"create", b"alter", b"drop", b"merge", b"upsert")
#: Words that make a string worth following outward: it may be the tail of a statement built with ``+``.
PIECE_WORDS: tuple[bytes, ...] = (*SQL_WORDS, b"values")
#: Decoded JavaScript escape sequences (the rest are ``\uXXXX``, ``\xXX``, line continuations, identity).
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


#: Keyword prefilters (not SQL parsing: whether a string is worth handing to the SQL parser at all).
_SEARCHERS: dict[tuple[bytes, ...], re.Pattern[bytes]] = {
    words: re.compile(b"|".join(re.escape(word) for word in words), re.IGNORECASE) for words in (SQL_WORDS, PIECE_WORDS)
}


def may_be_sql(raw: bytes, words: tuple[bytes, ...] = SQL_WORDS, start: int = 0, end: int | None = None) -> bool:
    """Whether ``raw[start:end]`` mentions one of ``words`` (case-insensitive)."""
    return _SEARCHERS[words].search(raw, start, len(raw) if end is None else end) is not None


@dataclass(frozen=True)
class Piece:
    """Text at byte ``byte`` of ``source``; ``verbatim`` when the text is the source's own characters."""

    text: str
    source: JsSource
    byte: int
    verbatim: bool = True
    hole: bool = False


@dataclass(frozen=True)
class StrValue:
    pieces: tuple[Piece, ...]
    origin: str = "literal"  # "literal" | "template" | "concat" | "constant" | "tagged"
    dynamic: bool = False

    @property
    def text(self) -> str:
        return "".join(HOLE_PREFIX if p.hole else p.text for p in self.pieces)

    def plain(self) -> str | None:
        """The value as a Python string when it has no hole."""
        return None if self.dynamic else "".join(p.text for p in self.pieces)

    def with_origin(self, origin: str) -> StrValue:
        return StrValue(self.pieces, origin, self.dynamic)


def text_value(text: str, source: JsSource, byte: int, origin: str = "literal") -> StrValue:
    """Generated text (not the source's characters) located at ``byte``."""
    return StrValue((Piece(text, source, byte, verbatim=False),), origin)


def hole_value(source: JsSource, byte: int) -> StrValue:
    return StrValue((Piece("", source, byte, verbatim=False, hole=True),), "literal", dynamic=True)


def join(values: list[StrValue], origin: str) -> StrValue:
    pieces = tuple(piece for value in values for piece in value.pieces)
    return StrValue(pieces, origin, any(value.dynamic for value in values))


def decode_escape(sequence: str) -> str:
    """One JavaScript escape sequence (``\\n``, ``\\x41``, ``\\u{1F600}``, ``\\'``...) as the text it denotes."""
    body = sequence[1:]
    if not body or body[0] in "\r\n\u2028\u2029":
        return ""  # line continuation
    if body[0] in _ESCAPES and (body[0] != "0" or len(body) == 1):
        return _ESCAPES[body[0]]
    try:
        if body[0] == "x" and len(body) == 3:
            return chr(int(body[1:], 16))
        if body[0] == "u":
            digits = body[2:-1] if body.startswith("u{") else body[1:]
            return chr(int(digits, 16))
    except ValueError:
        return body
    return body


def render_value(value: StrValue, relpath: str, context: str) -> SqlCandidate:
    """The candidate the SQL parse stage reads: holes numbered, every offset mapped to a file position."""
    texts: list[str] = []
    starts: list[tuple[int, int, int]] = []
    offset = 0
    holes = 0
    for piece in value.pieces:
        text = f"{HOLE_PREFIX}{holes}" if piece.hole else piece.text
        holes += piece.hole
        if text:
            line, column = piece.source.position(piece.byte)
            if not starts or not _continues(starts[-1], texts, offset, line, column):
                starts.append((offset, line, column))
            texts.append(text)
            offset += len(text)
    first = starts[0] if starts else (0, 1, 1)
    return SqlCandidate(
        relpath=relpath,
        line=first[1],
        column=first[2],
        text="".join(texts),
        origin=value.origin,
        line_starts=tuple(starts),
        dynamic=value.dynamic or holes > 0,
        context=context,
    )


def _continues(entry: tuple[int, int, int], texts: list[str], offset: int, line: int, column: int) -> bool:
    """Whether text placed at ``offset`` already sits where the previous entry's text leads (no new entry)."""
    base, base_line, base_column = entry
    run = "".join(texts)[base:offset]
    newlines = run.count("\n")
    if newlines:
        return (base_line + newlines, len(run) - run.rfind("\n")) == (line, column)
    return (base_line, base_column + len(run)) == (line, column)
