"""Cost of the database guard on clean bulk loads, against an unguarded table measured in the same run.

    .venv/bin/python bench/db_overhead.py [--rows 1000000] [--rounds 3]

Uses GUARD_TEST_DSN if set, else starts a throwaway local PostgreSQL (guard.testing.start_postgres).
Loads ``--rows`` narrow rows with explicit, varied created_at (clean rows: what a fixed writer sends) via
INSERT ... SELECT, via COPY FROM STDIN, and ``--single-rows`` one-row INSERTs, into: the unguarded table, the
table guarded in each mode (omission guard), the naive peer (a plpgsql BEFORE INSERT row trigger that runs
for every row), and, with a primary key, unguarded vs the burst guard. Rounds are interleaved; medians and
ratios to the unguarded table are printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import signal
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from guard.db import migrate
from guard.testing import start_postgres

NAIVE_TRIGGER = """
CREATE FUNCTION public.naive_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.created_at IS NULL OR NEW.created_at = '-infinity' THEN
        RAISE EXCEPTION 'created_at missing';
    END IF;
    RETURN NEW;
END $$;
"""


@dataclass(frozen=True)
class Variant:
    name: str
    primary_key: bool
    setup: Callable[[psycopg.Connection, str], None]


def _protect(mode: str, business: bool = False) -> Callable[[psycopg.Connection, str], None]:
    def setup(conn: psycopg.Connection, table: str) -> None:
        conn.execute(
            "SELECT guard.protect_table(%s::regclass, 'created_at', %s, %s)",
            (table, mode, "biz" if business else None),
        )

    return setup


def _naive(conn: psycopg.Connection, table: str) -> None:
    conn.execute(f"CREATE TRIGGER naive BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION public.naive_guard()")


VARIANTS = [
    Variant("unguarded", False, lambda conn, table: None),
    Variant("enforce", False, _protect("enforce")),
    Variant("quarantine", False, _protect("quarantine")),
    Variant("audit", False, _protect("audit")),
    Variant("naive row trigger", False, _naive),
    Variant("unguarded + pk", True, lambda conn, table: None),
    Variant("burst guard + pk", True, _protect("enforce", business=True)),
]
BASELINE = {False: "unguarded", True: "unguarded + pk"}


def create_tables(conn: psycopg.Connection) -> dict[str, str]:
    conn.execute(NAIVE_TRIGGER)
    tables = {}
    for index, variant in enumerate(VARIANTS):
        table = f"public.bench_{index}"
        pk = "PRIMARY KEY" if variant.primary_key else ""
        conn.execute(
            f"CREATE TABLE {table} (id bigint {pk}, created_at timestamptz NOT NULL DEFAULT now(), biz date, v int)"
            # autovacuum would wake after each 1M-row load and compete for the cores during the next timing
            " WITH (autovacuum_enabled = false)"
        )
        variant.setup(conn, table)
        tables[variant.name] = table
    return tables


def copy_payload(rows: int) -> bytes:
    """Clean rows: created_at one minute apart, so even the burst guard has nothing to flag."""
    out = io.StringIO()
    base = 1_577_836_800  # 2020-01-01
    for i in range(rows):
        ts = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(base + i * 60))
        out.write(f"{i}\t{ts}\t{ts[:10]}\t{i % 1000}\n")
    return out.getvalue().encode()


def load_insert_select(conn: psycopg.Connection, table: str, rows: int) -> None:
    conn.execute(
        f"INSERT INTO {table} (id, created_at, biz, v) SELECT g, timestamptz '2020-01-01' + g * interval '1 minute',"
        " date '2020-01-01' + g / 1440, g %% 1000 FROM generate_series(0, %s - 1) g",
        (rows,),
    )


def load_copy(conn: psycopg.Connection, table: str, payload: bytes) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} (id, created_at, biz, v) FROM STDIN") as copy:
        for start in range(0, len(payload), 1 << 20):
            copy.write(payload[start : start + (1 << 20)])


def load_single_rows(conn: psycopg.Connection, table: str, rows: int) -> None:
    """Many one-row INSERTs in one transaction: the per-statement cost (the report/burst triggers fire each time)."""
    start = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    query = f"INSERT INTO {table} (id, created_at, biz, v) VALUES (%s, %s, %s, %s)"
    with conn.transaction():
        for i in range(rows):
            created = start + dt.timedelta(minutes=i)
            conn.execute(query, (i, created, created.date(), i % 1000), prepare=True)


def timed(conn: psycopg.Connection, table: str, load: Callable[[], None]) -> float:
    conn.execute(f"TRUNCATE {table}")
    conn.execute("CHECKPOINT")
    started = time.perf_counter()
    load()
    elapsed = time.perf_counter() - started
    return elapsed


def _exit_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM -> SystemExit, so ``finally`` stops the throwaway server instead of orphaning it."""
    raise SystemExit(128 + signum)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--single-rows", type=int, default=10_000, help="rows of the one-row-INSERT load")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    server = start_postgres()
    try:
        with server.fresh_database() as dsn:
            migrate.upgrade(dsn)
            with psycopg.connect(dsn, autocommit=True) as conn:
                tables = create_tables(conn)
                payload = copy_payload(args.rows)
                results: dict[tuple[str, str], list[float]] = {}
                for round_number in range(args.rounds):
                    # Rotate the order each round so drift in machine load does not favour one variant.
                    shift = round_number % len(VARIANTS)
                    for variant in VARIANTS[shift:] + VARIANTS[:shift]:
                        table = tables[variant.name]
                        loads = {
                            "INSERT...SELECT": lambda t=table: load_insert_select(conn, t, args.rows),
                            "COPY": lambda t=table: load_copy(conn, t, payload),
                            "single-row INSERTs": lambda t=table: load_single_rows(conn, t, args.single_rows),
                        }
                        for method, load in loads.items():
                            results.setdefault((variant.name, method), []).append(timed(conn, table, load))
                report(results, args.rows, args.single_rows, args.rounds)
    finally:
        server.stop()


METHODS = ("INSERT...SELECT", "COPY", "single-row INSERTs")


def report(results: dict[tuple[str, str], list[float]], rows: int, single_rows: int, rounds: int) -> None:
    print(
        f"{rows:,} clean rows per bulk load, {single_rows:,} one-row INSERTs, {rounds} interleaved rounds;"
        " seconds (ratio to the unguarded table with the same keys)"
    )
    for label, pick in (("median", statistics.median), ("best of rounds (robust to a busy machine)", min)):
        print(f"\n{label}")
        print(f"{'variant':<20}" + "".join(f"{method:>24}" for method in METHODS))
        for variant in VARIANTS:
            cells = []
            for method in METHODS:
                value = pick(results[(variant.name, method)])
                base = pick(results[(BASELINE[variant.primary_key], method)])
                cells.append(f"{value:8.3f}s ({value / base:5.2f}x)")
            print(f"{variant.name:<20}" + "".join(f"{cell:>24}" for cell in cells))


if __name__ == "__main__":
    main()
