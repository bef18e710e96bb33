"""Plan span edits that make one INSERT / INSERT ... SELECT / COPY name its timestamp column.

The statement is never re-printed: pglast parses a same-length normalized copy of the text (see
:mod:`guard.patch.params`) and Postgres' lexer gives token spans, so every edit is a small
insertion or replacement at an exact offset of the text as written — comments, casing, line breaks
and quoting survive, and a reviewer sees only the added column and value.

The plan also says which *parameters* the caller must add (``slots``): for positional styles the index
in the old argument list before which each new argument goes, for named styles the new name.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pglast
from pglast import ast, enums
from pglast.keywords import RESERVED_KEYWORDS, TYPE_FUNC_NAME_KEYWORDS

from guard.model import HOLE_PREFIX
from guard.patch.params import (
    LexError,
    ParamStyle,
    dollar_body,
    normalize,
    placeholder_tokens,
    statement_style,
    tokenize_sql,
)

#: (relation as written, alias) pairs a SELECT branch reads; None for VALUES rows.
Relations = Sequence[tuple[str, str | None]] | None
#: Given the relations, the SQL value to add.
SqlValue = Callable[[Relations], str]

#: SqlToken names that end a SELECT list.
_SELECT_END = frozenset(
    {"FROM", "INTO", "WHERE", "GROUP_P", "HAVING", "WINDOW", "ORDER", "LIMIT", "OFFSET", "FETCH", "FOR", "UNION"}
    | {"INTERSECT", "EXCEPT", "ON", "RETURNING", "ASCII_59"}
)
#: Keywords a column name must be quoted as (unreserved and column-name keywords are fine bare).
_KEYWORDS = set(RESERVED_KEYWORDS) | set(TYPE_FUNC_NAME_KEYWORDS)
_OPEN, _CLOSE = ("(", "["), (")", "]")
_WRITE_STARTS = frozenset({"INSERT", "COPY", "WITH"})
#: SqlToken names that end an INSERT's target table (and alias): where a column list would go.
_AFTER_TARGET = frozenset({"VALUES", "SELECT", "WITH", "OVERRIDING", "ASCII_40"})


class Unfixable(Exception):
    """The site cannot be patched safely; ``str()`` is the reason shown to the user."""


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` with ``text`` (an insertion when start == end)."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Slot:
    """One new parameter the edited statement expects, for VALUES row / SELECT branch ``row`` (0-based)."""

    row: int
    arg_index: int | None = None  # positional: insert before this index of the OLD argument list
    name: str | None = None  # named styles


@dataclass
class SqlPatch:
    kind: str  # "values" | "select" | "copy"
    style: ParamStyle
    edits: list[Edit] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)
    rows_template: bool = False  # ``VALUES %s`` filled by execute_values: rows carry the new value
    already_named: bool = False  # the column is already in the column list: nothing to do
    positional_params: int = 0  # parameters the statement took before the edit (positional styles)

    def added_value(self) -> str:
        """The value the last inserted item carries (``now()``, ``%s``), for the summary; "" when none."""
        added = [e.text for e in self.edits if e.start == e.end]
        return added[-1].lstrip(",").strip() if added else ""


def quote_identifier(name: str) -> str:
    """Quote a column name only when Postgres needs it (keeps the diff looking hand-written)."""
    plain = name.replace("_", "a").replace("$", "a")
    if name and name == name.lower() and plain.isalnum() and not name[0].isdigit() and name not in _KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


class _Statement:
    """Tokens, placeholders and parse tree of one SQL text, with helpers to walk balanced parentheses."""

    def __init__(self, sql: str, parameters: bool) -> None:
        self.sql = sql
        try:
            self.tokens = tokenize_sql(sql)
        except LexError as exc:
            raise Unfixable(f"the SQL does not parse ({exc})") from None
        self._starts = [t.start for t in self.tokens]
        self.placeholders = placeholder_tokens(sql, self.tokens)
        self.holes = {p.start for p in self.placeholders}
        try:
            style = statement_style(self.placeholders)
        except ValueError as exc:
            raise Unfixable(str(exc)) from None
        # In a .sql file or a function body, $1 / :name are not driver parameters.
        self.style = style if parameters else ParamStyle.NONE
        self.rows_template = self._rows_template()
        normalized = normalize(sql, self.placeholders)
        if self.rows_template is not None:
            # ``VALUES %s`` (execute_values): give the parser a one-value row of the same length.
            start, end = self.rows_template
            normalized = normalized[:start] + "(x)".ljust(end - start) + normalized[end:]
        try:
            self.tree = pglast.parse_sql(normalized)
        except pglast.parser.ParseError as exc:
            raise Unfixable(f"the SQL does not parse ({exc})") from None

    def _rows_template(self) -> tuple[int, int] | None:
        """Span (from after VALUES to the placeholder's end) of a bare ``VALUES %s``, if any."""
        for i, tok in enumerate(self.tokens[:-1]):
            if tok.name == "VALUES" and self.tokens[i + 1].text != "(":
                hit = [p for p in self.placeholders if p.start == self.tokens[i + 1].start]
                if hit and hit[0].end - tok.end >= 3:
                    return tok.end, hit[0].end
        return None

    def index_at(self, offset: int | None) -> int:
        """Index of the first token starting at or after ``offset``."""
        if offset is None:
            raise Unfixable("the parser did not report where a clause starts")
        return bisect.bisect_left(self._starts, offset)

    def end_of(self, index: int) -> int:
        """Offset just after the token before ``index``: where text is appended to a list."""
        return self.tokens[index - 1].end

    def closing(self, open_index: int) -> int:
        depth = 0
        for i in range(open_index, len(self.tokens)):
            text = self.tokens[i].text
            if text in _OPEN:
                depth += 1
            elif text in _CLOSE:
                depth -= 1
                if depth == 0:
                    return i
        raise Unfixable("unbalanced parentheses in the statement")

    def next_at_depth(self, start: int, wanted: frozenset[str], by_name: bool = False) -> int:
        """First token from ``start`` at the same depth matching ``wanted``; a ``)`` closing the level also stops."""
        depth = 0
        for i in range(start, len(self.tokens)):
            tok = self.tokens[i]
            if depth == 0 and (tok.name if by_name else tok.text) in wanted:
                return i
            if tok.text in _OPEN:
                depth += 1
            elif tok.text in _CLOSE:
                if depth == 0:
                    return i
                depth -= 1
        return len(self.tokens)

    def separator(self, first: int, end: int) -> str:
        """How the list between token ``first`` and ``end`` separates items (``", "`` or ``",\\n    "``)."""
        depth, last_comma = 0, None
        for i in range(first, end):
            text = self.tokens[i].text
            if text in _OPEN:
                depth += 1
            elif text in _CLOSE:
                depth -= 1
            elif text == "," and depth == 0:
                last_comma = i
        if last_comma is None or last_comma + 1 >= len(self.tokens):
            return ", "
        text = self.sql[self.tokens[last_comma].start : self.tokens[last_comma + 1].start]
        return text if text.strip() == "," else ", "


def plan_timestamp_edit(
    sql: str,
    table: str | None,
    column: str,
    sql_value: SqlValue | None = None,
    parameters: bool = True,
    table_columns: Sequence[str] | None = None,
) -> SqlPatch:
    """Plan the edits adding ``column`` to the write into ``table`` in ``sql``.

    VALUES rows of a parameterized statement get a new placeholder in the statement's own style, and
    ``slots`` say which parameters to add. SELECT branches and VALUES rows of a statement without
    parameters get the SQL expression ``sql_value(relations)`` returns, given the relations the branch
    selects from (``now()``, ``s.created_on``); without ``sql_value`` such sites are unfixable.
    ``parameters=False`` (``.sql`` files): placeholders-looking text is not a driver parameter.
    ``table_columns``: the table's full column order, when known; a positional INSERT then gets a column
    list naming the columns its values fill, plus ``column``. A ``DEFAULT`` given to ``column`` is replaced.
    """
    stmt = _Statement(sql, parameters)
    node = _find_write(stmt, table)
    if node is None:
        return _plan_in_function_bodies(stmt, table, column, sql_value)
    patch = SqlPatch(kind="copy", style=stmt.style)
    if isinstance(node, ast.CopyStmt):
        _plan_copy(stmt, node, column, patch)
        return patch
    patch.kind = "values"
    select = node.selectStmt if isinstance(node.selectStmt, ast.SelectStmt) else None
    names = [target.name or "" for target in node.cols or ()]
    if any(n.startswith(HOLE_PREFIX) for n in names) or any(t.location in stmt.holes for t in node.cols or ()):
        raise Unfixable("the column list is built at runtime")
    if column in names:
        _replace_defaults(stmt, select, names.index(column), column, sql_value, patch)
        _renumber(stmt, patch)
        return patch
    if select is None:
        raise Unfixable("INSERT ... DEFAULT VALUES: there are no values to extend")
    if names:
        columns_end = _add_to_column_list(stmt, node, column, patch)
    else:
        names, columns_end = _name_positional_columns(stmt, node, select, column, table_columns, patch)
    if select.valuesLists:
        _plan_values(stmt, select, columns_end, len(names), column, sql_value, patch)
    else:
        patch.kind = "select"
        leaves = _select_leaves(select)
        for row, leaf in enumerate(leaves):
            value = _sql_value_or_fail(sql_value, _from_relations(leaf))
            _plan_select_leaf(stmt, leaf, row, len(leaves), column, value, patch)
    _renumber(stmt, patch)
    return patch


def _replace_defaults(
    stmt: _Statement,
    select: ast.SelectStmt | None,
    index: int,
    column: str,
    sql_value: SqlValue | None,
    patch: SqlPatch,
) -> None:
    """``(a, created_at) VALUES (%s, DEFAULT)``: the DEFAULT becomes a value; otherwise nothing to do."""
    rows = (select.valuesLists or ()) if select is not None else ()
    defaults = [
        (row, values[index])
        for row, values in enumerate(rows)
        if index < len(values) and isinstance(values[index], ast.SetToDefault)
    ]
    if not defaults:
        patch.already_named = True
        return
    literal = _sql_value_or_fail(sql_value, None) if stmt.style is ParamStyle.NONE else None
    for row, default in defaults:
        keyword = stmt.tokens[stmt.index_at(default.location)]
        _add_value(stmt, patch, row, len(rows), (keyword.start, keyword.end), "", column, literal)


def _name_positional_columns(
    stmt: _Statement,
    node: ast.InsertStmt,
    select: ast.SelectStmt,
    column: str,
    table_columns: Sequence[str] | None,
    patch: SqlPatch,
) -> tuple[list[str], int]:
    """Give a positional INSERT the column list its values fill (from the catalog), plus ``column``."""
    if not table_columns:
        raise Unfixable("positional INSERT without a column list, and the table's column order is unknown")
    if select.valuesLists:
        width = max(len(values) for values in select.valuesLists)
    else:
        width = len(_select_leaves(select)[0].targetList or ())
    names = list(table_columns[:width])
    if width > len(table_columns) or column in names:
        raise Unfixable("the positional INSERT does not match the table's known columns")
    relation = node.relation
    assert relation is not None
    end = stmt.next_at_depth(stmt.index_at(relation.location), _AFTER_TARGET, by_name=True)
    if end >= len(stmt.tokens):
        raise Unfixable("cannot find where the column list goes")
    at = stmt.end_of(end)
    patch.edits.append(Edit(at, at, " (" + ", ".join(quote_identifier(n) for n in [*names, column]) + ")"))
    return names, end - 1


def _walk(root: Any) -> Iterator[ast.Node]:
    """Every node under ``root`` in source order (pre-order)."""
    stack = [root]
    while stack:
        current = stack.pop()
        if isinstance(current, tuple | list):
            stack.extend(reversed(current))
        elif isinstance(current, ast.Node):
            yield current
            stack.extend(reversed([getattr(current, name) for name in current]))


def _relation_matches(relation: ast.RangeVar, table: str | None) -> bool:
    if table is None:
        return True
    parts = [p.strip('"').lower() for p in table.split(".")]
    if (relation.relname or "").lower() != parts[-1]:
        return False
    return len(parts) < 2 or relation.schemaname is None or relation.schemaname.lower() == parts[-2]


def _find_write(stmt: _Statement, table: str | None) -> ast.InsertStmt | ast.CopyStmt | None:
    """The INSERT or COPY into ``table`` (a templated table name matches when it is the only write)."""
    writes = [
        (node, node.relation)
        for node in _walk(stmt.tree)
        if isinstance(node, ast.InsertStmt | ast.CopyStmt) and isinstance(node.relation, ast.RangeVar)
    ]
    for node, relation in writes:
        if _relation_matches(relation, table):
            return node
    templated = [
        node
        for node, relation in writes
        if relation.location in stmt.holes or (relation.relname or "").startswith(HOLE_PREFIX)
    ]
    if len(templated) == 1:  # sql.SQL("INSERT INTO {} ...").format(sql.Identifier("jobs")), f"... {TABLE} ..."
        return templated[0]
    return None


def _plan_in_function_bodies(stmt: _Statement, table: str | None, column: str, sql_value: SqlValue | None) -> SqlPatch:
    """The write inside a ``$$``-quoted body (``CREATE FUNCTION``, ``DO``), planned there and shifted back.

    A body is PL/pgSQL, not SQL, so each ``INSERT``/``COPY`` in it is cut out up to its ``;`` and planned on
    its own; names in it are variables, never driver parameters.
    """
    for tok in stmt.tokens:
        found = dollar_body(tok)
        if found is None:
            continue
        body_start, body = found
        for start, end in write_statement_spans(body):
            try:
                patch = plan_timestamp_edit(body[start:end], table, column, sql_value, parameters=False)
            except Unfixable:
                continue
            patch.edits = [Edit(e.start + body_start + start, e.end + body_start + start, e.text) for e in patch.edits]
            return patch
    raise Unfixable(f"no INSERT or COPY into {table or 'a table'} in this SQL")


def write_statement_spans(text: str, first_line_offset: int = 0) -> list[tuple[int, int]]:
    """(start, end) of every statement in ``text`` that starts with INSERT / COPY / WITH at or after
    ``first_line_offset``, ending before the ``;`` that closes it (or at the end of the text)."""
    return list(WriteSpans(text).spans_from(first_line_offset))


class WriteSpans:
    """The INSERT / COPY / WITH statements of one text, lexed once.

    A seed file may hold thousands of sites; lexing the whole file again for each of them made patching it
    quadratic. The nesting depth before every token is recorded, so a search can start at any offset.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        try:
            self.tokens = tokenize_sql(text)
        except LexError as exc:
            raise Unfixable(f"the SQL does not parse ({exc})") from None
        self._starts = [tok.start for tok in self.tokens]
        self._depth_before: list[int] = []
        depth = 0
        for tok in self.tokens:
            self._depth_before.append(depth)
            if tok.text in _OPEN:
                depth += 1
            elif tok.text in _CLOSE:
                depth -= 1

    def spans_from(self, offset: int) -> Iterator[tuple[int, int]]:
        """The statements starting at or after ``offset``, in order (each up to its closing ``;``)."""
        index = bisect.bisect_left(self._starts, offset)
        depth = self._depth_before[index] if index < len(self.tokens) else 0
        start = None
        for position in range(index, len(self.tokens)):  # no slice: a copy per site would be quadratic again
            tok = self.tokens[position]
            if tok.text in _OPEN:
                depth += 1
            elif tok.text in _CLOSE:
                depth -= 1
            elif tok.text == ";" and depth == 0 and start is not None:
                yield start, tok.start
                start = None
            elif start is None and depth == 0 and tok.name in _WRITE_STARTS:
                start = tok.start
        if start is not None:
            yield start, len(self.text)


def _plan_copy(stmt: _Statement, node: ast.CopyStmt, column: str, patch: SqlPatch) -> None:
    if not node.is_from or node.query is not None:
        raise Unfixable("COPY TO reads data; nothing to patch")
    if not node.attlist:
        raise Unfixable("COPY without a column list: name the columns first")
    if column in [name.sval for name in node.attlist]:
        patch.already_named = True
        return
    relation = node.relation
    assert relation is not None  # _find_write only returns writes with a relation
    open_index = stmt.next_at_depth(stmt.index_at(relation.location), frozenset("("))
    if open_index >= len(stmt.tokens) or stmt.tokens[open_index].text != "(":
        raise Unfixable("cannot find the COPY column list")
    close_index = stmt.closing(open_index)
    at = stmt.end_of(close_index)
    patch.edits.append(Edit(at, at, stmt.separator(open_index + 1, close_index) + quote_identifier(column)))
    patch.slots.append(Slot(row=0))  # appended to every written row


def _add_to_column_list(stmt: _Statement, node: ast.InsertStmt, column: str, patch: SqlPatch) -> int:
    """Append the column; returns the token index of the list's closing parenthesis."""
    cols = node.cols or ()
    first = stmt.index_at(cols[0].location)
    close_index = stmt.next_at_depth(stmt.index_at(cols[-1].location), frozenset(")"))
    if close_index >= len(stmt.tokens):
        raise Unfixable("cannot find the end of the column list")
    at = stmt.end_of(close_index)
    patch.edits.append(Edit(at, at, stmt.separator(first, close_index) + quote_identifier(column)))
    return close_index


def _plan_values(
    stmt: _Statement,
    select: ast.SelectStmt,
    columns_end: int,
    width: int,
    column: str,
    sql_value: SqlValue | None,
    patch: SqlPatch,
) -> None:
    if stmt.rows_template is not None:
        # execute_values: one ``%s`` stands for every row; the rows themselves carry the new value.
        patch.rows_template = True
        patch.slots.append(Slot(row=0))
        return
    values_lists = select.valuesLists or ()
    if {len(values) for values in values_lists} != {width}:
        raise Unfixable(f"VALUES rows do not match the {width} named columns")
    rows = _row_spans(stmt, columns_end, len(values_lists))
    literal = _sql_value_or_fail(sql_value, None) if stmt.style is ParamStyle.NONE else None
    for row, (open_index, close_index) in enumerate(rows):
        sep = stmt.separator(open_index + 1, close_index)
        at = stmt.end_of(close_index)
        _add_value(stmt, patch, row, len(rows), (at, at), sep, column, literal)


def _row_spans(stmt: _Statement, columns_end: int, expected: int) -> list[tuple[int, int]]:
    """(open, close) token indexes of each VALUES row, found after the VALUES keyword."""
    index = stmt.next_at_depth(columns_end + 1, frozenset({"VALUES"}), by_name=True) + 1
    rows: list[tuple[int, int]] = []
    while index < len(stmt.tokens) and stmt.tokens[index].text == "(":
        close = stmt.closing(index)
        rows.append((index, close))
        index = close + 1
        if index >= len(stmt.tokens) or stmt.tokens[index].text != ",":
            break
        index += 1
    if len(rows) != expected:
        raise Unfixable("cannot match the VALUES rows in the text")
    return rows


def _select_leaves(select: ast.SelectStmt) -> list[ast.SelectStmt]:
    """The SELECT branches of a UNION / INTERSECT / EXCEPT tree (the statement itself when plain)."""
    if select.op == enums.SetOperation.SETOP_NONE:
        if not select.targetList:
            raise Unfixable("the SELECT has no target list to extend")
        return [select]
    if not isinstance(select.larg, ast.SelectStmt) or not isinstance(select.rarg, ast.SelectStmt):
        raise Unfixable("cannot read the branches of the set operation")
    return _select_leaves(select.larg) + _select_leaves(select.rarg)


def _plan_select_leaf(
    stmt: _Statement, leaf: ast.SelectStmt, row: int, rows: int, column: str, value: str, patch: SqlPatch
) -> None:
    targets = leaf.targetList or ()
    first = stmt.index_at(targets[0].location)
    end_index = stmt.next_at_depth(stmt.index_at(targets[-1].location), _SELECT_END, by_name=True)
    sep = stmt.separator(first, end_index)
    at = stmt.end_of(end_index)
    _add_value(stmt, patch, row, rows, (at, at), sep, column, value)


def _sql_value_or_fail(sql_value: SqlValue | None, relations: Relations) -> str:
    if sql_value is None:
        raise Unfixable("the statement takes no parameters and no SQL value is configured")
    return sql_value(relations)


def _from_relations(leaf: ast.SelectStmt) -> list[tuple[str, str | None]]:
    """(schema.table as written, alias) of the plain tables in a SELECT's FROM list, joins included."""
    names: list[tuple[str, str | None]] = []
    pending: list[Any] = list(leaf.fromClause or ())
    while pending:
        item = pending.pop(0)
        if isinstance(item, ast.JoinExpr):
            pending[:0] = [item.larg, item.rarg]
        elif isinstance(item, ast.RangeVar) and item.relname:
            name = f"{item.schemaname}.{item.relname}" if item.schemaname else item.relname
            names.append((name, item.alias.aliasname if item.alias else None))
    return names


def _add_value(
    stmt: _Statement,
    patch: SqlPatch,
    row: int,
    rows: int,
    span: tuple[int, int],
    sep: str,
    column: str,
    value_sql: str | None,
) -> None:
    """Write a value over ``span`` (empty: an insertion after ``sep``): the SQL expression when given, else a
    new placeholder in the statement's style (and its slot)."""
    start, end = span
    if value_sql is not None:
        patch.edits.append(Edit(start, end, sep + value_sql))
        return
    style = stmt.style
    if style in (ParamStyle.PYFORMAT, ParamStyle.NAMED):
        name = column if rows == 1 else f"{column}_{row + 1}"
        if any(p.name == name for p in stmt.placeholders):
            raise Unfixable(f"the statement already uses a parameter named {name!r}")
        text = f"%({name})s" if style is ParamStyle.PYFORMAT else f":{name}"
        patch.edits.append(Edit(start, end, sep + text))
        patch.slots.append(Slot(row=row, name=name))
        return
    if any(p.name is not None for p in stmt.placeholders if p.style is ParamStyle.BRACE):
        raise Unfixable("the template uses named {fields}; add the column by hand")
    before = [p for p in stmt.placeholders if p.start < start and p.style is style]
    if style is ParamStyle.NUMERIC:
        # The new argument goes right after the highest $n used so far; it becomes $(that + new ones so far + 1).
        index = max([p.number or 0 for p in before] + [s.arg_index or 0 for s in patch.slots])
        text = f"${index + len(patch.slots) + 1}"
    else:
        index = len(before)
        text = {ParamStyle.FORMAT: "%s", ParamStyle.QMARK: "?", ParamStyle.BRACE: "{}"}[style]
    patch.edits.append(Edit(start, end, sep + text))
    patch.slots.append(Slot(row=row, arg_index=index))


def _renumber(stmt: _Statement, patch: SqlPatch) -> None:
    """Count the old positional parameters; shift every old ``$n`` after a newly inserted one."""
    positional = [p for p in stmt.placeholders if p.style is patch.style]
    if patch.style is not ParamStyle.NUMERIC:
        patch.positional_params = len(positional) if patch.style.positional else 0
        return
    patch.positional_params = max((p.number or 0 for p in positional), default=0)
    inserted_before = [s.arg_index or 0 for s in patch.slots]
    for p in positional:
        old = p.number or 0
        new = old + sum(1 for index in inserted_before if index < old)
        if new != old:
            patch.edits.append(Edit(p.start, p.end, f"${new}"))


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits (any order) to ``text``."""
    out, last = [], 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if edit.start < last:
            raise ValueError("overlapping edits")
        out.append(text[last : edit.start])
        out.append(edit.text)
        last = edit.end
    out.append(text[last:])
    return "".join(out)
