"""Cost of the database guard on clean bulk loads, against an unguarded table measured in the same run.

    .venv/bin/python bench/db_overhead.py [--rows 1000000] [--rounds 3] [--phantom-rows 100000] [--shape jobs]

Uses GUARD_TEST_DSN if set, else starts a throwaway local PostgreSQL (guard.testing.start_postgres).
``--shape narrow`` (the default) is a four-column table of fixed-width values (id, created_at, a ``date`` business
column, an int): the worst case for every per-row cost, since each row is cheap to store. ``--shape jobs`` is the
incident's own table, the columns of ``titan.jobs`` in examples/titan in their order (text, numeric, a
``timestamptz`` business column, a unique key besides the primary key; ids given, not drawn from a sequence),
loaded with six years of jobs three minutes apart.
Loads ``--rows`` rows with explicit, varied created_at (clean rows: what a fixed writer sends) via
INSERT ... SELECT, via COPY FROM STDIN, and ``--single-rows`` one-row INSERTs, into: the unguarded table, the
table guarded in each mode (omission guard), the naive peer (a plpgsql BEFORE INSERT row trigger that runs
for every row), and, with a primary key, unguarded vs enforce mode alone vs enforce mode with the burst guard
of schema 1.1 (one statement trigger reading a transition table of every row; installed here from
guard--1.0--1.1.sql under another name), of schema 1.2 (its row trigger's WHEN clause without 1.3's horizon, made
by 1.2's install_triggers under another name) and the current one.

Loads: "historical INSERT...SELECT" (the issue's figure: created_at years ago, the business date close to it),
"recent INSERT...SELECT" (a clean fresh ingest: created_at spread over the last hour, business date today),
"phantom INSERT...SELECT" (``--phantom-rows`` rows that ARE a burst: created_at now(), business dates over
years; the guarded tables reject it, so this is the cost of the rejection path, the unguarded one stores it),
COPY (the historical rows) and one-row INSERTs. Rounds are interleaved; medians and ratios to the
unguarded table are printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import signal
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import psycopg
from psycopg import sql

from guard.db import migrate
from guard.db.schema import function_definition
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
class Shape:
    """A table to load: its columns and, for each load, the SELECT that produces its rows (``%s``: the row count)."""

    columns: str  # DDL, ``{pk}`` where the id's PRIMARY KEY goes (or nothing)
    business: str  # the business column the burst guard reads
    names: str  # the columns each load writes, in the order of its SELECT list
    historical: str  # clean history: created_at years ago, business date of the same day
    recent: str  # a clean fresh ingest: created_at within the last hour, business date today
    phantom: str  # history re-stamped with now(): one window, business dates over ~7 years
    row: Callable[[int], tuple[object, ...]]  # row i of the historical load, in Python (COPY, one-row INSERTs)


def _narrow_row(i: int) -> tuple[object, ...]:
    created = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=i)
    return i, created, created.date(), i % 1000


NARROW = Shape(
    columns="id bigint {pk}, created_at timestamptz NOT NULL DEFAULT now(), biz date, v int",
    business="biz",
    names="id, created_at, biz, v",
    historical="SELECT g, timestamptz '2020-01-01' + g * interval '1 minute', date '2020-01-01' + g / 1440,"
    " g %% 1000 FROM generate_series(0, %s - 1) g",
    recent="SELECT g, now() - (g %% 3600) * interval '1 second', current_date, g %% 1000"
    " FROM generate_series(0, %s - 1) g",
    phantom="SELECT g, now(), date '2020-01-01' + g %% 2600, g %% 1000 FROM generate_series(0, %s - 1) g",
    row=_narrow_row,
)

JOB_STATUSES = ("Completed", "Canceled", "Scheduled")
LEAD_SOURCES = ("Google Ads", "Referral", "Yelp", "Repeat")


def _jobs_select(stamp: str, scheduled: str) -> str:
    """A job per g: the stamp and the business time (``s`` is the stamp) vary by load, the rest is the same."""
    statuses = ", ".join(f"'{status}'" for status in JOB_STATUSES)
    sources = ", ".join(f"'{source}'" for source in LEAD_SOURCES)
    return (
        f"SELECT g, 10000000 + g, 'Customer ' || g %% 50000, (ARRAY[{statuses}])[1 + g %% 3],"
        f" (ARRAY[{sources}])[1 + g %% 4], (g %% 100000) / 100.0, s, {scheduled}"
        f" FROM generate_series(0, %s - 1) g, LATERAL (SELECT {stamp} AS s) AS t"
    )


def _jobs_row(i: int) -> tuple[object, ...]:
    created = dt.datetime(2019, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=3 * i)
    return (
        i,
        10_000_000 + i,
        f"Customer {i % 50_000}",
        JOB_STATUSES[i % 3],
        LEAD_SOURCES[i % 4],
        Decimal(i % 100_000) / 100,
        created,
        created + dt.timedelta(days=2),
    )


JOBS = Shape(
    columns="id bigint {pk}, st_id bigint UNIQUE NOT NULL, customer_name text, job_status text NOT NULL,"
    " lead_source text, invoice_total numeric(12, 2) NOT NULL DEFAULT 0, scheduled_at timestamptz,"
    " created_at timestamptz NOT NULL DEFAULT now()",
    business="scheduled_at",
    names="id, st_id, customer_name, job_status, lead_source, invoice_total, created_at, scheduled_at",
    historical=_jobs_select("timestamptz '2019-01-01' + g * interval '3 minutes'", "s + interval '2 days'"),
    recent=_jobs_select("now() - (g %% 3600) * interval '1 second'", "s + interval '1 day'"),
    phantom=_jobs_select("now()", "timestamptz '2019-01-01' + (g %% 2600) * interval '1 day'"),
    row=_jobs_row,
)
SHAPES = {"narrow": NARROW, "jobs": JOBS}


@dataclass(frozen=True)
class Variant:
    name: str
    primary_key: bool
    setup: Callable[[psycopg.Connection, str, Shape], None]


def _protect(mode: str, business: bool = False) -> Callable[[psycopg.Connection, str, Shape], None]:
    def setup(conn: psycopg.Connection, table: str, shape: Shape) -> None:
        conn.execute(
            "SELECT guard.protect_table(%s::regclass, 'created_at', %s, %s)",
            (table, mode, shape.business if business else None),
        )

    return setup


def _burst_1_1(conn: psycopg.Connection, table: str, shape: Shape) -> None:
    """The table guarded in enforce mode, its burst guard swapped for schema 1.1's (the "before" of this bench)."""
    _protect("enforce", business=True)(conn, table, shape)
    if conn.execute("SELECT to_regproc('public.burst_guard_1_1')").fetchone() == (None,):
        old = function_definition("1.1", "on_insert_burst")
        conn.execute(old.replace("guard.on_insert_burst", "public.burst_guard_1_1", 1))
    args = conn.execute(
        "SELECT timestamp_column::text, business_column::text, mode, min_rows::text, window_interval::text,"
        " min_span::text, table_name FROM guard.protected_tables WHERE table_name = %s",
        (table,),
    ).fetchone()
    assert args is not None
    conn.execute("SELECT guard.drop_trigger(%s::regclass, 'zz_guard_burst')", (table,))  # and its row trigger
    conn.execute(
        sql.SQL(
            "CREATE TRIGGER zz_guard_burst AFTER INSERT ON {} REFERENCING NEW TABLE AS guard_new_rows"
            " FOR EACH STATEMENT EXECUTE FUNCTION public.burst_guard_1_1({})"
        ).format(sql.SQL(table), sql.SQL(", ").join(sql.Literal(a) for a in args))
    )


