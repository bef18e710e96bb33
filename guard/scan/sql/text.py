"""SQL text as Postgres' scanner sees it: tokens, statement boundaries, expression spans, offset mapping.

The parser (``pglast``) tells where nodes *start*; to quote an expression as written (``now() AT TIME ZONE
'utc'``) or find where a statement ends we walk the scanner's tokens, which already know about string
literals, dollar quotes, comments and operators.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from guard.model import HOLE_PREFIX, SqlCandidate

_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_COMMENTS = frozenset({"SQL_COMMENT", "C_COMMENT"})
_OPEN = frozenset({"ASCII_40", "ASCII_91"})  # ( [
_CLOSE = frozenset({"ASCII_41", "ASCII_93"})  # ) ]
COMMA = "ASCII_44"
SEMICOLON = "ASCII_59"
OPEN_PAREN = "ASCII_40"
_EXPRESSION_ENDS = frozenset({COMMA, SEMICOLON})
_STATEMENT_ENDS = frozenset({SEMICOLON})


class SqlText:
    """A text and its scanner tokens (comments dropped), scanned on first use.

    Scanning is the costliest step after parsing, and most statements of a schema file (``ALTER ... OWNER``,
    ``CREATE INDEX``) never need their tokens, so nothing is scanned until :attr:`tokens` is read.

    When the scanner gives up part-way (an unterminated quote), ``tokens`` covers the text before the problem
    and ``scan_error`` says what and where, so the statements before it can still be read.
    """

    def __init__(self, text: str, tokens: list[Any] | None = None) -> None:
        """``tokens``: the text's comment-free tokens, when already known."""
        self.text = text
        self._tokens = tokens
        self._starts: list[int] | None = None
        self._scan_error: tuple[str, int] | None = None
        self._is_ascii = text.isascii()
        self._encoded: bytes | None = None
        # Known (byte, character) offset pairs, so conversions only decode what lies past the last one.
        self._cursor = (0, 0)
        self._char_cursor = (0, 0)

    @property
    def tokens(self) -> list[Any]:
        if self._tokens is None:
            self._tokens = self._scan(self.text)
        return self._tokens

    @property
    def starts(self) -> list[int]:
        if self._starts is None:
            self._starts = [token.start for token in self.tokens]
        return self._starts

    @property
    def scan_error(self) -> tuple[str, int] | None:
        _ = self.tokens
        return self._scan_error

    @scan_error.setter
    def scan_error(self, value: tuple[str, int] | None) -> None:
        self._scan_error = value

    def _scan(self, text: str) -> list[Any]:
        from pglast.parser import scan

        if not self._is_ascii:
            # pglast's scanner converts each token's byte offsets to characters from the start of the text,
            # which is quadratic on long non-ASCII texts. Outside literals and comments a non-ASCII character
            # can only be part of an identifier, as "x" is, so the ASCII copy has the very same tokens.
            text = _NON_ASCII.sub("x", text)
        try:
            raw = scan(text)
        except Exception as exc:
            reason, where = error_details(exc, len(text))
            self._scan_error = (reason, where)
            try:
                raw = scan(text[:where])
            except Exception:
                raw = []
        return [token for token in raw if token.name not in _COMMENTS]

    def char(self, byte_offset: int) -> int:
        """Character offset of a UTF-8 byte offset (pglast's JSON locations count bytes)."""
        if self._is_ascii:
            return byte_offset
        if self._encoded is None:
            self._encoded = self.text.encode("utf-8", "surrogatepass")
        byte_offset = min(max(byte_offset, 0), len(self._encoded))
        known_byte, known_char = self._cursor
        if byte_offset < known_byte:  # walking back: start over (rare; statements come in order)
            known_byte, known_char = 0, 0
        chunk = self._encoded[known_byte:byte_offset]
        char_offset = known_char + len(chunk.decode("utf-8", "replace"))
        self._cursor = (byte_offset, char_offset)
        return char_offset

    def byte(self, char_offset: int) -> int:
        """UTF-8 byte offset of a character offset (inverse of :meth:`char`)."""
        if self._is_ascii:
            return char_offset
        known_char, known_byte = self._char_cursor
        if char_offset < known_char:
            known_char, known_byte = 0, 0
        byte_offset = known_byte + len(self.text[known_char:char_offset].encode("utf-8", "surrogatepass"))
        self._char_cursor = (char_offset, byte_offset)
        return byte_offset

    def index_at(self, offset: int) -> int:
        """Index of the first token starting at or after ``offset`` (``len(tokens)`` if none)."""
        return bisect.bisect_left(self.starts, offset)

    def word(self, index: int) -> str:
        token = self.tokens[index]
        return self.text[token.start : token.end + 1]

    def last_named(self, name: str, before: int, first: int = 0) -> int | None:
        """Index of the last token called ``name`` (``INSERT``, ``COPY``...) starting before offset ``before``."""
        index = self.index_at(before) - 1
        while index >= first:
            if self.tokens[index].name == name:
                return index
            index -= 1
        return None

    def expression_end(self, index: int, stop: frozenset[str] = frozenset(), limit: int | None = None) -> int:
        """Index of the last token of the expression starting at token ``index``.

        The expression ends before a ``,``, ``;`` or closing bracket at its own nesting level, or before a
        token named in ``stop`` (``FROM``, ``AS``, ``NOT``...) at that level.
        """
        return self._end(index, stop | _EXPRESSION_ENDS, limit)

    def statement_end(self, index: int, limit: int | None = None) -> int:
        """Index of the last token of a statement nested in brackets (a CTE body) starting at ``index``."""
        return self._end(index, _STATEMENT_ENDS, limit)

    def _end(self, index: int, ends: frozenset[str], limit: int | None) -> int:
        """Last token before a token in ``ends`` at nesting level 0, or before the bracket closing that level."""
        end = len(self.tokens) if limit is None else min(limit + 1, len(self.tokens))
        depth = 0
        last = index
        for position in range(index, end):
            name = self.tokens[position].name
            if name in _OPEN:
                depth += 1
            elif name in _CLOSE:
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and name in ends:
                break
            last = position
        return last

    def split_at_semicolons(self, first: int, last: int) -> list[tuple[int, int]]:
        """Token ranges of ``first..last`` split at *every* ``;``: recovery when brackets are unbalanced."""
        spans: list[tuple[int, int]] = []
        start = first
        for index in range(first, last + 1):
            if self.tokens[index].name == SEMICOLON:
                if index > start:
                    spans.append((start, index - 1))
                start = index + 1
        if start <= last:
            spans.append((start, last))
        return spans

    def statements(self) -> Iterator[tuple[int, int]]:
        """``(first, last)`` token indexes of each statement, split at top-level ``;``.

        Semicolons inside brackets (``CREATE RULE ... (a; b)``) and inside SQL-standard ``BEGIN ATOMIC ... END``
        function bodies do not end a statement.
        """
        tokens = self.tokens
        depth = atomic = cases = 0
        first: int | None = None
        for index, token in enumerate(tokens):
            name = token.name
            if name == SEMICOLON and depth == 0 and atomic == 0:
                if first is not None:
                    yield first, index - 1
                first = None
                continue
            if first is None:
                first = index
            if name in _OPEN:
                depth += 1
            elif name in _CLOSE:
                depth = max(depth - 1, 0)
            elif name == "ATOMIC" and index and tokens[index - 1].name == "BEGIN_P":
                atomic += 1
            elif atomic and name == "CASE":
                cases += 1
            elif atomic and name == "END_P":
                if cases:
                    cases -= 1
                else:
                    atomic -= 1
        if first is not None:
            yield first, len(tokens) - 1


