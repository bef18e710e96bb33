"""SQL inside routine bodies: ``CREATE FUNCTION``/``PROCEDURE`` (LANGUAGE sql and plpgsql) and ``DO`` blocks.

A body is a string constant (usually dollar-quoted). Its statements are handed back to the parser as a unit
of their own, with an offset map through the enclosing text, so a write inside a body is reported on its own
line of the file. PL/pgSQL bodies go through Postgres' PL/pgSQL parser (``pglast.parser.parse_plpgsql_json``),
which yields each embedded SQL statement (``INSERT`` in an ``IF`` branch, a loop...) and each dynamic
``EXECUTE`` expression; an ``EXECUTE`` built from string literals is rebuilt with holes for the parts that
are only known at run time (``quote_ident(t)``, ``format``'s ``%I``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from guard.model import HOLE_PREFIX, Diagnostic
from guard.scan.sql.placeholders import OffsetMap
from guard.scan.sql.text import SqlText, Statement, error_details, string_values

#: Backslash escapes of ``E'...'`` strings that stand for whitespace (others stand for the character itself).
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}

#: Parse a piece of SQL: (text, map from its offsets to the candidate's text, origin, context).
ParseUnit = Callable[[str, Callable[[int], int], str, str], None]


def routine_label(statement: Statement) -> str:
    """``function titan.sync_jobs()`` / ``procedure p()`` / ``DO block``: where a body's writes live."""
    if statement.kind == "DoStmt":
        return "DO block"
    name = ".".join(string_values(statement.node.get("funcname")))
    return f"{'procedure' if statement.node.get('is_procedure') else 'function'} {name}()"


def parse_body(statement: Statement, parse_unit: ParseUnit) -> list[Diagnostic]:
    """Parse the body of a ``CreateFunctionStmt``/``DoStmt`` statement; diagnostics for bodies we cannot read."""
    options = statement.node.get("args" if statement.kind == "DoStmt" else "options", [])
    language = "plpgsql" if statement.kind == "DoStmt" else "sql"
    body_option: dict[str, Any] | None = None
    for wrapper in options:
        option = wrapper.get("DefElem", {})
        if option.get("defname") == "language":
            language = option.get("arg", {}).get("String", {}).get("sval", language).lower()
        elif option.get("defname") == "as":
            body_option = option
    if body_option is None:
        return []  # BEGIN ATOMIC bodies are part of the parse tree already
    literal = _body_literal(statement, body_option)
    if literal is None:
        return []
    content, to_source = literal
    label = routine_label(statement)
    if language == "sql":
        parse_unit(content, to_source, statement.unit.origin, label)
        return []
    if language == "plpgsql":
        return _plpgsql(statement, content, to_source, label, parse_unit)
    return []


def _body_literal(statement: Statement, option: dict[str, Any]) -> tuple[str, Callable[[int], int]] | None:
    """The body string and a map from its offsets to the candidate's text (via the string token)."""
    location = option.get("arg_location", -1)
    if location is None or location < 0:
        return None
    sql = statement.unit.sql
    index = sql.index_at(statement.char(location))
    if index >= len(sql.tokens) or sql.tokens[index].name != "SCONST":
        return None
    token = sql.tokens[index]
    content, offsets = literal_content(sql.text[token.start : token.end + 1])
    return content, _through(offsets, _shifted(statement.unit.to_source, token.start))


def literal_content(literal: str) -> tuple[str, OffsetMap]:
    """The value of a string constant token and a map from value offsets to offsets in the token.

    Handles dollar quotes (``$fn$...$fn$``), standard strings (``'it''s'``) and escape strings (``E'\\n'``).
    """
    if literal.startswith("$"):
        tag_end = literal.index("$", 1) + 1
        return literal[tag_end : len(literal) - tag_end], OffsetMap([(0, tag_end)])
    escape = literal[:1] in ("e", "E")
    body_start = literal.index("'") + 1
    pieces: list[str] = []
    segments = [(0, body_start)]
    position = body_start
    end = len(literal) - 1
    while position < end:
        character = literal[position]
        if character == "'" or (escape and character == "\\"):
            escaped = literal[position + 1] if position + 1 < end else ""
            pieces.append(_ESCAPES.get(escaped, escaped) if character == "\\" else escaped)
            position += 2
            segments.append((len(pieces), position))
            continue
        pieces.append(character)
        position += 1
    return "".join(pieces), OffsetMap(segments)


