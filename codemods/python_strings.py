"""The SQL text of a Python string expression, with a map back to the source characters.

A statement may be written as a plain literal, an implicit concatenation of literals, or an f-string
whose static parts hold the SQL. ``LiteralSql`` decodes every part (escapes, ``{{``) into the string's
runtime value and remembers, for each character of that value, where it sits inside which leaf
literal. Span edits planned on the value can then be written back into the literals as they are
quoted in the file — ``guard patch`` never re-prints a string.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import libcst as cst

from guard.model import HOLE_PREFIX
from guard.patch.sql_edit import Edit, Unfixable
from guard.scan.frontends.python.strings import escape_at

StringLeaf = cst.SimpleString | cst.FormattedStringText


@dataclass
class _Piece:
    """Characters ``[start, start + len(raw_index))`` of the value, from one leaf (None: an f-string hole)."""

    start: int
    leaf: StringLeaf | None
    raw_index: list[int] = field(default_factory=list)  # raw offset (within the leaf's .value) of each char
    raw_end: int = 0  # raw offset just after the last char
    quote: str = ""
    raw: bool = False
    fstring: bool = False


@dataclass
class LiteralSql:
    """The runtime text of a string expression (f-string holes replaced by identifiers) and its source map."""

    text: str
    pieces: list[_Piece]

    def leaf_edits(self, edits: list[Edit]) -> dict[StringLeaf, list[tuple[int, int, str]]]:
        """Translate value-offset edits into raw-offset edits per leaf literal, escaping the new text."""
        out: dict[StringLeaf, list[tuple[int, int, str]]] = {}
        for edit in edits:
            piece = self._piece_for(edit.start)
            if piece.leaf is None:
                raise Unfixable("the edit falls inside an f-string interpolation")
            if edit.end > piece.start + len(piece.raw_index):
                raise Unfixable("the edit spans two string literals")
            start = self._raw(piece, edit.start)
            end = self._raw(piece, edit.end)
            out.setdefault(piece.leaf, []).append((start, end, _escape(edit.text, piece)))
        return out

    def _piece_for(self, offset: int) -> _Piece:
        for piece in self.pieces:
            if piece.start <= offset < piece.start + len(piece.raw_index):
                return piece
        if self.pieces and offset == len(self.text):
            return self.pieces[-1]
        raise Unfixable(f"offset {offset} is outside the string")

    @staticmethod
    def _raw(piece: _Piece, offset: int) -> int:
        local = offset - piece.start
        return piece.raw_index[local] if local < len(piece.raw_index) else piece.raw_end


def _escape(text: str, piece: _Piece) -> str:
    triple = len(piece.quote) == 3
    if piece.raw:
        if piece.quote[0] in text or (not triple and "\n" in text) or "\\" in text:
            raise Unfixable("the new SQL text cannot be written into this raw string")
        return text
    escaped = text.replace("\\", "\\\\")
    if not triple:
        escaped = escaped.replace(piece.quote, "\\" + piece.quote).replace("\n", "\\n")
    if piece.fstring:
        escaped = escaped.replace("{", "{{").replace("}", "}}")
    return escaped


def sql_text(node: cst.BaseExpression) -> LiteralSql:
    """Decode a SimpleString / ConcatenatedString / FormattedString into an :class:`LiteralSql`."""
    pieces: list[_Piece] = []
    parts: list[str] = []
    holes = 0
    for leaf, quote, raw, fstring in _leaves(node):
        if leaf is None:
            marker = f"{HOLE_PREFIX}{holes}"
            holes += 1
            pieces.append(_Piece(start=sum(map(len, parts)), leaf=None, raw_index=[-1] * len(marker)))
            parts.append(marker)
            continue
        body_start, body_end = _body_bounds(leaf)
        value, index = _decode(leaf.value, body_start, body_end, raw=raw, fstring=fstring)
        pieces.append(
            _Piece(
                start=sum(map(len, parts)),
                leaf=leaf,
                raw_index=index,
                raw_end=body_end,
                quote=quote,
                raw=raw,
                fstring=fstring,
            )
        )
        parts.append(value)
    return LiteralSql("".join(parts), pieces)


def _leaves(node: cst.BaseExpression) -> Iterator[tuple[StringLeaf | None, str, bool, bool]]:
    if isinstance(node, cst.ConcatenatedString):
        yield from _leaves(node.left)
        yield from _leaves(node.right)
    elif isinstance(node, cst.SimpleString):
        prefix = node.prefix.lower()
        if "b" in prefix:
            raise Unfixable("the SQL is a bytes literal")
        yield node, node.quote, "r" in prefix, False
    elif isinstance(node, cst.FormattedString):
        prefix = node.prefix.lower()
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                yield part, node.start[len(node.prefix) :], "r" in prefix, True
            else:
                yield None, "", False, True
    elif isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        # "INSERT INTO " + TABLE + " (a, b) ...": the names are holes, like f-string interpolations.
        yield from _leaves(node.left)
        yield from _leaves(node.right)
    elif isinstance(node, cst.Name | cst.Attribute | cst.Call | cst.Subscript):
        yield None, "", False, False
    else:
        raise Unfixable(f"the SQL is built by a {type(node).__name__}, not written as a string")


def _body_bounds(leaf: StringLeaf) -> tuple[int, int]:
    if isinstance(leaf, cst.FormattedStringText):
        return 0, len(leaf.value)
    opening = len(leaf.prefix) + len(leaf.quote)
    return opening, len(leaf.value) - len(leaf.quote)


def _decode(raw_text: str, start: int, end: int, *, raw: bool, fstring: bool) -> tuple[str, list[int]]:
    """The runtime value of ``raw_text[start:end]`` and the raw offset of each value character."""
    chars: list[str] = []
    index: list[int] = []
    i = start
    while i < end:
        ch = raw_text[i]
        if fstring and ch in "{}" and raw_text[i + 1 : i + 2] == ch:
            chars.append(ch)
            index.append(i)
            i += 2
            continue
        if ch != "\\" or raw:
            chars.append(ch)
            index.append(i)
            i += 1
            continue
        decoded, width = escape_at(raw_text, i)
        for c in decoded:
            chars.append(c)
            index.append(i)
        i += width
    return "".join(chars), index


def apply_leaf_edits(leaf: StringLeaf, edits: list[tuple[int, int, str]]) -> StringLeaf:
    """Return ``leaf`` with raw-offset edits applied to its source text."""
    value = leaf.value
    for start, end, text in sorted(edits, reverse=True):
        value = value[:start] + text + value[end:]
    return leaf.with_changes(value=value)
