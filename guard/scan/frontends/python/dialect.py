"""Which database a Python module's SQL is sent to, from the clients it imports.

guard protects PostgreSQL. A module whose only database clients are ``sqlite3``, ``clickhouse_driver``,
``snowflake.connector``, ``google.cloud.bigquery``, ``pymysql``... (or whose SQLAlchemy URLs all name such a
database) writes somewhere else: its writes stay in the inventory with their dialect and never become findings,
and its DDL does not shape the PostgreSQL catalog. A module that also imports a PostgreSQL client, or an ORM
without a URL saying otherwise, is PostgreSQL as before: calls are not attributed one by one.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from guard.scan.frontends.python.scope import nested_statements

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


#: Words one of which a module's text must contain for it to talk to another database (a cheap first test).
_FOREIGN_WORDS = ("sqlite", "clickhouse", "asynch", "snowflake", "bigquery", "mysql", "MySQLdb", "duckdb", "apsw")


def may_be_foreign(text: str) -> bool:
    """Whether the module's text names a non-PostgreSQL client at all (most modules do not: no walk needed)."""
    return any(word in text for word in _FOREIGN_WORDS)


def dialect_of_module(tree: ast.Module) -> str | None:
    """The one non-PostgreSQL dialect every database client of the module speaks, else None.

    None when the module uses no client, a PostgreSQL client, an ORM that may be on PostgreSQL, or clients
    of several dialects: guard then treats its SQL as PostgreSQL, as it always did. Only statements are walked
    (imports, and ``create_engine("sqlite://...")`` as a statement's value): expressions cannot import.
    """
    dialects: set[str | None] = set()
    uses_sqlalchemy = False
    urls: set[str | None] = set()
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for module in _imported_modules(node):
                uses_sqlalchemy = uses_sqlalchemy or module.split(".")[0] == "sqlalchemy"
                dialect = _client_dialect(module)
                if dialect != "":
                    dialects.add(dialect)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.Expr, ast.Return)) and node.value is not None:
            url = _engine_url_dialect(node.value)
            if url != "":
                urls.add(url)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stack.extend(node.body)
        else:
            stack.extend(nested_statements(node))
    if uses_sqlalchemy:
        dialects |= urls if urls else {None}
    if len(dialects) == 1:
        return next(iter(dialects))
    return None


def _imported_modules(node: ast.Import | ast.ImportFrom) -> Iterable[str]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
    elif node.module and not node.level:
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


def _engine_url_dialect(value: ast.expr) -> str | None:
    """The dialect a ``create_engine("<url>", ...)`` call names (None: PostgreSQL); ``""`` for anything else."""
    if not isinstance(value, ast.Call) or not value.args:
        return ""
    function = value.func
    name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
    url = value.args[0]
    if name in _ENGINE_FACTORIES and isinstance(url, ast.Constant) and isinstance(url.value, str):
        scheme = url.value.split(":", 1)[0].split("+", 1)[0].lower()
        return _URL_DIALECTS.get(scheme, "")
    return ""
