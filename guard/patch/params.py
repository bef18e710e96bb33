"""Find the parameter placeholders of a SQL string and make the string parseable.

Drivers mark parameters in styles Postgres itself does not parse (``%s``, ``%(name)s``, ``:name``,
``{}`` of ``sql.SQL``, ``?``). We find them with Postgres' own lexer (so text inside quotes, comments
and dollar-quoted bodies is never mistaken for a placeholder) and replace each one with an identifier
of exactly the same length. Same length matters: every offset pglast reports on the normalized text
is then an offset into the original, which is what span edits need.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from pglast import parser

from guard.scan.sql.placeholders import placeholder_spans


class ParamStyle(str, enum.Enum):
    """How a statement marks its parameters; decides the placeholder ``guard patch`` adds."""

    FORMAT = "format"  # %s (psycopg, psycopg2)
    PYFORMAT = "pyformat"  # %(name)s
    NUMERIC = "numeric"  # $1 (asyncpg, server-side)
    NAMED = "named"  # :name (SQLAlchemy text())
    QMARK = "qmark"  # ?
    BRACE = "brace"  # {} / {name} fields of a str.format / sql.SQL template
    NONE = "none"  # no parameters at all

    @property
    def positional(self) -> bool:
        return self in (ParamStyle.FORMAT, ParamStyle.NUMERIC, ParamStyle.QMARK, ParamStyle.BRACE)


@dataclass(frozen=True)
class SqlToken:
    """A lexer token; ``end`` is exclusive (pglast's scanner reports it inclusive)."""

    start: int
    end: int
    name: str
    text: str


@dataclass(frozen=True)
class Placeholder:
    start: int
    end: int
    style: ParamStyle
    name: str | None = None  # %(name)s, :name, {name}
    number: int | None = None  # $n


class LexError(ValueError):
    """The text does not even lex as SQL (an unterminated quote or comment)."""


def tokenize_sql(sql: str) -> list[SqlToken]:
    """Postgres' own scanner; offsets are character offsets into ``sql``."""
    try:
        tokens = parser.scan(sql)
    except parser.ParseError as exc:
        raise LexError(str(exc)) from None
    return [SqlToken(t.start, t.end + 1, t.name, sql[t.start : t.end + 1]) for t in tokens]


def dollar_body(tok: SqlToken) -> tuple[int, str] | None:
    """For a ``$tag$ ... $tag$`` string token: (offset of the body, the body); None for other tokens."""
    if tok.name != "SCONST" or not tok.text.startswith("$"):
        return None
    tag = tok.text[: tok.text.index("$", 1) + 1]
    return tok.start + len(tag), tok.text[len(tag) : len(tok.text) - len(tag)]


def placeholder_tokens(sql: str, tokens: list[SqlToken]) -> list[Placeholder]:
    """Placeholders of ``sql`` in source order.

    Driver styles (``%s``, ``%(name)s``, ``:name``, ``?``) come from the scanner's
    :func:`guard.scan.sql.placeholders.placeholder_spans`, so patch and scan agree on what is a parameter (not an
    array slice ``a[1:n]``, not the jsonb ``?`` operator, not a ``::`` cast). Native ``$n`` parameters and the
    ``{}`` fields of ``sql.SQL``/``str.format`` templates are read from ``tokens`` here.
    """
    found = [p for start, end, _ in placeholder_spans(sql, parser.scan(sql)) if (p := _classify(sql, start, end))]
    i = 0
    while i < len(tokens):
        match = _native_or_brace_at(tokens, i)
        if match is None:
            i += 1
            continue
        placeholder, width = match
        found.append(placeholder)
        i += width
    return sorted(found, key=lambda p: p.start)


def _classify(sql: str, start: int, end: int) -> Placeholder | None:
    """The style of a driver placeholder span; None for the ``%%`` escape."""
    text = sql[start:end]
    if text.startswith("%("):
        return Placeholder(start, end, ParamStyle.PYFORMAT, name=text[2 : text.index(")")])
    if text == "%%":
        return None
    if text.startswith("%"):
        return Placeholder(start, end, ParamStyle.FORMAT)
    if text.startswith(":"):
        return Placeholder(start, end, ParamStyle.NAMED, name=text[1:].strip("'\""))
    return Placeholder(start, end, ParamStyle.QMARK)


def _adjacent(tokens: list[SqlToken], i: int, texts: tuple[str, ...]) -> bool:
    """Tokens i.. touch each other and have the given texts."""
    if i + len(texts) > len(tokens):
        return False
    for k, expected in enumerate(texts):
        tok = tokens[i + k]
        if (k and tokens[i + k - 1].end != tok.start) or tok.text != expected:
            return False
    return True


def _native_or_brace_at(tokens: list[SqlToken], i: int) -> tuple[Placeholder, int] | None:
    tok = tokens[i]
    if tok.name == "PARAM":
        return Placeholder(tok.start, tok.end, ParamStyle.NUMERIC, number=int(tok.text[1:])), 1
    if tok.text == "{":
        if _adjacent(tokens, i, ("{", "}")):
            return Placeholder(tok.start, tokens[i + 1].end, ParamStyle.BRACE), 2
        if i + 2 < len(tokens) and _adjacent(tokens, i, ("{", tokens[i + 1].text, "}")):
            return Placeholder(tok.start, tokens[i + 2].end, ParamStyle.BRACE, name=tokens[i + 1].text), 3
    return None


def statement_style(placeholders: list[Placeholder]) -> ParamStyle:
    """The one style a statement uses; mixed styles are reported by the caller as unfixable."""
    styles = {p.style for p in placeholders}
    if not styles:
        return ParamStyle.NONE
    if len(styles) == 1:
        return styles.pop()
    # sql.SQL templates mix {} for identifiers with %s for values: the value style wins.
    value_styles = styles - {ParamStyle.BRACE}
    if len(value_styles) == 1:
        return value_styles.pop()
    raise ValueError("the statement mixes placeholder styles: " + ", ".join(sorted(s.value for s in styles)))


def normalize(sql: str, placeholders: list[Placeholder]) -> str:
    """``sql`` with every placeholder replaced by a same-length identifier, so pglast can parse it."""
    out: list[str] = []
    last = 0
    for p in placeholders:
        out.append(sql[last : p.start])
        out.append("x" * (p.end - p.start))
        last = p.end
    out.append(sql[last:])
    return "".join(out)
