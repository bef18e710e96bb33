"""SQL in tagged templates: postgres.js ``sql`…```, ``@vercel/postgres`` ``sql`…```, slonik ``sql.type(T)`…```
and ``sql.fragment``, Prisma ``$executeRaw`…```/``$queryRaw`…```/``Prisma.sql`…```.

In a tagged template ``${value}`` is a bound parameter, not text: it becomes a hole (a value the statement
parses around). Some substitutions are SQL text instead, rendered here:

- postgres.js helpers: ``${sql('titan.jobs')}`` (an identifier), ``${sql(rows, 'a', 'b')}`` and
  ``${sql(row)}`` after ``INSERT INTO t`` (a column list and VALUES: the named columns, else the row
  object's keys), ``${sql(row, 'a')}`` after ``UPDATE t SET``;
- slonik ``${sql.identifier(['titan', 'jobs'])}``; Prisma ``${Prisma.raw('…')}``.

A helper whose rows cannot be read renders a hole where the column list goes, so the write is reported
as dynamic (GRD004) against its table instead of being dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from guard.scan.frontends.javascript.context import Found, JsContext, call_parts, template_tag
from guard.scan.frontends.javascript.evaluate import Evaluator
from guard.scan.frontends.javascript.rows import row_keys
from guard.scan.frontends.javascript.values import SQL_WORDS, StrValue, hole_value, join, may_be_sql, text_value

if TYPE_CHECKING:
    from tree_sitter import Node

ANCHORS = SQL_WORDS
_RAW_TAGS = frozenset({"String.raw"})


def extract(ctx: JsContext) -> None:
    for template in ctx.source.nodes("template_string"):
        tagged = template_tag(template)
        if tagged is None or not may_be_sql(ctx.source.data, SQL_WORDS, template.start_byte, template.end_byte):
            continue
        tag_node, call = tagged
        tag = ctx.text(tag_node)
        if tag in _RAW_TAGS:
            value = ctx.ev.template(template)
        else:
            value = ctx.ev.template(template, tag=_base_tag(tag), render=render_substitution)
        if may_be_sql(value.text.encode()):
            ctx.found.append(Found(value, f"{_short(tag)}``", call))


def _base_tag(tag: str) -> str:
    """``sql.type(Job)`` -> ``sql``; ``prisma.$executeRaw`` stays as written."""
    head = tag.split("(", 1)[0]
    return head[: -len(".type")] if head.endswith(".type") else head


def _short(tag: str) -> str:
    return tag if len(tag) <= 40 else tag[:37] + "..."


def render_substitution(ev: Evaluator, tag: str, expression: Node, before: str) -> StrValue | None:
    """SQL text for a helper substitution; None when ``${…}`` is a bound parameter (the caller makes a hole)."""
    if expression.type != "call_expression":
        return None
    callee, receiver, method, args = call_parts(expression)
    callee_text = ev.source.text(callee) if callee is not None else ""
    at = expression.start_byte
    if callee_text == tag:
        return _postgres_helper(ev, args, before, at)
    if method == "identifier" and receiver is not None and args:
        names = ev.string_list(args[0])
        return text_value(".".join(_quote(n) for n in names), ev.source, at) if names else None
    if callee_text.endswith("Prisma.raw") and args:
        return ev.string(args[0])
    return None


def _postgres_helper(ev: Evaluator, args: list[Node], before: str, at: int) -> StrValue | None:
    if not args:
        return None
    position = _clause(before)
    name = ev.string(args[0]) if len(args) == 1 else None
    if name is not None and name.plain() is not None and position != "insert":  # sql('titan.jobs')
        return text_value(".".join(_quote(part) for part in (name.plain() or "").split(".")), ev.source, at)
    if position not in ("insert", "set"):
        return None
    columns = _explicit_columns(ev, args[1:]) if len(args) > 1 else row_keys(ev, args[0])
    if columns is None:
        if position == "insert":  # unknown row shape: a dynamic column list, reported for review
            return join(
                [
                    text_value("(", ev.source, at),
                    hole_value(ev.source, at),
                    text_value(") VALUES (", ev.source, at),
                    hole_value(ev.source, at),
                    text_value(")", ev.source, at),
                ],
                "tagged",
            )
        return None
    if position == "set":
        pieces: list[StrValue] = []
        for index, column in enumerate(columns):
            pieces.append(text_value(("" if index == 0 else ", ") + f"{_quote(column)} = ", ev.source, at))
            pieces.append(hole_value(ev.source, at))
        return join(pieces, "tagged") if pieces else None
    listed = ", ".join(_quote(column) for column in columns)
    pieces = [text_value(f"({listed}) VALUES (", ev.source, at)]
    for index, _column in enumerate(columns):
        if index:
            pieces.append(text_value(", ", ev.source, at))
        pieces.append(hole_value(ev.source, at))
    pieces.append(text_value(")", ev.source, at))
    return join(pieces, "tagged")


def _explicit_columns(ev: Evaluator, args: list[Node]) -> tuple[str, ...] | None:
    names: list[str] = []
    for arg in args:
        strings = ev.string_list(arg)
        if strings is None:
            return None
        names.extend(strings)
    return tuple(names)


def _clause(before: str) -> str:
    """Which clause a substitution continues: "into" (names the table), "insert" (after ``INSERT INTO name``),
    "set", "values", ... or "" (unknown)."""
    from pglast.parser import scan  # as in the SQL stage: pglast loads only when SQL is actually read

    try:
        tokens = scan(before)
    except Exception:
        return ""
    if tokens and tokens[-1].name == "INTO":
        return "into"  # INSERT INTO ${sql('t')}: the helper names the table
    for token in reversed(tokens):
        name = token.name
        if name in ("INSERT", "INTO"):
            return "insert"
        if name in ("SET", "VALUES", "WHERE", "SELECT", "RETURNING", "FROM"):
            return name.lower()
    return ""


def _quote(name: str) -> str:
    simple = name.replace("_", "a").isalnum() and name[:1].isalpha() and name == name.lower()
    return name if simple else '"' + name.replace('"', '""') + '"'