def _plpgsql(
    statement: Statement, body: str, to_source: Callable[[int], int], label: str, parse_unit: ParseUnit
) -> list[Diagnostic]:
    from pglast.parser import parse_plpgsql_json

    unit = statement.unit
    try:
        tree = json.loads(parse_plpgsql_json(statement.text()))
    except Exception as exc:
        reason, _ = error_details(exc, 0)
        line = statement.line()
        writes = {"INSERT", "COPY", "MERGE"} & {token.name for token in SqlText(body).tokens}
        lost = ", so a write may be lost here" if writes else ""
        message = f"cannot parse the PL/pgSQL body of {label}{lost}: {reason}"
        return [Diagnostic(unit.candidate.relpath, line, "unparsed-sql", message, "PL/pgSQL body", bool(writes))]
    line_starts = _line_starts(body)
    for kind, query, lineno in _embedded_sql(tree):
        to_query = _shifted(to_source, max(_find(body, query, line_starts, lineno), 0))
        if kind == "static":
            parse_unit(query, to_query, "plpgsql", label)
            continue
        rebuilt = dynamic_sql(query)
        if rebuilt is not None:
            text, offsets = rebuilt
            parse_unit(text, _through(offsets, to_query), "plpgsql", f"{label} EXECUTE")
    return []


def _shifted(to_source: Callable[[int], int], base: int) -> Callable[[int], int]:
    """Offsets of a text that starts at ``base`` of the text ``to_source`` maps."""
    return lambda position: to_source(base + position)


def _through(offsets: OffsetMap, to_source: Callable[[int], int]) -> Callable[[int], int]:
    """Offsets of a rewritten text, mapped back through ``offsets`` first."""
    return lambda position: to_source(offsets.to_old(position))


def _embedded_sql(node: Any) -> Iterator[tuple[str, str, int]]:
    """``(kind, query, lineno)`` of each SQL statement ("static") or EXECUTE expression ("dynamic") in a body."""
    stack: list[Any] = [node]
    found: list[tuple[str, str, int]] = []
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        for key, value in item.items():
            if not isinstance(value, dict):
                if isinstance(value, list):
                    stack.append(value)
                continue
            lineno = value.get("lineno", 1)
            if key == "PLpgSQL_stmt_execsql":
                found.append(("static", _query(value.get("sqlstmt")), lineno))
            elif key in ("PLpgSQL_stmt_return_query", "PLpgSQL_stmt_fors") and value.get("query"):
                found.append(("static", _query(value.get("query")), lineno))
            elif key in ("PLpgSQL_stmt_dynexecute", "PLpgSQL_stmt_dynfors") and value.get("query"):
                found.append(("dynamic", _query(value.get("query")), lineno))
            elif key == "PLpgSQL_stmt_return_query" and value.get("dynquery"):
                found.append(("dynamic", _query(value.get("dynquery")), lineno))
            stack.append(value)
    found.sort(key=lambda entry: entry[2])
    yield from (entry for entry in found if entry[1])


def _query(expression: Any) -> str:
    if isinstance(expression, dict):
        return str(expression.get("PLpgSQL_expr", {}).get("query", ""))
    return ""


def _line_starts(text: str) -> list[int]:
    starts = [0]
    position = text.find("\n")
    while position >= 0:
        starts.append(position + 1)
        position = text.find("\n", position + 1)
    return starts


