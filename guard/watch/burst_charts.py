"""The two pictures that prove a phantom burst, computed in the database inside detect's read-only snapshot.

1. **Rows per minute around the burst** (the spike): every minute from :data:`CONTEXT_STEPS` minutes before
   the burst window to as many after it, zero-filled, so a chart has exactly one bar per minute and the
   burst's minute stands next to the table's normal pace.
2. **Business dates the burst carries** (years of history in one minute): the burst's rows counted by
   day, week, month or year of the business column, whichever gives a readable number of bins for the span,
   zero-filled between the first and the last bin.

Both are one aggregate query each, bounded by the timestamp range (an index on the timestamp column makes
them range scans) and run in the caller's transaction, so the charts agree with the burst's numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from guard.watch.catalog import Column, Table
from guard.watch.detect import Burst

if TYPE_CHECKING:
    import psycopg

#: minutes (steps) shown on each side of the burst window
CONTEXT_STEPS = 30
#: windows up to this long are charted minute by minute; longer windows in steps of window / 60
MINUTE_CHART_MAX_WINDOW = 7200.0
#: business-date bin for a span up to this many days (checked in order)
_BINS = ((62, "day"), (730, "week"), (365 * 30, "month"))
_WIDEST_BIN = "year"


@dataclass(frozen=True)
class BurstCharts:
    """The data behind a burst's two charts (plain values: rendered as SVG, terminal sparkline or JSON)."""

    burst_id: str
    step_seconds: float
    #: (step start, rows) for every step of the chart window, oldest first, zero-filled
    timeline: tuple[tuple[dt.datetime, int], ...]
    #: "day" | "week" | "month" | "year" ("" when the table has no business column)
    business_bin: str = ""
    #: (bin start, rows) from the first to the last business bin of the burst, zero-filled
    business_bins: tuple[tuple[Any, int], ...] = ()

    def in_window(self, start: dt.datetime, burst: Burst) -> bool:
        """Whether the step starting at ``start`` overlaps the burst window."""
        return burst.window_start <= start < burst.window_end or (
            start <= burst.window_start < start + dt.timedelta(seconds=self.step_seconds)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "step_seconds": self.step_seconds,
            "timeline": [{"start": start, "rows": rows} for start, rows in self.timeline],
            "business_bin": self.business_bin,
            "business_histogram": [{"start": start, "rows": rows} for start, rows in self.business_bins],
        }


def step_for(window_seconds: float) -> float:
    """Seconds per bar: a minute for the usual windows, window / 60 for very wide ones (a readable bar count)."""
    if window_seconds <= MINUTE_CHART_MAX_WINDOW:
        return 60.0
    return float(round(window_seconds / 60))


def business_bin_for(span_days: float | None) -> str:
    """The bin that gives between a few and a few hundred bars for a span of business dates."""
    if span_days is None:
        return "day"
    for limit, unit in _BINS:
        if span_days <= limit:
            return unit
    return _WIDEST_BIN


def burst_charts(conn: psycopg.Connection, table: Table, burst: Burst) -> BurstCharts:
    """Both charts of one burst of ``table`` (the table :func:`guard.watch.detect.scan_table` found it in)."""
    timestamp = table.require_column(burst.timestamp_column, "the timestamp column")
    window = (burst.window_end - burst.window_start).total_seconds()
    step = step_for(window)
    timeline = _timeline(conn, table, timestamp, burst, step)
    if not burst.business_column:
        return BurstCharts(burst.id, step, timeline)
    business = table.require_column(burst.business_column, "business_column")
    unit = business_bin_for(burst.business_span_days)
    return BurstCharts(burst.id, step, timeline, unit, _business_bins(conn, table, timestamp, business, burst, unit))


def _cast(column: Column) -> str:
    return "timestamptz" if column.type_name.startswith("timestamp with time zone") else "timestamp"


def _timeline(
    conn: psycopg.Connection, table: Table, timestamp: Column, burst: Burst, step: float
) -> tuple[tuple[dt.datetime, int], ...]:
    from psycopg import sql

    width = dt.timedelta(seconds=step)
    first = burst.window_start - CONTEXT_STEPS * width
    # the last step starts at or after the window's end, CONTEXT_STEPS - 1 steps later
    steps_in_window = max(1, -(-int((burst.window_end - burst.window_start).total_seconds()) // int(step)))
    last = first + (2 * CONTEXT_STEPS + steps_in_window - 1) * width
    query = sql.SQL(
        """
        WITH steps AS (
            SELECT generate_series(%(first)s::{type}, %(last)s::{type}, %(width)s) AS start
        ), counts AS (
            SELECT date_bin(%(width)s, {ts}::{type}, %(first)s::{type}) AS start, count(*) AS n
              FROM {table}
             WHERE {ts} >= %(first)s AND {ts} < %(end)s
             GROUP BY 1
        )
        SELECT steps.start, coalesce(counts.n, 0) FROM steps LEFT JOIN counts USING (start) ORDER BY 1
        """
    ).format(type=sql.SQL(_cast(timestamp)), ts=sql.Identifier(timestamp.name), table=table.identifier)
    rows = conn.execute(query, {"first": first, "last": last, "end": last + width, "width": width}).fetchall()
    return tuple((start, int(n)) for start, n in rows)


def _business_bins(
    conn: psycopg.Connection, table: Table, timestamp: Column, business: Column, burst: Burst, unit: str
) -> tuple[tuple[Any, int], ...]:
    from psycopg import sql

    column = sql.Identifier(business.name)
    if _cast(business) == "timestamptz":  # bins are UTC calendar units, whatever the session's TimeZone is
        truncated = sql.SQL("date_trunc(%(unit)s, {} AT TIME ZONE 'UTC')").format(column)
    else:
        truncated = sql.SQL("date_trunc(%(unit)s, {}::timestamp)").format(column)
    query = sql.SQL(
        """
        WITH counts AS (
            SELECT {truncated} AS start, count(*) AS n
              FROM {table}
             WHERE {ts} >= %(start)s AND {ts} < %(end)s AND {business} IS NOT NULL
             GROUP BY 1
        ), bins AS (
            SELECT generate_series(min(start), max(start), ('1 ' || %(unit)s)::interval) AS start FROM counts
        )
        SELECT bins.start, coalesce(counts.n, 0) FROM bins LEFT JOIN counts USING (start) ORDER BY 1
        """
    ).format(truncated=truncated, table=table.identifier, ts=sql.Identifier(timestamp.name), business=column)
    rows = conn.execute(query, {"unit": unit, "start": burst.window_start, "end": burst.window_end}).fetchall()
    return tuple((start, int(n)) for start, n in rows)
