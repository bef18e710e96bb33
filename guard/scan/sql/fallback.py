"""What to do with a statement Postgres' parser rejects.

First decide whether it is SQL at all: application strings such as ``"Insert into the queue failed"`` start
with a keyword but are prose, and must produce nothing (no write, no diagnostic). The decision looks at the
scanner's tokens for the shape of a statement (``INSERT INTO name (`` / ``VALUES`` / ``SELECT``...).

SQL that pglast rejects is handed to sqlglot (postgres dialect), which is more lenient (it reads MySQL's
``ON DUPLICATE KEY UPDATE``, for instance) and can still tell the target table and columns.
"""

from __future__ import annotations

import logging
from typing import Any

from guard.model import HOLE_PREFIX, WriteStatement
from guard.scan.sql.text import Unit, names_a_hole

_WORD_KINDS = frozenset({"IDENT", "UIDENT"})
_INSERT_BODY_STARTS = frozenset({"ASCII_40", "VALUES", "SELECT", "DEFAULT", "OVERRIDING", "WITH", "TABLE"})
_COPY_NEXT = frozenset({"ASCII_40", "FROM", "TO"})
_DELETE_NEXT = frozenset({"WHERE", "USING", "RETURNING"})
#: Tokens prose does not contain but a SELECT usually does: ( * = $1 ::
_SQL_PUNCTUATION = frozenset({"ASCII_40", "ASCII_42", "ASCII_61", "PARAM", "TYPECAST"})


def has_statement_shape(unit: Unit, first: int, last: int) -> bool:
    """Whether tokens ``first..last`` have the shape of a SQL statement rather than of prose."""
    tokens = unit.sql.tokens[first : last + 1]
    if not tokens:
        return False
    names = [token.name for token in tokens]
    lead = names[0]
    if lead in ("INSERT", "MERGE"):
        return len(names) > 1 and names[1] == "INTO" and _insert_shape(unit, first + 2, last)
    if lead == "COPY":
        after = _after_name(unit, first + 1, last, alias=False)
        return after is not None and after <= last and unit.sql.tokens[after].name in _COPY_NEXT
    if lead == "UPDATE":
        after = _after_name(unit, first + 1, last, alias=True)
        return after is not None and after <= last and unit.sql.tokens[after].name == "SET"
    if lead == "DELETE_P":
        after = _after_name(unit, first + 2, last, alias=True) if len(names) > 2 and names[1] == "FROM" else None
        return after is not None and (after > last or unit.sql.tokens[after].name in _DELETE_NEXT)
    if lead == "SELECT":
        rest = set(names[1:])
        return bool(rest & _SQL_PUNCTUATION) or ("ASCII_44" in rest and "FROM" in rest)
    if lead == "WITH":
        at = 2 if len(names) > 2 and names[1] == "RECURSIVE" else 1
        return _is_name(unit, first + at) and len(names) > at + 1 and names[at + 1] in ("AS", "ASCII_40")
    if lead == "VALUES":
        return len(names) > 1 and names[1] == "ASCII_40"
    if lead in ("CREATE", "ALTER", "DROP", "TRUNCATE"):
        return len(tokens) > 2 and tokens[1].kind != "NO_KEYWORD"
    if lead == "DO":
        return len(names) > 1 and names[1] == "SCONST"
    return False


def _is_name(unit: Unit, index: int) -> bool:
    tokens = unit.sql.tokens
    return index < len(tokens) and (tokens[index].name in _WORD_KINDS or tokens[index].kind != "NO_KEYWORD")


def _after_name(unit: Unit, index: int, last: int, alias: bool) -> int | None:
    """Index just past a (qualified) table name at ``index`` and, if ``alias``, an optional ``[AS] alias``."""
    tokens = unit.sql.tokens
    if index > last or not _is_name(unit, index):
        return None
    index += 1
    while index + 1 <= last and tokens[index].name == "ASCII_46" and _is_name(unit, index + 1):
        index += 2
    if alias and index <= last and tokens[index].name == "AS":
        index += 1
    if alias and index <= last and tokens[index].name in _WORD_KINDS:
        index += 1
    return index


def _insert_shape(unit: Unit, index: int, last: int) -> bool:
    """After ``INSERT INTO``: a (qualified) name, maybe ``AS alias``, then a column list or a query."""
    after = _after_name(unit, index, last, alias=False)
    if after is None:
        return False
    if after + 1 <= last and unit.sql.tokens[after].name == "AS":
        after += 2
    if after > last:
        return False
    return unit.sql.tokens[after].name in _INSERT_BODY_STARTS or unit.sql.word(after).startswith(HOLE_PREFIX)


