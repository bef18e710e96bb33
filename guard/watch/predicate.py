"""Validate a user's ``--where`` predicate before it gets anywhere near the database.

The predicate is parsed with the real Postgres parser (pglast) as the WHERE clause of
``SELECT 1 FROM <table> WHERE <predicate>``. It must be exactly one plain SELECT whose only clause is that
WHERE: no second statement (``; DELETE ...``), no ``FOR UPDATE`` (locks), no ``INTO`` (creates a table), no
set operations, and nothing inside that writes (data-modifying CTEs, INSERT/UPDATE/DELETE/MERGE/CALL or
utility nodes). Function calls are then checked against the catalog: only immutable or stable functions
(plus a few harmless volatile ones) may run, because volatile functions are how SQL reaches side effects
(``pg_sleep``, ``set_config``, ``nextval``, ``dblink_exec``, user functions that write).

What runs is the predicate *re-generated from the validated tree* (comments and trailing text gone),
wrapped in parentheses — never the user's string pasted blind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from guard.errors import GuardError

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

    from guard.watch.catalog import Table

#: volatile built-ins that read the clock or a random source and cannot write anything
HARMLESS_VOLATILE = frozenset({"random", "clock_timestamp", "timeofday", "gen_random_uuid", "statement_timestamp"})

#: SELECT clauses that must be absent: the predicate may only filter, never lock, group, sort, or union
_FORBIDDEN_SELECT_PARTS = {
    "lockingClause": "FOR UPDATE/SHARE (it would lock rows)",
    "intoClause": "INTO (it would create a table)",
    "withClause": "WITH",
    "groupClause": "GROUP BY",
    "havingClause": "HAVING",
    "sortClause": "ORDER BY",
    "limitCount": "LIMIT",
    "limitOffset": "OFFSET",
    "windowClause": "WINDOW",
    "distinctClause": "DISTINCT",
    "valuesLists": "VALUES",
}

#: a subquery may sort, group or union (it only reads), but must still not lock or create tables
_FORBIDDEN_IN_SUBQUERY = {key: _FORBIDDEN_SELECT_PARTS[key] for key in ("lockingClause", "intoClause")}


@dataclass(frozen=True)
class Predicate:
    """A validated predicate: the user's text and the canonical SQL regenerated from its parse tree."""

    text: str
    canonical: str
    functions: tuple[str, ...]  # function names called, lower case, schema-qualified when written so
    operators: tuple[str, ...] = ()  # operator names used (a user-defined operator can call any function)
    types: tuple[str, ...] = ()  # types cast to (a domain's CHECK or a user type's input function runs code)
    relations: tuple[str, ...] = ()  # relations subqueries read, as written
    aliases: tuple[tuple[str, str], ...] = ()  # (alias, relation as written) of subquery FROM items
    qualified_columns: tuple[tuple[str, ...], ...] = ()  # `a.b` references: a function call on a row if b is none

    def composable(self) -> sql.Composable:
        """The predicate as SQL, parenthesised, to place after ``WHERE``/``AND``."""
        from psycopg import sql

        return sql.SQL("(") + sql.SQL(self.canonical) + sql.SQL(")")


def parse_predicate(text: str) -> Predicate:
    """Structural validation with pglast; raises :class:`GuardError` saying what is not allowed."""
    from pglast import ast, parse_sql
    from pglast.parser import ParseError
    from pglast.stream import RawStream

    if not text.strip():
        raise GuardError("--where is empty; give a boolean SQL expression such as \"lead_source = 'Imported'\"")
    prefix = "SELECT 1 FROM guard_predicate_target WHERE "
    try:
        statements = parse_sql(prefix + text)
    except ParseError as exc:
        message = exc.args[0] if exc.args else str(exc)
        location = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else -1
        where = f" at character {location - len(prefix) + 1}" if location >= len(prefix) else ""
        raise GuardError(
            f"--where is not a valid SQL boolean expression ({message}{where}); check quoting and parentheses"
        ) from None
    if len(statements) != 1:
        raise GuardError("--where must be a single expression; ';' and further statements are not allowed")
    select = statements[0].stmt
    if not isinstance(select, ast.SelectStmt):
        raise GuardError("--where must be a boolean expression usable after WHERE")
    _check_select_shape(select, top_level=True)
    if select.whereClause is None:
        raise GuardError("--where must be a boolean expression usable after WHERE")
    functions, operators = check_read_only_tree(select.whereClause, "--where")
    references = _catalog_references(select.whereClause)
    canonical = RawStream()(select.whereClause)
    return Predicate(
        text=text,
        canonical=canonical,
        functions=tuple(sorted(functions)),
        operators=tuple(sorted(operators)),
        types=tuple(sorted(references.types)),
        relations=tuple(sorted(references.relations)),
        aliases=tuple(sorted(references.aliases)),
        qualified_columns=tuple(sorted(references.columns)),
    )


@dataclass
class _References:
    types: set[str]
    relations: set[str]
    aliases: set[tuple[str, str]]
    columns: set[tuple[str, ...]]


