"""What guard's Alembic ``env.py`` does, as an importable, typed module.

Standalone (``guard migrate``) the version table is ``guard.alembic_version``, so guard never touches an
application's own ``alembic_version``. The DSN and lock policy come from ``Config.attributes`` (set by
:mod:`guard.db.migrate`), else from ``-x dsn=...`` / ``GUARD_DSN`` / ``sqlalchemy.url`` for plain ``alembic``.
"""

from __future__ import annotations

import os
from typing import Any

from alembic import context as alembic_context

from guard.db.connect import engine
from guard.db.locks import LockPolicy
from guard.db.operations import DEFERRED_VALIDATION, KNOWN_STATES  # importing it registers op.guard_table & co.
from guard.db.validation import validate_pending
from guard.errors import GuardError

VERSION_TABLE_SCHEMA = "guard"
VERSION_TABLE = "alembic_version"


def _dsn() -> str | None:
    config = alembic_context.config
    return (
        config.attributes.get("dsn")
        or alembic_context.get_x_argument(as_dictionary=True).get("dsn")
        or os.environ.get("GUARD_DSN")
        or config.get_main_option("sqlalchemy.url")
    )


def _options() -> dict[str, Any]:
    config = alembic_context.config
    lock_options = {k: v for k, v in config.attributes.items() if k.startswith("guard_lock_")}
    # the database's guarded tables, read by ``guard migrate --sql --dsn`` (each run gets its own copy)
    known = {KNOWN_STATES: dict(config.attributes.get(KNOWN_STATES, {}))}
    return {
        "version_table": VERSION_TABLE,
        "version_table_schema": VERSION_TABLE_SCHEMA,
        "transaction_per_migration": True,
        **lock_options,
        **known,
    }


def run_offline() -> None:
    """Print the SQL (``guard migrate --sql``): for a DBA to review and run by hand."""
    alembic_context.configure(
        url="postgresql+psycopg://", literal_binds=True, dialect_opts={"paramstyle": "named"}, **_options()
    )
    with alembic_context.begin_transaction():
        alembic_context.execute(f"CREATE SCHEMA IF NOT EXISTS {VERSION_TABLE_SCHEMA}")
        alembic_context.run_migrations()


def run_online() -> None:
    dsn = _dsn()
    if not dsn:
        raise GuardError("no database to migrate: pass --dsn (or set GUARD_DSN)")
    # guard's own connect(): an unreachable server or a malformed DSN fails with what to check, like every command.
    database = engine(dsn, "guard migrate")
    with database.connect() as connection:
        # The version table lives in schema guard, which must exist before Alembic creates it. Checked first:
        # CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege on the database even when the schema exists.
        exists = connection.exec_driver_sql(f"SELECT to_regnamespace('{VERSION_TABLE_SCHEMA}')").scalar()
        if exists is None:
            connection.exec_driver_sql(f"CREATE SCHEMA {VERSION_TABLE_SCHEMA}")
        connection.commit()
        options: dict[str, Any] = {**_options(), DEFERRED_VALIDATION: True}
        alembic_context.configure(connection=connection, **options)
        with alembic_context.begin_transaction():
            alembic_context.run_migrations()
        # Each revision committed with its version row; the check of stored rows comes last (and finishes
        # whatever an interrupted or failed earlier run left unchecked).
        validate_pending(connection, LockPolicy.from_options(options))
    database.dispose()


def run() -> None:
    if alembic_context.is_offline_mode():
        run_offline()
    else:
        run_online()
