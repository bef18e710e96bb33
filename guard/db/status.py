"""What the database says about each guarded table: mode, triggers, constraint, counts.

Shared by ``guard status`` and ``guard doctor``: it reads the registry and checks the catalog, so a
trigger someone dropped or disabled by hand shows up as a problem instead of a false sense of safety.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg

from guard.errors import GuardError

#: Triggers a healthy guarded table has. Enforce mode needs none for omissions: its CHECK constraint rejects.
OMISSION_TRIGGERS = ("zz_guard_omitted_timestamp", "zz_guard_report")
BURST_TRIGGER = "zz_guard_burst"

_QUERY = """
SELECT p.table_name, p.mode, p.timestamp_column, p.business_column, p.installed_at,
       (SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname || '.' || c.relname = p.table_name) AS relid,
       (SELECT count(*) FROM guard.violations v WHERE v.table_name = p.table_name AND v.action = 'audit') AS violations,
       (SELECT count(*) FROM guard.violations v WHERE v.table_name = p.table_name AND v.action = 'bypass') AS bypasses,
       (SELECT count(*) FROM guard.quarantine q WHERE q.table_name = p.table_name) AS quarantined,
       (SELECT count(*) FROM guard.quarantined_rows r WHERE r.table_name = p.table_name AND r.released_at IS NULL)
           AS quarantined_rows_open
FROM guard.protected_tables p
ORDER BY p.table_name
"""

_TRIGGERS = "SELECT tgname, tgenabled FROM pg_catalog.pg_trigger WHERE tgrelid = %s AND NOT tgisinternal"
_CHECK = "SELECT convalidated FROM pg_catalog.pg_constraint WHERE conrelid = %s AND conname = guard.check_name(%s, %s)"


@dataclass
class GuardedTable:
    table: str
    mode: str
    timestamp_column: str
    business_column: str | None
    burst_guard: bool
    installed_at: str
    violations: int
    bypasses: int
    quarantined: int
    quarantined_rows_open: int
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def guard_installed(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT to_regclass('guard.protected_tables') IS NOT NULL").fetchone()
    return bool(row and row[0])


def guarded_tables(conn: psycopg.Connection) -> list[GuardedTable]:
    """Every guarded table with its counts and any problem found in the catalog."""
    if not guard_installed(conn):
        raise GuardError("guard is not installed in this database; run `guard migrate --dsn ...` first")
    result = []
    for row in conn.execute(_QUERY).fetchall():
        name, mode, column, business, installed_at, relid, violations, bypasses, quarantined, open_rows = row
        table = GuardedTable(
            table=name, mode=mode, timestamp_column=column, business_column=business,
            burst_guard=business is not None, installed_at=installed_at.isoformat(), violations=violations,
            bypasses=bypasses, quarantined=quarantined, quarantined_rows_open=open_rows,
        )  # fmt: skip
        table.problems = _problems(conn, relid, table) if relid else ["table no longer exists"]
        result.append(table)
    return result


def _problems(conn: psycopg.Connection, relid: Any, table: GuardedTable) -> list[str]:
    column = table.timestamp_column
    triggers: dict[str, str] = dict(conn.execute(_TRIGGERS, (relid,)).fetchall())
    expected = () if table.mode == "enforce" else OMISSION_TRIGGERS
    if table.burst_guard:
        expected = (*expected, BURST_TRIGGER)
    problems = [f"trigger {name} is missing" for name in expected if name not in triggers]
    problems += [f"trigger {name} is disabled" for name in expected if triggers.get(name) == "D"]
    check = conn.execute(_CHECK, (relid, relid, column)).fetchone()
    if check is None:
        problems.append(f"CHECK constraint on {column} is missing")
    elif not check[0]:
        problems.append(f"CHECK constraint on {column} is not validated")
    return problems
