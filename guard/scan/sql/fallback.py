"""What to do with a statement Postgres' parser rejects.

First decide whether it is SQL at all: application strings such as ``"Insert into the queue failed"`` start
with a keyword but are prose, and must produce nothing (no write, no diagnostic). The decision looks at the
scanner's tokens for the shape of a statement (``INSERT INTO name (`` / ``VALUES`` / ``SELECT``...).

SQL that pglast rejects is read by sqlglot (:mod:`.dialects`): as PostgreSQL when nothing in it betrays another
database (sqlglot is more lenient and can still tell the target table and columns), else in the dialect it is
written in, and its writes carry that dialect.
"""

from __future__ import annotations

from typing import Any

from guard.model import HOLE_PREFIX, WriteStatement
from guard.scan.sql.dialects import SqlglotReading
from guard.scan.sql.text import Unit, names_a_hole

_WORD_KINDS = frozenset({"IDENT", "UIDENT"})
_WRITE_KEYWORDS = frozenset({"INSERT", "COPY", "MERGE"})
#: Words between CREATE/ALTER/DROP and the kind of object (scanner token names).
_DDL_MODIFIERS = frozenset(
    {
        "OR",
        "REPLACE",
        "TEMP",
        "TEMPORARY",
        "UNLOGGED",
        "GLOBAL",
        "LOCAL",
        "MATERIALIZED",
        "UNIQUE",
        "RECURSIVE",
        "TRUSTED",
        "PROCEDURAL",
        "CONSTRAINT",
        "DEFAULT",
        "IF_P",
        "NOT",
        "EXISTS",
        "CONCURRENTLY",
    }
)
#: The kinds of object DDL statements name (scanner token names).
_DDL_OBJECTS = frozenset(
    {
        "TABLE",
        "INDEX",
        "VIEW",
        "SCHEMA",
        "FUNCTION",
        "PROCEDURE",
        "TRIGGER",
        "TYPE_P",
        "EXTENSION",
        "SEQUENCE",
        "DATABASE",
        "ROLE",
        "USER",
        "DOMAIN_P",
        "POLICY",
        "RULE",
        "AGGREGATE",
        "OPERATOR",
        "CAST",
        "COLLATION",
        "PUBLICATION",
        "SUBSCRIPTION",
        "SERVER",
        "STATISTICS",
        "TABLESPACE",
        "EVENT",
        "LANGUAGE",
        "CONVERSION_P",
        "ACCESS",
        "FOREIGN",
        "TEXT_P",
        "TRANSFORM",
        "GROUP_P",
        "COLUMN",
        "ROUTINE",
        "OWNED",
    }
)
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
        into = _into_index(unit, first, last)
        return into is not None and _insert_shape(unit, into + 1, last)
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
    if lead == "TRUNCATE":
        return len(tokens) > 1 and _is_name(unit, first + 1)
    if lead in ("CREATE", "ALTER", "DROP"):
        # DDL names what it creates right after its modifiers; a UI label ("Create New Role") does not
        index = 1
        while index < len(names) and names[index] in _DDL_MODIFIERS:
            index += 1
        return len(names) > index + 1 and names[index] in _DDL_OBJECTS
    if lead == "DO":
        return len(names) > 1 and names[1] == "SCONST"
    return False


def _into_index(unit: Unit, first: int, last: int) -> int | None:
    """Index of the ``INTO`` of ``INSERT INTO``, also after SQLite's ``OR REPLACE``/``OR IGNORE`` and MySQL's
    ``IGNORE`` (statements another dialect reads)."""
    tokens = unit.sql.tokens
    for skip in (1, 2, 3):
        at = first + skip
        if at > last:
            return None
        if tokens[at].name == "INTO":
            between = {unit.sql.word(index).upper() for index in range(first + 1, at)}
            return at if between <= {"OR", "REPLACE", "IGNORE", "ABORT", "FAIL", "ROLLBACK"} else None
    return None


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
    """An ``INSERT INTO`` whose interpolated parts (holes) broke the grammar, or that another database reads:
    what its tokens still tell.

    ``f"INSERT INTO {table} {columns_sql} VALUES ..."`` cannot be parsed, yet it is a write the dynamic-SQL
    rule must report for review. The target and column list are read from the tokens; the write is marked
    dynamic and ``parser="textual"``.
    """
    sql = unit.sql
    if last - first < 2 or sql.tokens[first].name != "INSERT":
        return None
    into = _into_index(unit, first, last)
    if into is None:
        return None
    # another database's INSERT (clickhouse-driver's "INSERT INTO t (a, b) VALUES" + rows) is listed as it is
    foreign = unit.candidate.dialect is not None
    if not foreign and not any(sql.word(index).startswith(HOLE_PREFIX) for index in range(first, last + 1)):
        return None
    index = into + 1
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
    table = ".".join(_fold_word(part) for part in parts)
    return WriteStatement(
        relpath=unit.candidate.relpath,
        line=line,
        column=column,
        kind="insert",
        table=table,
        columns=columns,
        sql=unit.source_tokens(first, last),
        dynamic=not foreign or names_a_hole(table, columns),
        best_effort=unit.candidate.best_effort,
        parser="textual",
        origin=unit.origin,
        context=context,
        end_line=unit.line(sql.tokens[last].end),
        dialect=unit.candidate.dialect,
    )


def _fold_word(word: str) -> str:
    if len(word) >= 2 and word.startswith('"') and word.endswith('"'):
        return word[1:-1].replace('""', '"')
    return word.lower()


def sqlglot_writes(unit: Unit, first: int, last: int, context: str, reading: SqlglotReading) -> list[WriteStatement]:
    """Writes in a statement sqlglot read (``reading``), marked with its dialect when it is not PostgreSQL."""
    from sqlglot import exp

    writes: list[WriteStatement] = []
    for tree in reading.trees:
        for node in tree.find_all(exp.Insert, exp.Copy):
            if isinstance(node, exp.Copy) and not node.args.get("kind"):
                continue  # COPY ... TO is a read
            writes.append(_sqlglot_write(unit, first, last, context, node, reading.dialect))
    return writes


def statement_text(unit: Unit, first: int, last: int) -> str:
    tokens = unit.sql.tokens
    return unit.sql.text[tokens[first].start : tokens[last].end + 1]


def write_keyword(unit: Unit, first: int, last: int) -> int:
    """Index of the statement's own write keyword (``INSERT``/``COPY``/``MERGE`` outside brackets, so after a
    ``WITH`` list), where the write is reported; the first token when there is none."""
    depth = 0
    for index in range(first, last + 1):
        name = unit.sql.tokens[index].name
        if name in ("ASCII_40", "ASCII_91"):
            depth += 1
        elif name in ("ASCII_41", "ASCII_93"):
            depth -= 1
        elif depth == 0 and name in _WRITE_KEYWORDS:
            return index
    return first


def _sqlglot_write(unit: Unit, first: int, last: int, context: str, node: Any, dialect: str | None) -> WriteStatement:
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
    line, column = unit.position(unit.sql.tokens[write_keyword(unit, first, last)].start)
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
        dialect=dialect,
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
