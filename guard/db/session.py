"""The one way guard reads a production database: read-only by default, bounded in time, never queueing on locks.

Detection, freshness, quarantine, bounds, rollout and ``guard scan --dsn``'s catalog read run against production
warehouses while writers are busy. Plain SELECTs in a READ ONLY transaction take only ACCESS SHARE locks, which
never block INSERT/UPDATE/DELETE; the statement timeout bounds a scan on a table without an index, and the lock
timeout keeps us from waiting (and making others wait) behind a pending ALTER TABLE.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from guard.db import connect as connections

if TYPE_CHECKING:
    import psycopg

DEFAULT_STATEMENT_TIMEOUT = 300.0  # seconds
LOCK_TIMEOUT = 5.0  # seconds
#: per-query memory for sorts and hashes: a year of minute windows (~525k groups) aggregates without spilling
WORK_MEM = "64MB"


@contextmanager
def transaction(
    dsn: str,
    *,
    read_only: bool = True,
    statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT,
    application_name: str = "guard-watch",
) -> Iterator[psycopg.Connection]:
    """One REPEATABLE READ transaction (a single snapshot across multi-query reports), committed on success."""
    with (
        session(dsn, application_name=application_name) as conn,
        transaction_on(conn, read_only=read_only, statement_timeout=statement_timeout),
    ):
        yield conn


@contextmanager
def session(dsn: str, *, application_name: str = "guard-watch") -> Iterator[psycopg.Connection]:
    """A connection for several transactions in a row (they share its temporary tables); closed at the end."""
    conn = connections.connect(dsn, application_name=application_name)
    try:
        yield conn
    finally:
        conn.close()


@contextmanager
def transaction_on(
    conn: psycopg.Connection,
    *,
    read_only: bool = True,
    statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT,
    snapshot: bool = True,
) -> Iterator[psycopg.Connection]:
    """A transaction on ``conn``: READ ONLY unless asked, REPEATABLE READ unless ``snapshot`` is False.

    READ COMMITTED (``snapshot=False``) is for a writer that first takes a lock: each statement then sees what
    was committed before it got the lock, where a REPEATABLE READ snapshot would predate the wait.
    """
    from psycopg import IsolationLevel

    conn.read_only = read_only
    conn.isolation_level = IsolationLevel.REPEATABLE_READ if snapshot else IsolationLevel.READ_COMMITTED
    with conn.transaction():
        _set_local(conn, "statement_timeout", statement_timeout)
        _set_local(conn, "lock_timeout", LOCK_TIMEOUT)
        conn.execute("SELECT set_config('work_mem', %s, true)", (WORK_MEM,))
        yield conn


def _set_local(conn: psycopg.Connection, setting: str, seconds: float) -> None:
    milliseconds = max(1, int(seconds * 1000))
    conn.execute("SELECT set_config(%s, %s, true)", (setting, f"{milliseconds}ms"))
