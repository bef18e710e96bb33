"""Freshness measured in the database: the age of each table's newest row, never a cache file's mtime.

In the incident the dashboard called ST jobs "6 days stale" because it read the mtime of a JSON file a
retired script used to write, while ``titan.jobs`` itself had rows from 93 minutes earlier. Here the age
is ``now() - max(<best timestamp column>)`` computed by Postgres (an index on the column makes it a single
index probe), with warn/error thresholds per table like dbt's ``warn_after``/``error_after``.

The best column is the table's ``freshness_column`` if configured, else the first of ``freshness.columns``
(``warehouse_ingested_at``, ``updated_at``, ``created_at``) the table has. A table with none of them is
reported as having no timestamp column rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from guard.config import Config, TableConfig
from guard.watch.catalog import TEMPORAL, Column, Table

if TYPE_CHECKING:
    import psycopg

OK = "ok"
WARN = "warn"
ERROR = "error"
EMPTY = "empty"  # the table has the column but no row: nothing to be stale about
NO_COLUMN = "no_timestamp_column"
TIMED_OUT = "timed_out"  # max() hit the statement or lock timeout

#: how loudly each status counts for exit codes: 0 quiet, 1 warn, 2 error
STATUS_LEVEL = {OK: 0, EMPTY: 0, NO_COLUMN: 0, WARN: 1, TIMED_OUT: 1, ERROR: 2}
LEVELS = {"warn": 1, "error": 2}


@dataclass(frozen=True)
class Freshness:
    table: str
    estimated_rows: int | None
    column: str | None
    indexed: bool
    newest: Any  # datetime or date, as stored
    age_seconds: float | None
    warn_after: float
    error_after: float
    status: str
    note: str = ""
    why: str = ""  # the table's configured ``why``: the business impact when it goes stale


def best_column(table: Table, cfg: Config) -> Column | None:
    """The configured ``freshness_column`` (must exist), else the first present of ``freshness.columns``."""
    settings = cfg.table(table.qualified) or TableConfig()
    if settings.freshness_column:
        return table.require_column(settings.freshness_column, "freshness_column", [TEMPORAL])
    for name in cfg.freshness_columns:
        column = table.column(name)
        if column is not None and column.kind == TEMPORAL:
            return column
    return None


def measure(conn: psycopg.Connection, table: Table, cfg: Config) -> Freshness:
    """Freshness of one table; a timeout on this table is reported, not fatal for the whole run."""
    import psycopg
    from psycopg import sql

    settings = cfg.table(table.qualified) or TableConfig()
    warn_after = settings.warn_after if settings.warn_after is not None else cfg.warn_after
    error_after = settings.error_after if settings.error_after is not None else cfg.error_after
    column = best_column(table, cfg)
    unmeasured = Freshness(
        table=table.qualified,
        estimated_rows=table.estimated_rows,
        column=None,
        indexed=False,
        newest=None,
        age_seconds=None,
        warn_after=warn_after,
        error_after=error_after,
        status=NO_COLUMN,
        note=f"no timestamp column (looked for {', '.join(cfg.freshness_columns)})",
        why=settings.why,
    )
    if column is None:
        return unmeasured
    unmeasured = replace(unmeasured, column=column.name, indexed=column.indexed, status=TIMED_OUT)
    query = sql.SQL(
        "SELECT newest, extract(epoch FROM now() - newest::timestamptz) FROM (SELECT max({}) AS newest FROM {}) m"
    )
    try:
        with conn.transaction():  # a savepoint: a timeout here must not abort the other tables' checks
            row = conn.execute(query.format(sql.Identifier(column.name), table.identifier)).fetchone()
    except psycopg.errors.LockNotAvailable:
        return replace(unmeasured, note="locked by another session (ALTER TABLE, VACUUM FULL?); try again later")
    except psycopg.errors.QueryCanceled:
        hint = "" if column.indexed else f"; an index on {column.name} makes this instant"
        return replace(unmeasured, note=f"max({column.name}) hit the statement timeout{hint}")
    assert row is not None
    newest, age = row[0], None if row[1] is None else float(row[1])
    return replace(
        unmeasured,
        newest=newest,
        age_seconds=age,
        status=_status(age, warn_after, error_after),
        note="newest row is in the future" if age is not None and age < 0 else "",
    )


def _status(age: float | None, warn_after: float, error_after: float) -> str:
    if age is None:
        return EMPTY
    if age > error_after:
        return ERROR
    if age > warn_after:
        return WARN
    return OK


def inventory(conn: psycopg.Connection, tables: Sequence[Table], cfg: Config) -> list[Freshness]:
    """Every table's freshness, stalest first (tables without an age last, by name)."""
    results = [measure(conn, table, cfg) for table in tables]
    return sorted(results, key=lambda f: (f.age_seconds is None, -(f.age_seconds or 0.0), f.table))


def worst_level(results: Sequence[Freshness]) -> int:
    return max((STATUS_LEVEL[f.status] for f in results), default=0)