class Locator:
    """File positions of offsets in a candidate's text, as :meth:`SqlCandidate.position` computes them.

    ``SqlCandidate.position`` counts newlines from the start of its segment on every call, which is
    quadratic over a large ``.sql`` file with many statements; this keeps the newline offsets sorted once
    and answers each query with a binary search.
    """

    def __init__(self, candidate: SqlCandidate) -> None:
        text = candidate.text
        self._starts = candidate.line_starts or ((0, candidate.line, candidate.column),)
        self._segment_offsets = [entry[0] for entry in self._starts]
        newlines: list[int] = []
        position = text.find("\n")
        while position >= 0:
            newlines.append(position)
            position = text.find("\n", position + 1)
        self._newlines = newlines

    def position(self, offset: int) -> tuple[int, int]:
        segment = max(bisect.bisect_right(self._segment_offsets, offset) - 1, 0)
        base, line, column = self._starts[segment]
        if offset < base:
            return line, column + (offset - base)
        first_newline = bisect.bisect_left(self._newlines, base)
        after_last = bisect.bisect_left(self._newlines, offset)
        newlines = after_last - first_newline
        if newlines:
            return line + newlines, offset - self._newlines[after_last - 1]
        return line, column + (offset - base)


@dataclass
class Unit:
    """A piece of SQL being parsed and how its offsets map back to the candidate the user wrote.

    ``sql`` is the text after placeholder rewriting; ``to_source`` maps its offsets to offsets in
    ``candidate.text``. Function bodies and dynamic ``EXECUTE`` strings become units of their own whose
    ``to_source`` goes through the enclosing unit, so a line inside a body is the line in the file.
    """

    sql: SqlText
    to_source: Callable[[int], int]
    candidate: SqlCandidate
    locator: Locator
    origin: str
    context: str

    def position(self, offset: int) -> tuple[int, int]:
        return self.locator.position(self.to_source(offset))

    def line(self, offset: int) -> int:
        return self.position(offset)[0]

    def source(self, start: int, end: int) -> str:
        """The candidate's original text for ``[start, end)`` of this unit's text."""
        return self.candidate.text[self.to_source(start) : self.to_source(end)]

    def source_tokens(self, first: int, last: int) -> str:
        """Original text from token ``first`` through token ``last``."""
        tokens = self.sql.tokens
        return self.source(tokens[first].start, tokens[last].end + 1)


