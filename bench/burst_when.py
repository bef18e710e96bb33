"""Where the burst guard's cost on a clean bulk load goes: its row trigger's ``WHEN`` clause, measured alone.

    .venv/bin/python bench/burst_when.py [--rows 1000000] [--rounds 7]

Uses GUARD_TEST_DSN if set, else starts a throwaway local PostgreSQL (guard.testing.start_postgres). One clean
historical load (created_at one minute apart from 2020 on, a ``date`` business column holding that day: nothing
for the burst guard to find) is inserted with ``INSERT ... SELECT`` into tables that differ only in their
triggers, interleaved round by round:

* ``no trigger``: the baseline of the same run;
* ``WHEN false``: an AFTER ROW trigger whose condition is constant false: what merely having the trigger costs;
* ``burst pair``: guard's own burst triggers exactly as migrations create them (``guard.db.ddl``), without
  the omission guard's constraint, so the ratio is the burst guard's share alone;
* ``WHEN by days``: a candidate, not shipped: the same filter at day granularity
  (``abs(created_at::date - business_date) > days``), one time-zone conversion per row instead of two casts.

Medians and best of rounds are printed with their ratios to ``no trigger`` and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import psycopg
from psycopg import sql

from guard.db import ddl, migrate
from guard.testing import start_postgres

SETTINGS = ddl.GuardSettings(column="created_at", business_column="scheduled_at", mode="enforce")
LOAD = (
    "INSERT INTO {} (id, created_at, scheduled_at)"
    " SELECT g, stamp, stamp::date FROM generate_series(1, %s) AS g,"
    " LATERAL (SELECT timestamptz '2020-01-01' + g * interval '1 minute' AS stamp) AS t"
)


def row_trigger(table: str, when: str) -> str:
    return (
        f"CREATE TRIGGER probe AFTER INSERT ON {table} FOR EACH ROW WHEN ({when})"
        " EXECUTE FUNCTION guard.on_burst_row('created_at', 'scheduled_at', 'enforce', 'bench.probe')"
    )


def variants() -> dict[str, list[str]]:
    """Each variant's table name -> the statements that give it its triggers."""
    return {
        "bench.no_trigger": [],
        "bench.when_false": [row_trigger("bench.when_false", "false")],
        "bench.burst_pair": ddl.trigger_statements("bench.burst_pair", SETTINGS, replacing=False),
        # 180 days - 1 minute, halved, less a day and an hour of slack for the day rounding and DST: 88 days
        "bench.when_days": [row_trigger("bench.when_days", "abs(NEW.created_at::date - NEW.scheduled_at) > 88")],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    server = start_postgres()
    try:
        with server.fresh_database() as dsn:
            migrate.upgrade(dsn)
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("CREATE SCHEMA bench")
                tables = variants()
                for table, statements in tables.items():
                    conn.execute(
                        sql.SQL(
                            "CREATE TABLE {} (id bigint PRIMARY KEY, created_at timestamptz, scheduled_at date)"
                        ).format(sql.Identifier(*table.split(".")))
                    )
                    for statement in statements:
                        conn.execute(statement.encode())
                seconds: dict[str, list[float]] = {table: [] for table in tables}
                loads = []
                for _ in range(args.rounds):
                    loads.append(os.getloadavg()[0])
                    for table in tables:
                        conn.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(*table.split("."))))
                        started = time.perf_counter()
                        conn.execute(sql.SQL(LOAD).format(sql.Identifier(*table.split("."))), (args.rows,))
                        seconds[table].append(time.perf_counter() - started)
    finally:
        server.stop()
    base_median = statistics.median(seconds["bench.no_trigger"])
    base_best = min(seconds["bench.no_trigger"])
    print(
        f"{args.rows:,} clean rows, {args.rounds} interleaved rounds; 1-min load average "
        f"{min(loads):.2f}-{max(loads):.2f}; median / best seconds (ratio to no trigger)"
    )
    for table, runs in seconds.items():
        median, best = statistics.median(runs), min(runs)
        print(
            f"  {table.split('.')[1]:12} {median:.3f}s ({median / base_median:.2f}x) / "
            f"{best:.3f}s ({best / base_best:.2f}x)"
        )


if __name__ == "__main__":
    main()