def _burst_1_2(conn: psycopg.Connection, table: str, shape: Shape) -> None:
    """The table guarded in enforce mode, its row trigger re-created by schema 1.2's ``guard.install_triggers``
    (installed here under another name): the WHEN clause without 1.3's horizon."""
    _protect("enforce", business=True)(conn, table, shape)
    if conn.execute("SELECT to_regproc('public.install_triggers_1_2')").fetchone() == (None,):
        old = function_definition("1.2", "install_triggers")
        conn.execute(old.replace("guard.install_triggers", "public.install_triggers_1_2", 1))
    conn.execute("SELECT public.install_triggers_1_2(%s::regclass)", (table,))


def _naive(conn: psycopg.Connection, table: str, shape: Shape) -> None:
    conn.execute(f"CREATE TRIGGER naive BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION public.naive_guard()")


VARIANTS = [
    Variant("unguarded", False, lambda conn, table, shape: None),
    Variant("enforce", False, _protect("enforce")),
    Variant("quarantine", False, _protect("quarantine")),
    Variant("audit", False, _protect("audit")),
    Variant("naive row trigger", False, _naive),
    Variant("unguarded + pk", True, lambda conn, table, shape: None),
    # the omission guard alone (constraint, warehouse_ingested_at column): what the burst guard adds is on top
    Variant("enforce + pk", True, _protect("enforce")),
    Variant("burst 1.1 + pk", True, _burst_1_1),
    Variant("burst 1.2 + pk", True, _burst_1_2),
    Variant("burst guard + pk", True, _protect("enforce", business=True)),
]
BASELINE = {False: "unguarded", True: "unguarded + pk"}


def create_tables(conn: psycopg.Connection, variants: list[Variant], shape: Shape) -> dict[str, str]:
    conn.execute(NAIVE_TRIGGER)
    tables = {}
    for index, variant in enumerate(variants):
        table = f"public.bench_{index}"
        pk = "PRIMARY KEY" if variant.primary_key else ""
        conn.execute(
            f"CREATE TABLE {table} ({shape.columns.format(pk=pk)})"
            # autovacuum would wake after each 1M-row load and compete for the cores during the next timing
            " WITH (autovacuum_enabled = false)"
        )
        variant.setup(conn, table, shape)
        tables[variant.name] = table
    return tables


def copy_payload(shape: Shape, rows: int) -> bytes:
    """The historical rows as COPY text: clean, so even the burst guard has nothing to flag."""
    out = io.StringIO()
    for i in range(rows):
        out.write("\t".join(str(value) for value in shape.row(i)) + "\n")
    return out.getvalue().encode()


