"""The live database's view of the tables (``guard scan --dsn``): the truth about column order and defaults.

Only catalog queries run, inside a ``READ ONLY`` transaction with a statement timeout, so pointing guard at a
production database cannot change it or hold locks for long.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from guard.db.session import transaction
from guard.errors import GuardError, db_error_summary
from guard.model import TableInfo

#: Ordinary and partitioned tables, columns in table order (dropped columns skipped), with their default
#: expressions as Postgres prints them. Generated columns' expressions are not defaults and are left out.
_COLUMNS_QUERY = """
SELECT n.nspname, c.relname, a.attname,
       CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid) END
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE c.relkind IN ('r', 'p')
  AND n.nspname <> 'information_schema'
  AND n.nspname !~ '^pg_'
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY(%(schemas)s::text[]))
ORDER BY n.nspname, c.relname, a.attnum
"""
#: Tables guard protects in this database, with the default its sentinel replaced. Read only when the guard
#: schema exists and the user may read it (guard_reader); otherwise the scan goes on without it.
_PROTECTED_QUERY = """
SELECT table_name, timestamp_column, mode, original_default FROM guard.protected_tables
"""
#: Catalog queries are quick; a database that takes longer is overloaded, and the scan should say so.
STATEMENT_TIMEOUT = 30.0  # seconds


def load_live_catalog(dsn: str, schemas: Sequence[str] | None = None) -> list[TableInfo]:
    """Every table of the database at ``dsn`` (or of ``schemas`` only), with ordered columns and defaults."""
    import psycopg

    try:
        with transaction(dsn, statement_timeout=STATEMENT_TIMEOUT, application_name="guard-scan") as connection:
            rows = connection.execute(
                _COLUMNS_QUERY, {"schemas": list(schemas) if schemas is not None else None}
            ).fetchall()
            protected = _protected_tables(connection)
    except psycopg.Error as exc:
        reason = db_error_summary(exc)
        raise GuardError(
            f"cannot read the table catalog ({reason}); check that the --dsn user may read pg_catalog"
        ) from None
    tables: dict[str, TableInfo] = {}
    for schema, table, column, default in rows:
        name = f"{schema}.{table}"
        info = tables.get(name)
        if info is None:
            info = tables[name] = TableInfo(name=name, complete=True, sources=["database"])
        info.columns.append(column)
        if default is not None:
            info.defaults[column] = default
    for name, column, mode, original in protected:
        info = tables.get(name)
        if info is None:
            continue
        info.guard_mode = mode
        info.sources.append(f"guard:{mode}")
        if original is not None:
            # what the column meant before guard swapped in its sentinel: keeps "which column is the creation
            # timestamp" and the findings' wording the same as on an unprotected database
            info.defaults[column] = original
    return list(tables.values())


def _protected_tables(connection: Any) -> list[tuple[str, str, str, str | None]]:
    """``guard.protected_tables`` when it exists and is readable (a savepoint keeps a refusal harmless)."""
    import psycopg

    exists = connection.execute("SELECT pg_catalog.to_regclass('guard.protected_tables') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return []
    try:
        with connection.transaction():
            return [tuple(row) for row in connection.execute(_PROTECTED_QUERY).fetchall()]
    except psycopg.errors.InsufficientPrivilege:
        return []