def _catalog_references(root: Any) -> _References:
    """Types cast to, relations read, and qualified column references under ``root`` (checked in the catalog)."""
    from pglast import ast
    from pglast.visitors import Visitor

    found = _References(set(), set(), set(), set())

    class _Walker(Visitor):
        def visit(self, ancestors: Any, node: Any) -> None:
            if isinstance(node, ast.TypeName):
                found.types.add(_qualified_name(node.names))
            elif isinstance(node, ast.RangeVar):
                relation = ".".join(part for part in (node.schemaname, node.relname) if part)
                found.relations.add(relation)
                if node.alias is not None and node.alias.aliasname:
                    found.aliases.add((node.alias.aliasname, relation))
            elif isinstance(node, ast.ColumnRef):
                fields = tuple(part.sval or "" for part in node.fields or () if isinstance(part, ast.String))
                if len(fields) > 1 and len(fields) == len(node.fields or ()):  # `t.*` is a whole row, not a call
                    found.columns.add(fields)

    _Walker()(root)
    return found


def _check_select_shape(select: Any, *, top_level: bool, subject: str = "--where") -> None:
    from pglast.enums import SetOperation

    if top_level and select.op not in (None, SetOperation.SETOP_NONE):
        raise GuardError("--where must not contain UNION/INTERSECT/EXCEPT outside a subquery")
    forbidden = _FORBIDDEN_SELECT_PARTS if top_level else _FORBIDDEN_IN_SUBQUERY
    for attribute, label in forbidden.items():
        if getattr(select, attribute, None):
            advice = "give only a boolean expression" if top_level else "it may only read"
            raise GuardError(f"{subject} must not contain {label}; {advice}")
    if top_level and (len(select.fromClause or ()) != 1 or len(select.targetList or ()) != 1):
        raise GuardError("--where must be a boolean expression only (no extra FROM items or select list)")


def _qualified_name(parts: Any) -> str:
    """``('pg_catalog', 'lower')`` string nodes -> ``pg_catalog.lower`` (functions keep case-folded names)."""
    from pglast import ast

    return ".".join((part.sval or "") for part in parts or () if isinstance(part, ast.String))


def check_read_only_tree(root: Any, subject: str) -> tuple[set[str], set[str]]:
    """Walk every node under ``root``; reject writes and locks; collect the functions and operators used.

    ``subject`` names what is checked in messages (``--where``, ``metric revenue_7d``). Shared by the
    ``--where`` predicate and the metric queries of ``guard bounds``: both must only ever read.
    """
    from pglast import ast
    from pglast.visitors import Visitor

    functions: set[str] = set()
    operators: set[str] = set()

    class _Walker(Visitor):
        def visit(self, ancestors: Any, node: Any) -> None:
            if isinstance(node, ast.SelectStmt):
                _check_select_shape(node, top_level=False, subject=subject)
                if node.withClause is not None:
                    for cte in node.withClause.ctes or ():
                        if not isinstance(cte.ctequery, ast.SelectStmt):
                            raise GuardError(f"{subject} must not contain a data-modifying WITH (INSERT/UPDATE/DELETE)")
            elif isinstance(node, ast.FuncCall):
                functions.add(_qualified_name(node.funcname).lower())
            elif isinstance(node, ast.A_Expr) and node.name:
                operators.add(_qualified_name(node.name))
            elif type(node).__name__.endswith("Stmt") or isinstance(node, ast.MergeWhenClause):
                raise GuardError(f"{subject} must not contain a {type(node).__name__} (only reads are allowed)")

    _Walker()(root)
    return functions, operators


def check_functions(conn: psycopg.Connection, predicate: Predicate) -> None:
    """Reject predicates calling volatile functions (side effects), directly or through an operator."""
    check_volatility(conn, predicate.functions, predicate.operators, "--where", "a predicate")


def check_volatility(
    conn: psycopg.Connection, functions: Iterable[str], operators: Iterable[str], subject: str, kind: str
) -> None:
    """Reject calls to volatile functions (side effects), directly or through an operator.

    ``subject`` names what is checked (``--where``), ``kind`` what it is (``a predicate``, ``a metric query``).
    """
    for name in sorted(functions):
        schema, _, bare = name.rpartition(".")
        if bare in HARMLESS_VOLATILE and schema in ("", "pg_catalog"):
            continue
        volatilities = _volatilities(conn, "SELECT p.provolatile FROM pg_proc p", "p.proname", "p.pronamespace", name)
        if not volatilities:
            raise GuardError(f"{subject} calls {name}(), which does not exist in this database; check the spelling")
        if "v" in volatilities:
            raise GuardError(
                f"{subject} calls {name}(), a volatile function (it can have side effects); "
                f"only immutable or stable functions are allowed in {kind}"
            )
    for name in sorted(operators):
        query = "SELECT p.provolatile FROM pg_operator o JOIN pg_proc p ON p.oid = o.oprcode"
        if "v" in _volatilities(conn, query, "o.oprname", "o.oprnamespace", name):
            raise GuardError(
                f"{subject} uses operator {name}, which runs a volatile function (it can have side effects); "
                "only operators backed by immutable or stable functions are allowed"
            )


