"""Check stored rows against guard constraints that were added ``NOT VALID``: a step of its own.

``op.guard_table`` commits the guard (default, constraint ``NOT VALID``, triggers) together with its version
row, so an interrupted ``guard migrate`` never leaves a guard the version table does not know about. New rows
are checked from that commit on; what remains is to check the rows already stored (``VALIDATE CONSTRAINT``,
a scan under ``SHARE UPDATE EXCLUSIVE`` that lets writers go on). That step is idempotent and is found again
from the catalog (``pg_constraint.convalidated``), so every ``guard migrate`` run finishes what an earlier,
interrupted or failed run left, under the same lock-timeout and retry policy as the guard statements.
"""

from __future__ import annotations

import time
from typing import Any

from psycopg import sql
from sqlalchemy.exc import DBAPIError

from guard.db.locks import LOCK_NOT_AVAILABLE, LockPolicy
from guard.errors import GuardError

#: raised by guard.reject_omitted() for a row holding the sentinel (also when VALIDATE finds a stored one)
OMITTED_TIMESTAMP = "GD001"
CHECK_VIOLATION = "23514"

PENDING_SQL = """
SELECT p.table_name, p.timestamp_column, con.conname
FROM guard.protected_tables AS p
JOIN pg_catalog.pg_namespace AS n ON true
JOIN pg_catalog.pg_class AS c ON c.relnamespace = n.oid AND n.nspname || '.' || c.relname = p.table_name
JOIN pg_catalog.pg_constraint AS con
  ON con.conrelid = c.oid AND con.conname = guard.check_name(c.oid, p.timestamp_column)
WHERE NOT con.convalidated
ORDER BY p.table_name
"""


def pending_tables(connection: Any) -> list[tuple[str, str, str]]:
    """(table, timestamp column, constraint) of every guarded table whose stored rows are not checked yet."""
    installed = connection.exec_driver_sql("SELECT to_regclass('guard.protected_tables')").scalar()
    if installed is None:
        return []
    return [(str(a), str(b), str(c)) for a, b, c in connection.exec_driver_sql(PENDING_SQL)]


def validate_pending(connection: Any, policy: LockPolicy) -> list[str]:
    """VALIDATE each pending guard constraint in a transaction of its own; returns the tables validated.

    ``connection`` is a SQLAlchemy connection outside a transaction. A lock wait longer than the policy's
    timeout is retried with backoff; a stored row holding the sentinel stops with what to fix.
    """
    done = []
    pending = pending_tables(connection)
    connection.commit()  # end the autobegun transaction of the reads: each VALIDATE runs in one of its own
    for table, column, constraint in pending:
        statement = sql.SQL("ALTER TABLE {} VALIDATE CONSTRAINT {}").format(
            sql.Identifier(*table.split(".", 1)), sql.Identifier(constraint)
        )
        _validate_one(connection, policy, table, column, statement.as_string(None))
        done.append(table)
    return done


def _validate_one(connection: Any, policy: LockPolicy, table: str, column: str, statement: str) -> None:
    for attempt in range(1, policy.tries + 1):
        try:
            with connection.begin():
                connection.exec_driver_sql(policy.set_timeout_sql())
                connection.exec_driver_sql(statement, execution_options={"no_parameters": True})
            return
        except DBAPIError as exc:
            state = getattr(exc.orig, "sqlstate", None)
            if state in (OMITTED_TIMESTAMP, CHECK_VIOLATION):
                raise GuardError(_bad_rows_message(connection, table, column)) from None
            if state != LOCK_NOT_AVAILABLE:
                raise
        if attempt < policy.tries:
            time.sleep(policy.backoff_seconds * 2 ** (attempt - 1))
    raise GuardError(
        f"{table} is guarded, but checking its stored rows (VALIDATE CONSTRAINT) could not get a lock after "
        f"{policy.tries} tries of {policy.timeout_seconds:g}s (a VACUUM, ANALYZE, CREATE INDEX CONCURRENTLY or "
        "another migration holds it); new rows are checked already. Run guard migrate again later, or raise "
        "--lock-timeout"
    )


def _bad_rows_message(connection: Any, table: str, column: str) -> str:
    where = sql.SQL("{} = '-infinity'").format(sql.Identifier(column)).as_string(None)
    query = f"SELECT * FROM {sql.Identifier(*table.split('.', 1)).as_string(None)} WHERE {where}"
    count = connection.exec_driver_sql(f"SELECT count(*) FROM ({query}) AS bad").scalar()
    connection.rollback()
    return (
        f"{table} is guarded (new rows are checked), but {count} stored row(s) hold '-infinity' in {column}, "
        f"so the check of stored rows (VALIDATE CONSTRAINT) failed. Fix or delete them ({query}), then run "
        "guard migrate again: it finishes the check"
    )
