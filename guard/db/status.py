"""What the database says about each guarded table: mode, triggers, constraint, counts.

Shared by ``guard status`` and ``guard doctor``: it reads the registry and checks the catalog, so a
trigger someone dropped or disabled by hand shows up as a problem instead of a false sense of safety.
Also the one place that answers "is the guard schema installed here?" for every command.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from guard.errors import GuardError

if TYPE_CHECKING:
    import psycopg

#: Triggers a healthy guarded table has. Enforce mode needs none for omissions: its CHECK constraint rejects.
OMISSION_TRIGGERS = ("zz_guard_omitted_timestamp", "zz_guard_report")
#: The burst guard (schema 1.2 on): a row trigger that tallies rows stamped near their write whose business date
#: is far from their stamp, and the statement trigger that checks the tally. Either one missing or disabled turns
#: the check off.
BURST_TRIGGERS = ("zz_guard_burst_row", "zz_guard_burst")

# One statement for the whole report (not one per table): the registry, the counts, and per table its
# triggers (name -> tgenabled) and whether its CHECK constraint exists (NULL) and is validated.
_QUERY = """
SELECT p.table_name, p.mode, p.timestamp_column, p.business_column, p.installed_at, t.relid,
       (SELECT count(*) FROM guard.violations v WHERE v.table_name = p.table_name AND v.action = 'audit') AS violations,
       (SELECT count(*) FROM guard.violations v WHERE v.table_name = p.table_name AND v.action = 'bypass') AS bypasses,
       (SELECT count(*) FROM guard.quarantine q WHERE q.table_name = p.table_name) AS quarantined,
       (SELECT count(*) FROM guard.quarantined_rows r WHERE r.table_name = p.table_name AND r.released_at IS NULL)
           AS quarantined_rows_open,
       (SELECT coalesce(jsonb_object_agg(tg.tgname, tg.tgenabled::text), '{}')
          FROM pg_catalog.pg_trigger tg WHERE tg.tgrelid = t.relid AND NOT tg.tgisinternal) AS triggers,
       (SELECT con.convalidated FROM pg_catalog.pg_constraint con
         WHERE con.conrelid = t.relid AND con.conname = guard.check_name(t.relid, p.timestamp_column))
           AS check_validated
FROM guard.protected_tables p
LEFT JOIN LATERAL (
    SELECT c.oid AS relid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname || '.' || c.relname = p.table_name
) t ON true
ORDER BY p.table_name
"""

_NOT_INSTALLED = "the guard schema is not installed in this database; run `guard migrate --dsn ...` first"


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
    """True when ``guard migrate`` has installed the schema: its registry and quarantine tables both exist."""
    row = conn.execute(
        "SELECT to_regclass('guard.protected_tables') IS NOT NULL AND to_regclass('guard.quarantined_rows') IS NOT NULL"
    ).fetchone()
    return bool(row and row[0])


def require_guard_schema(conn: psycopg.Connection) -> None:
    """Fail with the fix when the ``guard`` schema (installed by ``guard migrate``) is missing."""
    if not guard_installed(conn):
        raise GuardError(_NOT_INSTALLED)


def guarded_tables(conn: psycopg.Connection) -> list[GuardedTable]:
    """Every guarded table with its counts and any problem found in the catalog."""
    require_guard_schema(conn)
    result = []
    for row in conn.execute(_QUERY).fetchall():
        name, mode, column, business, installed_at, relid, violations, bypasses, quarantined, open_rows = row[:10]
        triggers, check_validated = row[10:]
        table = GuardedTable(
            table=name, mode=mode, timestamp_column=column, business_column=business,
            burst_guard=business is not None, installed_at=installed_at.isoformat(), violations=violations,
            bypasses=bypasses, quarantined=quarantined, quarantined_rows_open=open_rows,
        )  # fmt: skip
        table.problems = _problems(table, triggers, check_validated) if relid else ["table no longer exists"]
        result.append(table)
    return result


def _problems(table: GuardedTable, triggers: dict[str, str], check_validated: bool | None) -> list[str]:
    column = table.timestamp_column
    expected = () if table.mode == "enforce" else OMISSION_TRIGGERS
    if table.burst_guard:
        expected = (*expected, *BURST_TRIGGERS)
    problems = [f"trigger {name} is missing" for name in expected if name not in triggers]
    problems += [f"trigger {name} is disabled" for name in expected if triggers.get(name) == "D"]
    if check_validated is None:
        problems.append(f"CHECK constraint on {column} is missing")
    elif not check_validated:
        problems.append(f"CHECK constraint on {column} is not validated")
    return problems