def _volatilities(
    conn: psycopg.Connection, select: str, name_column: str, namespace_column: str, name: str
) -> set[str]:
    """``provolatile`` of every function or operator called ``name`` visible from the search path."""
    return set(_catalog_rows(conn, select, name_column, namespace_column, name))


#: below this oid every object was created by initdb: the built-ins (FirstNormalObjectId)
FIRST_USER_OID = 16384
#: schemas a predicate may not read: the catalogs hold password hashes (pg_authid) and other secrets
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")


def validate_predicate(conn: psycopg.Connection, text: str, table: Table | None = None) -> Predicate:
    """Parse and check ``text``; the result is safe to compose into a read query over ``table``.

    Beyond the parse: only built-in functions and operators that are immutable or stable (user code can reach
    side effects even when declared stable), casts only to built-in types that are not domains, no system
    catalogs, and no ``table.f`` where ``f`` is not a column (PostgreSQL reads that as ``f(table)``).
    """
    predicate = parse_predicate(text)
    check_functions(conn, predicate)
    _check_built_in_functions(conn, predicate)
    _check_types(conn, predicate)
    _check_relations(conn, predicate)
    if table is not None:
        _check_qualified_columns(conn, predicate, table)
    return predicate


def _check_built_in_functions(conn: psycopg.Connection, predicate: Predicate) -> None:
    for name in predicate.functions:
        query = "SELECT p.oid::int8 >= %(first)s FROM pg_proc p"
        if any(_catalog_rows(conn, query, "p.proname", "p.pronamespace", name)):
            raise GuardError(
                f"--where calls {name}(), and a function of that name is user-defined; only PostgreSQL's "
                "built-in functions may run in a predicate (qualify a built-in as pg_catalog.NAME)"
            )
    for name in predicate.operators:
        query = "SELECT o.oid::int8 >= %(first)s OR o.oprcode::oid::int8 >= %(first)s FROM pg_operator o"
        if any(_catalog_rows(conn, query, "o.oprname", "o.oprnamespace", name)):
            raise GuardError(
                f"--where uses operator {name}, and an operator of that name is user-defined; only PostgreSQL's "
                "built-in operators may run in a predicate"
            )


def _catalog_rows(
    conn: psycopg.Connection, select: str, name_column: str, namespace_column: str, name: str
) -> list[Any]:
    """First column of ``select`` for every function or operator called ``name`` visible from the search path."""
    from psycopg import sql

    schema, _, bare = name.rpartition(".")
    query = sql.SQL(
        "{select} JOIN pg_namespace n ON n.oid = {namespace} WHERE {name} = %(name)s AND CASE WHEN %(schema)s = ''"
        " THEN n.nspname = ANY(current_schemas(true)) ELSE n.nspname = %(schema)s END"
    ).format(select=sql.SQL(select), namespace=sql.SQL(namespace_column), name=sql.SQL(name_column))
    params = {"name": bare, "schema": schema, "first": FIRST_USER_OID}
    return [row[0] for row in conn.execute(query, params).fetchall()]


def _check_types(conn: psycopg.Connection, predicate: Predicate) -> None:
    for name in predicate.types:
        row = conn.execute(
            "SELECT t.oid::int8, t.typtype FROM pg_type t WHERE t.oid = to_regtype(%s)", (name,)
        ).fetchone()
        if row is None:
            raise GuardError(f"--where casts to {name}, which is not a type in this database; check the spelling")
        if row[0] >= FIRST_USER_OID or row[1] in ("d", "e", "c", "p"):
            raise GuardError(
                f"--where casts to {name}, which is not a built-in base type (a domain's CHECK or a user type's "
                "input function would run code); cast to a built-in type such as text, int or date"
            )


def _check_relations(conn: psycopg.Connection, predicate: Predicate) -> None:
    for name in predicate.relations:
        row = conn.execute(
            "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.oid = to_regclass(%s)",
            (name,),
        ).fetchone()
        if row is None and "." not in name and name.startswith("pg_"):
            row = ("pg_catalog",)
        if row is not None and (row[0] in SYSTEM_SCHEMAS or row[0].startswith("pg_toast")):
            raise GuardError(
                f"--where reads {name}, a system catalog; a predicate may read only the warehouse's own tables"
            )


def _check_qualified_columns(conn: psycopg.Connection, predicate: Predicate, table: Table) -> None:
    """``jobs.rel_side`` with no column rel_side is the call ``rel_side(jobs)``: refuse it."""
    aliases = dict(predicate.aliases)
    for *qualifier, column in predicate.qualified_columns:
        written = ".".join(qualifier)
        if written in (table.name, table.qualified):
            known = table.column(column) is not None
        else:
            relation = aliases.get(written, written)
            known = bool(
                conn.execute(
                    "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s"
                    " AND attnum > 0 AND NOT attisdropped",
                    (relation, column),
                ).fetchone()
            )
        if not known:
            raise GuardError(
                f"--where refers to {written}.{column}, which is not a column; PostgreSQL would read it as the "
                f"function call {column}({written}), and predicates may not call functions on a row"
            )
