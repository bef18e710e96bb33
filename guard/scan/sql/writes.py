"""Writes (INSERT, INSERT ... SELECT, upserts, COPY FROM, MERGE ... INSERT) found in a parsed statement.

Writes hide inside other statements: data-modifying CTEs (``WITH x AS (INSERT ... RETURNING id) SELECT``),
CTEs of CTEs, SQL-standard function bodies (``BEGIN ATOMIC``), rule actions, ``PREPARE``, ``EXPLAIN ANALYZE``.
Postgres only accepts a data-modifying CTE in the WITH clause of the top-level statement, so those places
(and not the statement's expressions and VALUES lists) are searched for ``InsertStmt``/``CopyStmt``/
``MergeStmt``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from guard.model import HOLE_PREFIX, Evidence, WriteStatement
from guard.scan import evidence
from guard.scan.sql.text import (
    COMMA,
    OPEN_PAREN,
    Statement,
    min_location,
    names_a_hole,
    relation_name,
    string_values,
)

_WRITE_NODES = frozenset({"InsertStmt", "CopyStmt", "MergeStmt"})
#: Where each kind of statement can hold another, written statement; DDL trees are not searched.
_NESTED_STATEMENTS = {
    "InsertStmt": ("withClause", "selectStmt"),
    "MergeStmt": ("withClause",),
    "SelectStmt": ("withClause", "larg", "rarg"),
    "UpdateStmt": ("withClause",),
    "DeleteStmt": ("withClause",),
    "CreateFunctionStmt": ("sql_body",),
    "RuleStmt": ("actions",),
    "PrepareStmt": ("query",),
    "ExplainStmt": ("query",),
}
#: Keywords that end an expression in a SELECT list (the alias and the clauses after the list).
_SELECT_ITEM_STOPS = frozenset(
    {
        "FROM",
        "INTO",
        "WHERE",
        "GROUP_P",
        "HAVING",
        "WINDOW",
        "ORDER",
        "LIMIT",
        "OFFSET",
        "FETCH",
        "FOR",
        "UNION",
        "INTERSECT",
        "EXCEPT",
        "ON",
        "RETURNING",
        "AS",
    }
)
_CONFLICT_ACTIONS = {"ONCONFLICT_NOTHING": "nothing", "ONCONFLICT_UPDATE": "update"}


def writes_in_statement(statement: Statement, context: str) -> list[WriteStatement]:
    """Every write in ``statement``, in the order the parse tree holds them."""
    writes: list[WriteStatement] = []
    for kind, node in _write_nodes(statement.kind, statement.node):
        if kind == "InsertStmt":
            writes.append(_insert(statement, node, context))
        elif kind == "CopyStmt" and node.get("is_from") and node.get("relation"):
            writes.append(_copy(statement, node, context))
        elif kind == "MergeStmt":
            writes.extend(_merge(statement, node, context))
    return writes


def _write_nodes(kind: str, node: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The statement itself if it writes, then the writes nested where Postgres allows them."""
    if kind in _WRITE_NODES:
        yield kind, node
    for field in _NESTED_STATEMENTS.get(kind, ()):
        if field in node:
            yield from _walk(node[field])


