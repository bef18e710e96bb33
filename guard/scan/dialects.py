"""Which database a piece of SQL is for, when it is not PostgreSQL.

guard protects PostgreSQL tables; a write into SQLite, ClickHouse, Snowflake, BigQuery or MySQL is not
its business, and ClickHouse or MySQL DDL that Postgres' parser rejects is not "SQL guard could not read".
Two signals, the stronger first:

* the client the code talks through: a Python module whose only database clients are ``sqlite3``,
  ``clickhouse_driver``, ``snowflake.connector``, ``google.cloud.bigquery``, ``pymysql``... (or whose
  SQLAlchemy URLs all name such a database) writes there (:func:`dialect_of_module`);
* the text itself, for a statement Postgres' parser (pglast) rejects: sqlglot's PostgreSQL reading is
  lenient, so a statement it accepts still counts as foreign when its tree holds a construct PostgreSQL
  does not have (``ENGINE = MergeTree``, ``AUTO_INCREMENT``, ``INSERT OR REPLACE``, ``COPY INTO @stage``);
  one it rejects is foreign when another dialect reads it (:func:`foreign_dialect`).

Writes found in foreign SQL stay in the inventory with their dialect and never become findings.
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: Dialects tried, in order, for a statement PostgreSQL cannot read.
FOREIGN_DIALECTS = ("clickhouse", "mysql", "sqlite", "snowflake", "bigquery")

#: Top-level module of a database client -> the dialect it speaks; None = PostgreSQL or unknown (ORMs).
_CLIENT_DIALECTS: dict[str, str | None] = {
    "sqlite3": "sqlite",
    "aiosqlite": "sqlite",
    "apsw": "sqlite",
    "sqlite_utils": "sqlite",
    "clickhouse_driver": "clickhouse",
    "clickhouse_connect": "clickhouse",
    "aiochclient": "clickhouse",
    "asynch": "clickhouse",
    "clickhouse_sqlalchemy": "clickhouse",
    "snowflake": "snowflake",
    "pymysql": "mysql",
    "MySQLdb": "mysql",
    "aiomysql": "mysql",
    "asyncmy": "mysql",
    "mysql": "mysql",
    "duckdb": "duckdb",
    "pandas_gbq": "bigquery",
    # PostgreSQL clients, and libraries that may talk to PostgreSQL: their presence means "not only foreign".
    "psycopg": None,
    "psycopg2": None,
    "psycopg2cffi": None,
    "asyncpg": None,
    "pg8000": None,
    "aiopg": None,
    "databases": None,
    "records": None,
    "django": None,
    "peewee": None,
    "tortoise": None,
    "alembic": None,
}
#: Dotted client modules whose top-level package is not a client on its own (``google``).
_DOTTED_CLIENTS = {"google.cloud.bigquery": "bigquery"}
#: SQLAlchemy URL schemes (the part before ``+driver``) -> dialect; ``postgresql`` means PostgreSQL.
_URL_DIALECTS = {
    "sqlite": "sqlite",
    "clickhouse": "clickhouse",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "mysql": "mysql",
    "mariadb": "mysql",
    "duckdb": "duckdb",
    "postgresql": None,
    "postgres": None,
    "cockroachdb": None,
}
_ENGINE_FACTORIES = frozenset({"create_engine", "create_async_engine", "engine_from_config"})


@dataclass(frozen=True)
class ForeignSql:
    """A statement read in another dialect: which, and sqlglot's trees of it."""

    dialect: str
    trees: tuple[Any, ...]


def dialect_of_module(tree: ast.Module) -> str | None:
    """The one non-PostgreSQL dialect every database client of the module speaks, else None.

    None when the module uses no client, a PostgreSQL client, an ORM that may be on PostgreSQL, or clients
    of several dialects: guard then treats its SQL as PostgreSQL, as it always did.
    """
    dialects: set[str | None] = set()
    for module in _imported_modules(tree):
        dialect = _client_dialect(module)
        if dialect != "":
            dialects.add(dialect)
    urls = set(_engine_url_dialects(tree))
    if "sqlalchemy" in {m.split(".")[0] for m in _imported_modules(tree)}:
        dialects |= urls if urls else {None}
    if len(dialects) == 1:
        return next(iter(dialects))
    return None