def load_insert_select(conn: psycopg.Connection, table: str, shape: Shape, rows: int) -> None:
    conn.execute(f"INSERT INTO {table} ({shape.names}) {shape.historical}", (rows,))


def load_recent(conn: psycopg.Connection, table: str, shape: Shape, rows: int) -> None:
    """A clean fresh ingest: created_at within the last hour, business date today (no burst)."""
    conn.execute(f"INSERT INTO {table} ({shape.names}) {shape.recent}", (rows,))


def load_phantom(conn: psycopg.Connection, table: str, shape: Shape, rows: int) -> None:
    """History re-stamped with now(): one window, business dates over ~7 years. Guarded tables reject it (GD002)."""
    try:
        conn.execute(f"INSERT INTO {table} ({shape.names}) {shape.phantom}", (rows,))
    except psycopg.Error as error:
        if error.sqlstate != "GD002":
            raise


def load_copy(conn: psycopg.Connection, table: str, shape: Shape, payload: bytes) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({shape.names}) FROM STDIN") as copy:
        for start in range(0, len(payload), 1 << 20):
            copy.write(payload[start : start + (1 << 20)])


def load_single_rows(conn: psycopg.Connection, table: str, shape: Shape, rows: int) -> None:
    """Many one-row INSERTs in one transaction: the per-statement cost (the report/burst triggers fire each time)."""
    placeholders = ", ".join(["%s"] * len(shape.names.split(",")))
    query = f"INSERT INTO {table} ({shape.names}) VALUES ({placeholders})"
    with conn.transaction():
        for i in range(rows):
            conn.execute(query, shape.row(i), prepare=True)


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
    parser.add_argument("--phantom-rows", type=int, default=100_000, help="rows of the phantom (burst) load")
    parser.add_argument(
        "--burst-only",
        action="store_true",
        help="only the tables with a primary key (unguarded, enforce, burst 1.1, current)",
    )
    parser.add_argument("--shape", choices=sorted(SHAPES), default="narrow", help="the table loaded (see above)")
    args = parser.parse_args()
    variants = [v for v in VARIANTS if v.primary_key] if args.burst_only else VARIANTS
    shape = SHAPES[args.shape]
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    server = start_postgres()
    try:
        with server.fresh_database() as dsn:
            migrate.upgrade(dsn)
            with psycopg.connect(dsn, autocommit=True) as conn:
                tables = create_tables(conn, variants, shape)
                payload = copy_payload(shape, args.rows)
                results: dict[tuple[str, str], list[float]] = {}
                load_average = [os.getloadavg()[0]]
                for round_number in range(args.rounds):
                    # Rotate the order each round so drift in machine load does not favour one variant.
                    shift = round_number % len(variants)
                    for variant in variants[shift:] + variants[:shift]:
                        table = tables[variant.name]
                        loads = {
                            "historical INSERT...SELECT": lambda t=table: load_insert_select(conn, t, shape, args.rows),
                            "recent INSERT...SELECT": lambda t=table: load_recent(conn, t, shape, args.rows),
                            "phantom INSERT...SELECT": lambda t=table: load_phantom(conn, t, shape, args.phantom_rows),
                            "COPY": lambda t=table: load_copy(conn, t, shape, payload),
                            "single-row INSERTs": lambda t=table: load_single_rows(conn, t, shape, args.single_rows),
                        }
                        for method, load in loads.items():
                            results.setdefault((variant.name, method), []).append(timed(conn, table, load))
                    load_average.append(os.getloadavg()[0])
                report(results, variants, args, load_average)
    finally:
        server.stop()


METHODS = (
    "historical INSERT...SELECT",
    "recent INSERT...SELECT",
    "phantom INSERT...SELECT",
    "COPY",
    "single-row INSERTs",
)


def report(
    results: dict[tuple[str, str], list[float]],
    variants: list[Variant],
    args: argparse.Namespace,
    load_average: list[float],
) -> None:
    print(
        f"{args.shape} table, {args.rows:,} clean rows per bulk load, {args.phantom_rows:,} phantom rows,"
        f" {args.single_rows:,} one-row INSERTs, {args.rounds} interleaved rounds;"
        f" 1-min load average {min(load_average):.2f}-{max(load_average):.2f} on {os.cpu_count()} cores;"
        " seconds (ratio to the unguarded table with the same keys)"
    )
    for label, pick in (("median", statistics.median), ("best of rounds (robust to a busy machine)", min)):
        print(f"\n{label}")
        print(f"{'variant':<20}" + "".join(f"{method:>28}" for method in METHODS))
        for variant in variants:
            cells = []
            for method in METHODS:
                value = pick(results[(variant.name, method)])
                base = pick(results[(BASELINE[variant.primary_key], method)])
                cells.append(f"{value:8.3f}s ({value / base:5.2f}x)")
            print(f"{variant.name:<20}" + "".join(f"{cell:>28}" for cell in cells))


if __name__ == "__main__":
    main()