def hole_write(unit: Unit, first: int, last: int, context: str) -> WriteStatement | None:
    """An ``INSERT INTO`` whose interpolated parts (holes) broke the grammar: what its tokens still tell.

    ``f"INSERT INTO {table} {columns_sql} VALUES ..."`` cannot be parsed, yet it is a write the dynamic-SQL
    rule must report for review. The target and column list are read from the tokens; the write is marked
    dynamic and ``parser="textual"``.
    """
    sql = unit.sql
    if last - first < 2 or sql.tokens[first].name != "INSERT" or sql.tokens[first + 1].name != "INTO":
        return None
    if not any(sql.word(index).startswith(HOLE_PREFIX) for index in range(first, last + 1)):
        return None
    index = first + 2
    parts = [sql.word(index)]
    index += 1
    while index + 1 <= last and sql.tokens[index].name == "ASCII_46":
        parts.append(sql.word(index + 1))
        index += 2
    columns: tuple[str, ...] | None = None
    if index <= last and sql.tokens[index].name == "ASCII_40":
        names: list[str] = []
        index += 1
        while index <= last and sql.tokens[index].name != "ASCII_41":
            if sql.tokens[index].name != "ASCII_44":
                names.append(_fold_word(sql.word(index)))
            index += 1
        columns = tuple(names)
    line, column = unit.position(sql.tokens[first].start)
    return WriteStatement(
        relpath=unit.candidate.relpath,
        line=line,
        column=column,
        kind="insert",
        table=".".join(_fold_word(part) for part in parts),
        columns=columns,
        sql=unit.source_tokens(first, last),
        dynamic=True,
        best_effort=unit.candidate.best_effort,
        parser="textual",
        origin=unit.origin,
        context=context,
        end_line=unit.line(sql.tokens[last].end),
    )


def _fold_word(word: str) -> str:
    if len(word) >= 2 and word.startswith('"') and word.endswith('"'):
        return word[1:-1].replace('""', '"')
    return word.lower()


def sqlglot_writes(unit: Unit, first: int, last: int, context: str) -> list[WriteStatement] | None:
    """Writes in a statement read with sqlglot; None when sqlglot cannot read it either."""
    import sqlglot
    from sqlglot import exp

    # sqlglot logs a warning for each statement it can only keep as an opaque "Command"; guard treats those
    # as unreadable itself (and says so in a diagnostic), so the warning is noise on the user's terminal.
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    tokens = unit.sql.tokens
    text = unit.sql.text[tokens[first].start : tokens[last].end + 1]
    try:
        trees = sqlglot.parse(text, read="postgres")
    except Exception:
        return None
    statements = [tree for tree in trees if tree is not None]
    if not statements or len(statements) != len(trees) or any(isinstance(tree, exp.Command) for tree in statements):
        return None
    writes: list[WriteStatement] = []
    for tree in statements:
        for node in tree.find_all(exp.Insert, exp.Copy):
            if isinstance(node, exp.Copy) and not node.args.get("kind"):
                continue  # COPY ... TO is a read
            writes.append(_sqlglot_write(unit, first, last, context, node))
    return writes


def _sqlglot_write(unit: Unit, first: int, last: int, context: str, node: Any) -> WriteStatement:
    from sqlglot import exp

    target = node.this
    columns: tuple[str, ...] | None = None
    if isinstance(target, exp.Schema):
        columns = tuple(_fold(identifier) for identifier in target.expressions)
        target = target.this
    table = _table_name(target)
    kind, width, values, defaults, on_conflict = "copy", None, [], [], None
    if isinstance(node, exp.Insert):
        source = node.expression
        if isinstance(source, exp.Values):
            rows = [row.expressions if isinstance(row, exp.Tuple) else [row] for row in source.expressions]
            width = max((len(row) for row in rows), default=0)
            values = [value.sql(dialect="postgres") for value in rows[0]] if rows else []
            defaults = sorted({i for row in rows for i, value in enumerate(row) if _is_default(value)})
            kind = "insert"
        else:
            kind = "insert-select"
            select = source if isinstance(source, exp.Select) else None
            if select is not None and not any(isinstance(item, exp.Star) for item in select.expressions):
                width = len(select.expressions)
                values = [item.unalias().sql(dialect="postgres") for item in select.expressions]
        conflict = node.args.get("conflict")
        if conflict is not None:
            kind = "upsert"
            on_conflict = "nothing" if conflict.args.get("nothing") else "update"
    keys = list(columns) if columns is not None else [f"#{n}" for n in range(1, max(len(values), width or 0) + 1)]
    line, column = unit.position(unit.sql.tokens[first].start)
    return WriteStatement(
        relpath=unit.candidate.relpath,
        line=line,
        column=column,
        kind=kind,
        table=table,
        columns=columns,
        sql=unit.source_tokens(first, last),
        values_width=width,
        column_values=tuple(zip(keys, values, strict=False)),
        default_columns=tuple(keys[i] for i in defaults if i < len(keys)),
        on_conflict=on_conflict,
        dynamic=names_a_hole(table, columns),
        best_effort=unit.candidate.best_effort,
        parser="sqlglot",
        origin=unit.origin,
        context=context,
        end_line=unit.line(unit.sql.tokens[last].end),
    )


def _fold(identifier: Any) -> str:
    """Postgres folding: unquoted names are lower-cased, quoted ones kept."""
    name = str(identifier.name)
    return name if getattr(identifier, "quoted", False) or identifier.args.get("quoted") else name.lower()


def _table_name(table: Any) -> str | None:
    from sqlglot import exp

    if not isinstance(table, exp.Table):
        return None
    name = _fold(table.this) if table.this is not None else ""
    schema = table.args.get("db")
    return f"{_fold(schema)}.{name}" if schema is not None else name or None


def _is_default(value: Any) -> bool:
    from sqlglot import exp

    return isinstance(value, (exp.Var, exp.Column)) and value.name.upper() == "DEFAULT"