def _imported_modules(tree: ast.Module) -> Iterable[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
            for alias in node.names:
                yield f"{node.module}.{alias.name}"


def _client_dialect(module: str) -> str | None:
    """The dialect of a client module; ``""`` when the module is no database client at all."""
    for dotted, dialect in _DOTTED_CLIENTS.items():
        if module == dotted or module.startswith(dotted + "."):
            return dialect
    top = module.split(".")[0]
    if top == "mysql" and not module.startswith("mysql.connector") and module != "mysql":
        return ""
    return _CLIENT_DIALECTS.get(top, "")


def _engine_url_dialects(tree: ast.Module) -> Iterable[str | None]:
    """Dialects named by the string URLs given to ``create_engine(...)`` and friends."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        function = node.func
        name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
        url = node.args[0]
        if name in _ENGINE_FACTORIES and isinstance(url, ast.Constant) and isinstance(url.value, str):
            scheme = url.value.split(":", 1)[0].split("+", 1)[0].lower()
            if scheme in _URL_DIALECTS:
                yield _URL_DIALECTS[scheme]


def foreign_dialect(text: str) -> ForeignSql | None:
    """The dialect of a statement Postgres' parser rejected, when it is recognisably another one."""
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    postgres = _read(text, "postgres")
    if postgres is not None:
        marked = _marker_dialect(postgres)
        if marked is None:
            return None  # PostgreSQL as far as anyone can tell: Postgres' own parser just disliked it
        trees = _read(text, marked)
        return ForeignSql(marked, trees if trees is not None else postgres)
    for dialect in FOREIGN_DIALECTS:
        trees = _read(text, dialect)
        if trees is not None:
            return ForeignSql(dialect, trees)
    return None


def _read(text: str, dialect: str) -> tuple[Any, ...] | None:
    """sqlglot's trees of ``text`` in ``dialect``; None if it cannot read every statement properly."""
    import sqlglot
    from sqlglot import exp

    try:
        trees = sqlglot.parse(text, read=dialect)
    except Exception:
        return None
    if not trees or any(tree is None or isinstance(tree, exp.Command) for tree in trees):
        return None
    return tuple(trees)


def _marker_dialect(trees: tuple[Any, ...]) -> str | None:
    """A dialect betrayed by a construct PostgreSQL does not have, in trees sqlglot read as PostgreSQL."""
    from sqlglot import exp

    for tree in trees:
        for node in tree.walk():
            if isinstance(node, exp.EngineProperty):
                engine = node.this.name if hasattr(node.this, "name") else str(node.this)
                return "mysql" if engine.lower() in ("innodb", "myisam", "memory", "aria") else "clickhouse"
            if isinstance(node, (exp.CharacterSetProperty, exp.CollateProperty)) and isinstance(
                node.parent, exp.Properties
            ):
                return "mysql"
            if isinstance(node, exp.AutoIncrementColumnConstraint):
                return "mysql"
            if isinstance(node, exp.OnConflict) and node.args.get("duplicate"):
                return "mysql"  # ON DUPLICATE KEY UPDATE
            if isinstance(node, exp.Insert) and node.args.get("alternative"):
                return "sqlite"  # INSERT OR REPLACE / OR IGNORE
            if isinstance(node, exp.Copy) and _names_a_stage(node):
                return "snowflake"
    return None


def _names_a_stage(copy: Any) -> bool:
    """``COPY INTO t FROM @stage``: Snowflake loads from stages, PostgreSQL has no such thing."""
    return any(str(item.sql()).startswith("@") for item in copy.args.get("files") or ())
