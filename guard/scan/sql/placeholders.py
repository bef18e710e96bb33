"""Turn driver placeholders into something the Postgres parser accepts, and remember where they were.

Application code hands SQL to drivers in several parameter styles: ``%s``/``%(name)s`` (psycopg, pyformat),
``:name`` (SQLAlchemy ``text()``, psql variables), ``?`` (qmark), ``$1`` (asyncpg, already Postgres syntax).
Postgres' own grammar only knows ``$n``, so before parsing every placeholder is rewritten to ``$n``. A
``str.format`` field left in a plain string (``"INSERT INTO {table} ..."`` formatted in another function) is a
value only known at run time: it becomes a hole identifier, like an f-string's field.

The rewrite works on the tokens of Postgres' scanner (``pglast.parser.scan``), never on raw text, so a ``%s``
or ``:name`` inside a string literal, a comment or a dollar-quoted body is left alone, and ``::`` casts, ``:=``
and array slices ``a[1:n]`` are not mistaken for placeholders. Rewriting changes lengths, so the result carries
an :class:`OffsetMap` from the rewritten text back to the original: every location reported to the user is
in the original text.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from guard.model import HOLE_PREFIX

#: Comparison operators the scanner glues to a following ``?`` (``a=?`` scans as the operator ``=?``).
_COMPARISON_PREFIXES = frozenset({"=", "<", ">", "<=", ">=", "<>", "!="})
#: Tokens after which a ``?`` is a value (a placeholder) rather than the jsonb "key exists" operator.
_VALUE_STARTERS = frozenset(
    {
        "ASCII_40",
        "ASCII_44",
        "ASCII_61",
        "ASCII_60",
        "ASCII_62",
        "Op",
        "LESS_EQUALS",
        "GREATER_EQUALS",
        "NOT_EQUALS",
        "ASCII_91",
    }
)
#: Keywords that may name a column (so are not reserved) yet are followed by a value.
_VALUE_KEYWORDS = frozenset({"VALUES", "BETWEEN", "LIKE", "ILIKE", "SIMILAR", "OVERLAPS"})
#: psycopg 3 formats: %s (auto), %b (binary), %t (text).
_PYFORMAT_LETTERS = frozenset({"s", "b", "t"})


@dataclass
class OffsetMap:
    """Maps offsets in a rewritten text back to the text it was made from.

    ``segments`` holds ``(new_offset, old_offset)`` pairs in increasing order: text from ``new_offset`` on
    corresponds to text from ``old_offset`` on, until the next pair.
    """

    segments: list[tuple[int, int]] = field(default_factory=lambda: [(0, 0)])

    def __post_init__(self) -> None:
        self._news = [new for new, _ in self.segments]

    def to_old(self, offset: int) -> int:
        index = bisect.bisect_right(self._news, offset) - 1
        new_start, old_start = self.segments[max(index, 0)]
        return old_start + max(offset - new_start, 0)


@dataclass
class Rewritten:
    """The parseable text, how to map it back, and how many placeholders were rewritten."""

    text: str
    offsets: OffsetMap
    placeholders: int
    tokens: list[Any] | None = None  # scanner tokens of ``text`` when they could be derived without rescanning


def rewrite_placeholders(text: str, tokens: Sequence[Any] | None = None) -> Rewritten:
    """Rewrite every driver placeholder of ``text`` to ``$n``.

    ``tokens`` are the scanner tokens of ``text`` (pass them when already computed); when the text cannot be
    scanned at all (an unterminated quote), it is returned unchanged: the parser will then report the problem.
    """
    if "%" not in text and ":" not in text and "?" not in text and "{" not in text:
        return Rewritten(text, OffsetMap(), 0)
    if tokens is None:
        from pglast.parser import scan

        try:
            tokens = scan(text)
        except Exception:
            return Rewritten(text, OffsetMap(), 0)
    spans = placeholder_spans(text, tokens, format_fields=True)
    if not spans:
        return Rewritten(text, OffsetMap(), 0)
    pieces: list[str] = []
    segments: list[tuple[int, int]] = [(0, 0)]
    old_pos = new_pos = 0
    for number, (start, end, replacement) in enumerate(spans, start=1):
        pieces.append(text[old_pos:start])
        new_pos += start - old_pos
        param = replacement if replacement is not None else f"${number}"
        segments.append((new_pos, start))
        pieces.append(param)
        new_pos += len(param)
        segments.append((new_pos, end))
        old_pos = end
    pieces.append(text[old_pos:])
    count = sum(1 for span in spans if span[2] is None)
    new_text = "".join(pieces)
    return Rewritten(new_text, OffsetMap(segments), count, _shifted_tokens(tokens, spans, new_text))


def _shifted_tokens(tokens: Sequence[Any], spans: list[tuple[int, int, str | None]], new_text: str) -> list[Any] | None:
    """The rewritten text's tokens, derived from the original's (scanning costs more than shifting).

    Each placeholder becomes one ``PARAM`` token (``%%`` becomes the ``%`` operator). When a placeholder shares a token
    with something else (``a=?`` scans as the operator ``=?``) None is returned and the caller rescans.
    """
    from pglast.parser import Token

    shifted: list[Any] = []
    delta = 0
    span_index = 0
    position = 0
    while position < len(tokens):
        token = tokens[position]
        if span_index < len(spans) and token.end >= spans[span_index][0]:
            start, end, replacement = spans[span_index]
            if token.start != start:
                return None
            new_start = start + delta
            length = len(replacement) if replacement is not None else _param_length(new_text, new_start)
            while position < len(tokens) and tokens[position].start < end:
                if tokens[position].end >= end:
                    return None
                position += 1
            if replacement is None:
                name = "PARAM"
            elif len(replacement) == 1:
                name = f"ASCII_{ord(replacement)}"  # "%%" -> "%"
            else:
                name = "IDENT"  # a format field's hole
            shifted.append(Token(new_start, new_start + length - 1, name, "NO_KEYWORD"))
            delta += length - (end - start)
            span_index += 1
            continue
        shifted.append(token if not delta else Token(token.start + delta, token.end + delta, token.name, token.kind))
        position += 1
    return shifted


def _param_length(text: str, start: int) -> int:
    """Length of the ``$n`` written at ``start``."""
    end = start + 1
    while end < len(text) and text[end].isdigit():
        end += 1
    return end - start


def placeholder_spans(
    text: str, tokens: Sequence[Any], format_fields: bool = False
) -> list[tuple[int, int, str | None]]:
    """``(start, end, replacement)`` of each driver placeholder (end exclusive); replacement None means ``$n``.

    ``tokens`` are pglast scanner tokens of ``text``. Native ``$n`` parameters are not listed (Postgres parses
    them); ``%%`` is listed with replacement ``"%"``; with ``format_fields``, ``str.format`` fields are listed with
    a hole identifier as replacement. ``guard patch`` classifies the same spans (driver placeholders only) by
    their text.
    """
    spans: list[tuple[int, int, str | None]] = []
    bracket_depth = 0
    count = len(tokens)
    index = 0
    while index < count:
        token = tokens[index]
        name = token.name
        nxt = tokens[index + 1] if index + 1 < count else None
        if name == "ASCII_91":
            bracket_depth += 1
        elif name == "ASCII_93":
            bracket_depth = max(bracket_depth - 1, 0)
        elif name == "ASCII_37" or (name == "Op" and text[token.end] == "%"):
            consumed = _pyformat(text, tokens, index, spans)
            if consumed:
                index += consumed
                continue
        elif name == "ASCII_58" and bracket_depth == 0 and nxt is not None and nxt.start == token.end + 1:
            if _is_word(text, nxt) or text[nxt.start] in "'\"":
                spans.append((token.start, nxt.end + 1, None))
                index += 2
                continue
        elif name == "Op" and text[token.end] == "?":
            _qmark(text, tokens, index, spans)
        elif format_fields and name == "UNKNOWN" and text[token.start] == "{":
            consumed = _format_field(text, tokens, index, spans)
            if consumed:
                index += consumed
                continue
        index += 1
    return spans


def _format_field(text: str, tokens: Sequence[Any], index: int, spans: list[tuple[int, int, str | None]]) -> int:
    """Record a ``str.format``/``sql.SQL().format`` field (``{table}``, ``{}``, ``{0}``, ``{col!r}``) left in a
    plain string that is formatted elsewhere: a value known only at run time, so a hole (an identifier that
    parses where a table, column or value goes). Returns how many tokens were consumed."""
    last = min(index + 6, len(tokens) - 1)
    for close in range(index + 1, last + 1):
        if tokens[close].start != tokens[close - 1].end + 1:
            return 0  # a field name holds no blanks
        if tokens[close].name == "UNKNOWN" and text[tokens[close].start] == "}":
            inside = text[tokens[index].start + 1 : tokens[close].start]
            name = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in inside.split("!")[0].split(":")[0])
            spans.append((tokens[index].start, tokens[close].end + 1, f"{HOLE_PREFIX}fmt_{name}"))
            return close - index + 1
    return 0


def _pyformat(text: str, tokens: Sequence[Any], index: int, spans: list[tuple[int, int, str | None]]) -> int:
    """Record ``%s``, ``%(name)s`` or ``%%`` at ``tokens[index]``; return how many tokens were consumed."""
    token = tokens[index]
    op_text = text[token.start : token.end + 1]
    if op_text.endswith("%%"):
        spans.append((token.end - 1, token.end + 1, "%"))
        return 1
    percent = token.end
    following = tokens[index + 1 : index + 5]
    if following and following[0].start == percent + 1:
        first = following[0]
        word = text[first.start : first.end + 1]
        if word in _PYFORMAT_LETTERS:
            spans.append((percent, first.end + 1, None))
            return 2
        if (
            first.name == "ASCII_40"
            and len(following) == 4
            and following[2].name == "ASCII_41"
            and following[3].start == following[2].end + 1
            and text[following[3].start : following[3].end + 1] in _PYFORMAT_LETTERS
        ):
            spans.append((percent, following[3].end + 1, None))
            return 5
    return 0


def _qmark(text: str, tokens: Sequence[Any], index: int, spans: list[tuple[int, int, str | None]]) -> None:
    """Record a qmark placeholder: ``?`` alone after a value position, or glued to a comparison (``=?``)."""
    token = tokens[index]
    op_text = text[token.start : token.end + 1]
    if op_text == "?":
        previous = tokens[index - 1] if index else None
        if (
            previous is None
            or previous.name in _VALUE_STARTERS
            or previous.name in _VALUE_KEYWORDS
            or previous.kind == "RESERVED_KEYWORD"
        ):
            spans.append((token.start, token.end + 1, None))
    elif op_text[:-1] in _COMPARISON_PREFIXES:
        spans.append((token.end, token.end + 1, None))


def _is_word(text: str, token: Any) -> bool:
    first = text[token.start]
    return first.isalpha() or first == "_"
