"""Is a table ready to move to enforce? Join its writers in code with what its guard logged in the database.

The seed's rollout was "install the trigger, patch the critical files, restart, then enforce". Enforce makes a
writer that omits the timestamp fail, so a table is ready only when

* no writer in code is still unfixed (the scan has no finding on it), and
* no violation was logged in the window (no running process still omits it: code not yet deployed,
  a cron job outside the repository, a colleague's notebook).

Everything else is shown so the decision can be checked: the mode, the writers, rows the quarantine-mode
trigger diverted, and phantom bursts stored in the window (``guard detect``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from guard.config import Config
from guard.db.status import GuardedTable, guarded_tables
from guard.errors import GuardError, db_error_summary
from guard.rollout.blast import BlastRadius, Unfixed, Writer
from guard.watch.catalog import resolve_table
from guard.watch.detect import BurstSettings, scan_table

if TYPE_CHECKING:
    import psycopg

READY = "ready for enforce"
NOT_READY = "not ready"
ENFORCED = "enforced"
UNPROTECTED = "not protected"
#: writers named in a verdict before "and N more"
NAMED = 3

# Per guarded table, what its guard logged since the window started (one statement for every table).
_ACTIVITY = """
SELECT p.table_name,
       (SELECT count(*) FROM guard.violations v
         WHERE v.table_name = p.table_name AND v.action = 'audit' AND v.logged_at >= %(since)s),
       (SELECT coalesce(sum(v.row_count), 0) FROM guard.violations v
         WHERE v.table_name = p.table_name AND v.action = 'audit' AND v.logged_at >= %(since)s),
       (SELECT max(v.logged_at) FROM guard.violations v
         WHERE v.table_name = p.table_name AND v.action = 'audit' AND v.logged_at >= %(since)s),
       (SELECT count(*) FROM guard.quarantine q
         WHERE q.table_name = p.table_name AND q.quarantined_at >= %(since)s)
FROM guard.protected_tables p
"""


@dataclass
class Activity:
    violations: int = 0  # logged events (audit mode lets the row through and logs it)
    violation_rows: int = 0
    last_violation: dt.datetime | None = None
    quarantined: int = 0  # rows the quarantine-mode trigger diverted


@dataclass
class Row:
    table: str
    mode: str | None  # None: the database does not guard it
    writers: list[Writer]
    unfixed: list[Unfixed]
    activity: Activity
    bursts: int | None  # None: could not be measured (see note)
    verdict: str
    blockers: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def ready(self) -> bool:
        return self.verdict == READY

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "mode": self.mode,
            "writers": [w.location for w in self.writers],
            "writers_omitting_timestamp": [w.location for w in self.writers if w.sets_timestamp is False],
            "unfixed": [{"location": u.location, "rule": u.rule, "severity": u.severity} for u in self.unfixed],
            "violations": self.activity.violations,
            "violation_rows": self.activity.violation_rows,
            "last_violation": self.activity.last_violation,
            "quarantined": self.activity.quarantined,
            "bursts": self.bursts,
            "verdict": self.verdict,
            "blockers": self.blockers,
            "problems": self.problems,
            "note": self.note,
        }


def activity(conn: psycopg.Connection, since: dt.datetime) -> dict[str, Activity]:
    return {
        name: Activity(violations=v, violation_rows=int(rows), last_violation=last, quarantined=q)
        for name, v, rows, last, q in conn.execute(_ACTIVITY, {"since": since}).fetchall()
    }


def rollout_rows(
    conn: psycopg.Connection, blast: BlastRadius, cfg: Config, since: dt.datetime, *, bursts: bool = True
) -> list[Row]:
    """One row per table in the blast radius (guarded tables some code writes) or guarded in the database."""
    guarded = {t.table: t for t in guarded_tables(conn)}
    logged = activity(conn, since)
    names = sorted(set(blast.tables()) | set(guarded))
    return [
        _row(conn, name, blast, cfg, guarded.get(name), logged.get(name, Activity()), since, bursts) for name in names
    ]


def _row(
    conn: psycopg.Connection,
    name: str,
    blast: BlastRadius,
    cfg: Config,
    guard: GuardedTable | None,
    logged: Activity,
    since: dt.datetime,
    with_bursts: bool,
) -> Row:
    unfixed = blast.unfixed_on(name)
    row = Row(
        table=name, mode=guard.mode if guard else None, writers=blast.writers_of(name), unfixed=unfixed,
        activity=logged, bursts=None, verdict=NOT_READY, problems=list(guard.problems) if guard else [],
    )  # fmt: skip
    if with_bursts:
        row.bursts, row.note = _bursts(conn, name, cfg, since)
    if guard is None:
        row.verdict = UNPROTECTED
        row.blockers.append("not guarded in this database: guard protect --from-scan, then guard migrate")
        return row
    if guard.mode == "enforce":
        row.verdict = ENFORCED
        return row
    if unfixed:
        locations = sorted({u.location for u in unfixed})
        named = ", ".join(locations[:NAMED]) + (f" and {len(locations) - NAMED} more" if len(locations) > NAMED else "")
        row.blockers.append(f"{len(locations)} unfixed writer(s): {named}")
    if logged.violations:
        last = _short(logged.last_violation) if logged.last_violation else "?"
        row.blockers.append(f"{logged.violations} violation(s) in the window (last {last})")
    if logged.quarantined:
        row.blockers.append(f"{logged.quarantined} row(s) quarantined by the trigger in the window")
    row.blockers += [f"guard problem: {problem}" for problem in row.problems]
    row.verdict = NOT_READY if row.blockers else READY
    return row


def _bursts(conn: psycopg.Connection, name: str, cfg: Config, since: dt.datetime) -> tuple[int | None, str]:
    """Phantom bursts stored since the window started; a table detect cannot read is a note, not a failure."""
    import psycopg

    try:
        with conn.transaction():
            table = resolve_table(conn, name, cfg.search_path)
            result = scan_table(conn, table, cfg, BurstSettings.from_config(cfg, since=since))
    except (GuardError, psycopg.Error) as exc:
        return None, f"bursts not measured: {db_error_summary(exc)}"
    return len(result.bursts), ""


def _short(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