def _find(body: str, query: str, line_starts: list[int], lineno: int) -> int:
    """Where the PL/pgSQL parser's copy of a statement sits in the body (it copies the text verbatim)."""
    start = line_starts[min(max(lineno - 1, 0), len(line_starts) - 1)]
    offset = body.find(query, start)
    return offset if offset >= 0 else body.find(query)


def dynamic_sql(expression: str) -> tuple[str, OffsetMap] | None:
    """Rebuild the SQL an ``EXECUTE`` expression produces from its string literals, holes for the rest.

    ``'INSERT INTO ' || quote_ident(t) || ' (a) VALUES ($1)'`` becomes ``INSERT INTO guard_hole_0 (a)
    VALUES ($1)``; ``format('INSERT INTO %I ...', t)`` becomes the format string with holes for ``%I``/``%L``/
    ``%s``. Returns None when no literal is involved (``EXECUTE sql_text``): nothing can be known.
    """
    sql = SqlText(expression)
    tokens = sql.tokens
    if sql.scan_error or not tokens:
        return None
    pieces: list[str] = []
    segments: list[tuple[int, int]] = []
    holes = 0
    saw_literal = False
    for first, last in _concatenated_parts(sql):
        length = sum(len(piece) for piece in pieces)
        is_format = not (first == last and tokens[first].name == "SCONST")
        literal_index = _format_string(sql, first, last) if is_format else first
        if literal_index is None:
            segments.append((length, tokens[first].start))
            pieces.append(f"{HOLE_PREFIX}{holes}")
            holes += 1
            continue
        saw_literal = True
        token = tokens[literal_index]
        content, offsets = literal_content(expression[token.start : token.end + 1])
        if is_format:
            content, offsets, holes = _format_holes(content, offsets, holes)
        for new, old in offsets.segments:
            segments.append((length + new, token.start + old))
        pieces.append(content)
    if not saw_literal:
        return None
    return "".join(pieces), OffsetMap(segments or [(0, 0)])


def _concatenated_parts(sql: SqlText) -> Iterator[tuple[int, int]]:
    """Token ranges of the operands of top-level ``||`` in an expression."""
    depth = 0
    first = 0
    for index, token in enumerate(sql.tokens):
        if token.name in ("ASCII_40", "ASCII_91"):
            depth += 1
        elif token.name in ("ASCII_41", "ASCII_93"):
            depth -= 1
        elif depth == 0 and token.name == "Op" and sql.word(index) == "||":
            yield first, index - 1
            first = index + 1
    yield first, len(sql.tokens) - 1


def _format_string(sql: SqlText, first: int, last: int) -> int | None:
    """Index of the format string of a ``format('...', ...)`` call spanning ``first..last``."""
    is_call = last - first >= 2 and sql.word(first).lower() == "format" and sql.tokens[first + 1].name == "ASCII_40"
    return first + 2 if is_call and sql.tokens[first + 2].name == "SCONST" else None


def _format_holes(content: str, offsets: OffsetMap, holes: int) -> tuple[str, OffsetMap, int]:
    """Replace ``format()`` specifiers (``%I``, ``%L``, ``%s``, ``%1$I``) by holes; ``%%`` becomes ``%``."""
    pieces: list[str] = []
    segments: list[tuple[int, int]] = [(0, offsets.to_old(0))]
    position = 0
    length = 0
    while position < len(content):
        character = content[position]
        if character != "%":
            pieces.append(character)
            length += 1
            position += 1
            continue
        end = position + 1
        while end < len(content) and (content[end].isdigit() or content[end] in "$-"):
            end += 1
        specifier = content[end : end + 1]
        if specifier == "%":
            replacement = "%"
        elif specifier in ("I", "L", "s"):
            replacement = f"{HOLE_PREFIX}{holes}"
            holes += 1
        else:
            replacement, end = character, position
        segments.append((length, offsets.to_old(position)))
        pieces.append(replacement)
        length += len(replacement)
        position = end + 1
        segments.append((length, offsets.to_old(position)))
    return "".join(pieces), OffsetMap(segments), holes