def error_details(exc: Exception, length: int) -> tuple[str, int]:
    """``(reason, offset)`` of a pglast ``ParseError`` (offset clamped into the text)."""
    args: tuple[Any, ...] = getattr(exc, "args", ())
    reason = str(args[0]) if args else str(exc)
    where = args[1] if len(args) > 1 and isinstance(args[1], int) else 0
    return reason, min(max(where, 0), length)


@dataclass
class Statement:
    """One top-level statement of a unit: its parse tree and where it is.

    ``start``/``stop`` delimit the statement in ``unit.sql.text`` (first token to just past the last one, no
    ``;``); ``first``/``last`` are the same as token indexes, computed (and the text scanned) only when asked.
    ``byte_base`` is the UTF-8 offset in ``unit.sql.text`` of the text that was handed to the parser (negative
    when the unit is the statement cut out of a larger parsed text), since pglast's locations count bytes.
    """

    unit: Unit
    kind: str  # the node type: "InsertStmt", "CreateStmt", ...
    node: dict[str, Any]
    start: int
    stop: int
    byte_base: int = 0

    @functools.cached_property
    def first(self) -> int:
        return self.unit.sql.index_at(self.start)

    @functools.cached_property
    def last(self) -> int:
        return max(self.unit.sql.index_at(self.stop) - 1, self.first)

    def char(self, location: int) -> int:
        """Offset in ``unit.sql.text`` of a pglast location."""
        return self.unit.sql.char(self.byte_base + location)

    def line(self) -> int:
        return self.unit.line(self.start)

    def text(self) -> str:
        """The statement as handed to the parser (placeholders rewritten)."""
        return self.unit.sql.text[self.start : self.stop]


def min_location(node: Any) -> int | None:
    """Smallest ``location`` in a parse-tree subtree: where the expression's first token is (roughly)."""
    best: int | None = None
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key == "location" and isinstance(value, int):
                    if value >= 0 and (best is None or value < best):
                        best = value
                elif isinstance(value, (dict, list)):
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return best


def relation_name(range_var: dict[str, Any]) -> str:
    """``schema.table`` as written (already case-folded by the parser), or just ``table``."""
    schema = range_var.get("schemaname")
    name = range_var.get("relname", "")
    return f"{schema}.{name}" if schema else name


def string_values(items: list[Any] | None) -> list[str]:
    """The ``sval`` of each ``String`` node of a list (names, column lists)."""
    return [item["String"].get("sval", "") for item in items or () if "String" in item]


def names_a_hole(table: str | None, columns: Iterable[str] | None) -> bool:
    """Whether the target or a listed column is a value only known at run time (an extractor hole):
    the write is dynamic SQL, whichever parser read it."""
    return bool(table and HOLE_PREFIX in table) or any(HOLE_PREFIX in column for column in columns or ())