def _walk(node: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every write node under ``node``, and the writes nested in those."""
    stack = [node]
    while stack:
        item = stack.pop()
        if type(item) is list:
            stack.extend(item)
        elif type(item) is dict:
            for key, value in item.items():
                if key in _NESTED_STATEMENTS and type(value) is dict:
                    if key in _WRITE_NODES:
                        yield key, value
                    stack.extend(value[field] for field in _NESTED_STATEMENTS[key] if field in value)
                elif key in ("CommonTableExpr", "ctequery", "ctes", "List", "RawStmt", "stmt", "items"):
                    stack.append(value)


def _insert(statement: Statement, node: dict[str, Any], context: str) -> WriteStatement:
    relation = node.get("relation", {})
    cols = node.get("cols")
    columns = tuple(target["ResTarget"].get("name", "") for target in cols) if cols else None
    select = node.get("selectStmt", {}).get("SelectStmt")
    if select is None:  # INSERT ... DEFAULT VALUES: every column gets its default
        shape = _Shape(width=0)
        columns = ()
        kind = "insert"
    else:
        leftmost = select
        while "larg" in leftmost:
            leftmost = leftmost["larg"]
        if "valuesLists" in leftmost:
            shape = _values_shape(statement, leftmost["valuesLists"])
        else:
            shape = _select_shape(statement, leftmost)
        kind = "insert" if "valuesLists" in select else "insert-select"
    conflict = node.get("onConflictClause")
    on_conflict = _CONFLICT_ACTIONS.get(conflict.get("action", ""), "update") if conflict else None
    if conflict:
        kind = "upsert"
    write = _build(statement, node, context, "INSERT", kind, relation, columns, shape, on_conflict)
    sources = _sources(node, statement.node) if select is not None and "valuesLists" not in select else ()
    rows = len(select.get("valuesLists", ())) if select is not None else 0
    found: list[Evidence] = []
    if sources:
        found.append(Evidence(evidence.BULK, "INSERT ... SELECT"))
    elif rows > 1:
        found.append(Evidence(evidence.BULK, f"{rows}-row VALUES"))
    return replace(write, sources=sources, evidence=evidence.merge(found)) if found or sources else write


def _sources(insert: dict[str, Any], top: dict[str, Any]) -> tuple[str, ...]:
    """Relations an INSERT ... SELECT takes its rows from (its FROM clauses, joins, sub-selects in FROM and
    set operations), as written. CTE names are followed into their queries (``WITH src AS (SELECT ... FROM
    staging.jobs) INSERT ... SELECT ... FROM src`` reads staging.jobs); a sub-select in WHERE only filters."""
    ctes: dict[str, Any] = {}
    for holder in (top, insert, insert.get("selectStmt", {}).get("SelectStmt", {})):
        for cte in holder.get("withClause", {}).get("ctes", ()):
            body = cte.get("CommonTableExpr", {})
            ctes[body.get("ctename", "")] = body.get("ctequery")
    found: list[str] = []
    followed: set[str] = set()
    pending: deque[Any] = deque([insert.get("selectStmt")])
    while pending:  # breadth-first, in source order: the first FROM item is the main source
        item = pending.popleft()
        if type(item) is list:
            pending.extend(item)
        elif type(item) is dict:
            for key, value in item.items():
                if key == "RangeVar":
                    name = relation_name(value)
                    if name in ctes and name not in followed:
                        followed.add(name)
                        pending.append(ctes[name])
                    elif name and name not in ctes and name not in found:
                        found.append(name)
                elif key in _ROW_SOURCES:
                    pending.append(value)
    return tuple(found)


#: Parse-tree keys through which rows flow into a SELECT's result (not WHERE/HAVING filters).
_ROW_SOURCES = frozenset(
    {"SelectStmt", "fromClause", "larg", "rarg", "JoinExpr", "RangeSubselect", "subquery", "ctequery"}
)


def _copy(statement: Statement, node: dict[str, Any], context: str) -> WriteStatement:
    attlist = node.get("attlist")
    columns = tuple(string_values(attlist)) if attlist else None
    write = _build(statement, node, context, "COPY", "copy", node["relation"], columns, _Shape(), None)
    return replace(write, evidence=(Evidence(evidence.BULK, "COPY"),))


def _merge(statement: Statement, node: dict[str, Any], context: str) -> Iterator[WriteStatement]:
    for clause_wrapper in node.get("mergeWhenClauses", []):
        clause = clause_wrapper.get("MergeWhenClause", {})
        if clause.get("commandType") != "CMD_INSERT":
            continue
        targets = clause.get("targetList")
        values = clause.get("values")
        columns = tuple(target["ResTarget"].get("name", "") for target in targets) if targets else None
        if not values:  # INSERT DEFAULT VALUES
            yield _build(statement, node, context, "MERGE", "insert", node["relation"], (), _Shape(width=0), None)
            continue
        shape = _values_shape(statement, [{"List": {"items": values}}])
        yield _build(statement, node, context, "MERGE", "insert", node["relation"], columns, shape, None)


class _Shape:
    """What the VALUES rows / SELECT list look like: width, first-row value texts, DEFAULT positions."""

    def __init__(self, width: int | None = None, values: list[str] | None = None, defaults: set[int] | None = None):
        self.width = width
        self.values = values or []
        self.defaults = defaults or set()


def _values_shape(statement: Statement, rows: list[dict[str, Any]]) -> _Shape:
    items_per_row = [row.get("List", {}).get("items", []) for row in rows]
    defaults = {index for items in items_per_row for index, item in enumerate(items) if "SetToDefault" in item}
    first = items_per_row[0] if items_per_row else []
    width: int | None = max((len(items) for items in items_per_row), default=0)
    if any(_is_hole(item) for items in items_per_row for item in items):
        width = None  # VALUES ({placeholders}): the real width is not known
    texts = _row_texts(statement, first)
    return _Shape(width=width, values=texts, defaults=defaults)


def _row_texts(statement: Statement, items: list[Any]) -> list[str]:
    """Source text of each item of one VALUES row, read between the row's brackets and commas."""
    start = min_location(items[0]) if items else None
    if start is None:
        return []
    sql = statement.unit.sql
    values_keyword = sql.last_named("VALUES", statement.char(start) + 1, statement.first)
    if values_keyword is None or values_keyword + 1 >= len(sql.tokens):
        return []
    if sql.tokens[values_keyword + 1].name != OPEN_PAREN:
        return []
    texts: list[str] = []
    index = values_keyword + 2
    while len(texts) < len(items) and index <= statement.last:
        end = sql.expression_end(index, limit=statement.last)
        texts.append(statement.unit.source_tokens(index, end))
        follower = end + 1
        if follower > statement.last or sql.tokens[follower].name != COMMA:
            break
        index = follower + 1
    return texts if len(texts) == len(items) else []


def _select_shape(statement: Statement, select: dict[str, Any]) -> _Shape:
    targets = [target.get("ResTarget", {}) for target in select.get("targetList", [])]
    if not targets or any(_is_star(target.get("val")) for target in targets):
        return _Shape()
    texts = [_select_item_text(statement, target) for target in targets]
    width = None if any(_is_hole(target.get("val")) for target in targets) else len(targets)
    return _Shape(width=width, values=texts)


def _select_item_text(statement: Statement, target: dict[str, Any]) -> str:
    sql = statement.unit.sql
    index = sql.index_at(statement.char(target.get("location", 0)))
    end = sql.expression_end(index, _SELECT_ITEM_STOPS, limit=statement.last)
    alias = target.get("name")
    if alias and end > index and sql.word(end).strip('"').lower() == alias.lower():
        end -= 1  # "expr alias" without AS
    return statement.unit.source_tokens(index, end)


def _build(
    statement: Statement,
    node: dict[str, Any],
    context: str,
    keyword: str,
    kind: str,
    relation: dict[str, Any],
    columns: tuple[str, ...] | None,
    shape: _Shape,
    on_conflict: str | None,
) -> WriteStatement:
    unit = statement.unit
    sql = unit.sql
    first, last = _span(statement, node, keyword, relation)
    table = relation_name(relation) or None
    keys = list(columns) if columns is not None else _positional_keys(shape)
    column_values = tuple(zip(keys, shape.values, strict=False))  # keys may outnumber values
    default_keys = tuple(keys[index] for index in sorted(shape.defaults) if index < len(keys))
    line, column = unit.position(sql.tokens[_keyword(statement, first, keyword, relation)].start)
    end_line = unit.line(sql.tokens[last].end)
    candidate = unit.candidate
    return WriteStatement(
        relpath=candidate.relpath,
        line=line,
        column=column,
        kind=kind,
        table=table,
        columns=columns,
        sql=unit.source_tokens(first, last),
        values_width=shape.width,
        column_values=column_values,
        default_columns=default_keys,
        on_conflict=on_conflict,
        dynamic=names_a_hole(table, columns),
        best_effort=candidate.best_effort,
        parser="pglast",
        origin=unit.origin,
        context=context,
        end_line=end_line,
    )


def _positional_keys(shape: _Shape) -> list[str]:
    """Keys ``#1``, ``#2``... for a write without a column list: values are known by position only."""
    count = max(len(shape.values), shape.width or 0, max(shape.defaults, default=-1) + 1)
    return [f"#{position}" for position in range(1, count + 1)]


def _span(statement: Statement, node: dict[str, Any], keyword: str, relation: dict[str, Any]) -> tuple[int, int]:
    """Token range of the write: the whole statement, or (nested in a CTE/body) its own keyword onward."""
    if node is statement.node:
        return statement.first, statement.last
    sql = statement.unit.sql
    start = sql.last_named(keyword, statement.char(relation.get("location", 0)), statement.first)
    if start is None:
        return statement.first, statement.last
    return start, sql.statement_end(start, limit=statement.last)


def _keyword(statement: Statement, first: int, keyword: str, relation: dict[str, Any]) -> int:
    """Token index of the write's own ``INSERT``/``COPY``/``MERGE``: where it is reported (a statement that
    starts with a ``WITH`` list may put it dozens of lines below its first token)."""
    sql = statement.unit.sql
    if sql.tokens[first].name == keyword:
        return first
    found = sql.last_named(keyword, statement.char(relation.get("location", 0)), first)
    return first if found is None else found


def _is_hole(node: Any) -> bool:
    if not isinstance(node, dict) or "ColumnRef" not in node:
        return False
    fields = string_values(node["ColumnRef"].get("fields"))
    return len(fields) == 1 and fields[0].startswith(HOLE_PREFIX)


def _is_star(node: Any) -> bool:
    if not isinstance(node, dict) or "ColumnRef" not in node:
        return False
    return any("A_Star" in field for field in node["ColumnRef"].get("fields", []))
