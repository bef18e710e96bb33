"""Polite locking for migrations that alter busy tables.

A migration that queues for an ACCESS EXCLUSIVE lock behind a long transaction blocks every writer that
arrives after it. So each guard statement runs with a short ``lock_timeout`` inside a savepoint and is
retried with backoff; when all tries fail the migration stops with a message saying what to do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from alembic.operations import Operations
from psycopg import sql
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from guard.errors import GuardError

LOCK_NOT_AVAILABLE = "55P03"
#: progress of long database work (``guard migrate`` shows it on stderr unless --quiet)
PROGRESS = logging.getLogger("guard.migrate")


@dataclass(frozen=True)
class LockPolicy:
    """How long to wait for a lock per try, how many tries, and the first pause between tries."""

    timeout_seconds: float = 5.0
    tries: int = 5
    backoff_seconds: float = 1.0

    @classmethod
    def from_options(cls, opts: dict[str, Any]) -> LockPolicy:
        """Read the ``guard_lock_*`` options that ``guard migrate`` passes to ``context.configure``."""
        default = cls()
        return cls(
            timeout_seconds=float(opts.get("guard_lock_timeout", default.timeout_seconds)),
            tries=int(opts.get("guard_lock_tries", default.tries)),
            backoff_seconds=float(opts.get("guard_lock_backoff", default.backoff_seconds)),
        )

    def set_timeout_sql(self) -> str:
        milliseconds = max(1, int(self.timeout_seconds * 1000))
        return sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(f"{milliseconds}ms")).as_string(None)


def execute_politely(operations: Operations, table: str, statements: list[str]) -> None:
    """Run ``statements`` (the first of which locks ``table``) with the context's :class:`LockPolicy`.

    Offline (``--sql``) the ``SET LOCAL lock_timeout`` is printed before the statements so a DBA running
    the script gets the same protection, minus the retries. Online all of them run in one savepoint, so a
    lock wait that times out undoes the try as a whole before the next.
    """
    context = operations.get_context()
    policy = LockPolicy.from_options(context.opts)
    if context.as_sql:
        context.impl.static_output("".join(f"{line};\n" for line in [policy.set_timeout_sql(), *statements]))
        return

    def run(connection: Connection) -> None:
        for statement in statements:
            PROGRESS.info("%s: %s", table, statement)
            connection.exec_driver_sql(statement, execution_options={"no_parameters": True})

    retry_on_lock_timeout(operations.get_bind(), policy, table, run)


def retry_on_lock_timeout(
    connection: Connection, policy: LockPolicy, what: str, run: Callable[[Connection], object]
) -> None:
    """Call ``run`` in a savepoint under the policy's ``lock_timeout``; on a lock timeout undo the try as a whole,
    wait (doubling the pause each time) and try again; after the last try stop with what to do.

    Shared by guard's operations on one table and by guard's schema scripts, whose upgrades re-create the triggers
    of every guarded table (each a SHARE ROW EXCLUSIVE lock that would otherwise queue behind a long write and
    hold every later writer of that table behind it)."""
    for attempt in range(1, policy.tries + 1):
        savepoint = connection.begin_nested()
        try:
            connection.exec_driver_sql(policy.set_timeout_sql())
            run(connection)
        except DBAPIError as exc:
            savepoint.rollback()
            if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            if attempt < policy.tries:
                pause = policy.backoff_seconds * 2 ** (attempt - 1)
                PROGRESS.info(
                    "%s: waiting for a lock (another session holds it); try %d of %d failed after %gs, next in %gs",
                    what, attempt, policy.tries, policy.timeout_seconds, pause,
                )  # fmt: skip
                time.sleep(pause)
            continue
        savepoint.commit()
        return
    raise GuardError(
        f"could not get a lock on {what} after {policy.tries} tries of {policy.timeout_seconds:g}s: "
        "another session holds it; retry later or raise --lock-timeout"
    )
