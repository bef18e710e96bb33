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
    canonical = RawStream()(select.whereClause)
    return Predicate(
        text=text, canonical=canonical, functions=tuple(sorted(functions)), operators=tuple(sorted(operators))
    )


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
                            raise GuardError(
                                f"{subject} must not contain a data-modifying WITH (INSERT/UPDATE/DELETE)"
                            )
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
    from psycopg import sql

    schema, _, bare = name.rpartition(".")
    query = sql.SQL(
        "{select} JOIN pg_namespace n ON n.oid = {namespace} WHERE {name} = %(name)s AND CASE WHEN %(schema)s = ''"
        " THEN n.nspname = ANY(current_schemas(true)) ELSE n.nspname = %(schema)s END"
    ).format(select=sql.SQL(select), namespace=sql.SQL(namespace_column), name=sql.SQL(name_column))
    return {row[0] for row in conn.execute(query, {"name": bare, "schema": schema}).fetchall()}


def validate_predicate(conn: psycopg.Connection, text: str) -> Predicate:
    """Parse and check ``text``; the result is safe to compose into a read query."""
    predicate = parse_predicate(text)
    check_functions(conn, predicate)
    return predicate
