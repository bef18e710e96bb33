"""Find phantom bursts already stored in a table.

A phantom burst is what ``DEFAULT now()`` leaves behind when a backfill forgets the timestamp column:
many rows sharing one ``created_at`` window (a minute by default) whose business dates (``scheduled_at``)
span years. Detection is a few plain SELECTs per table in a read-only transaction:

1. rows per window (``date_bin`` over the timestamp column, ``HAVING count(*) >= min_rows``), plus the
   median rows per active window (the table's normal pace) for tables judged by size alone;
2. for the heavy windows only, one query joining the window list to the table by range on the timestamp
   column (an index on it makes each an index range scan): business range, money sum, distinct timestamps and
   the most common value of a few text columns (the burst's *signature*, e.g.
   ``lead_source = 'Imported Default Campaign'``), then one ``count(*) FILTER`` per burst for their shares.

A heavy window is a burst when its business dates span more than ``min_span``. Tables without a configured
``business_column`` can only be judged by size: a window is a burst when it holds at least ``min_rows`` rows
and :data:`SIZE_ONLY_FACTOR` times the table's median window, and the report says it was judged by size alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from guard.config import Config, TableConfig
from guard.envelope import iso
from guard.errors import GuardError
from guard.watch.catalog import GUARD_SCHEMA, NUMERIC, TEMPORAL, TEXT, Column, Table
from guard.watch.rowkeys import row_key

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

#: burst statuses: quarantine turns an open burst into a handled one (detect then exits 0)
OPEN = "open"
PARTLY = "partly_quarantined"
HANDLED = "handled"

BASIS_BUSINESS = "business_span"
BASIS_SIZE = "size_only"
#: size-only bursts must be this many times the table's median rows per active window
SIZE_ONLY_FACTOR = 10
#: at most this many text columns are examined when looking for a signature automatically
MAX_SIGNATURE_CANDIDATES = 12
#: an automatically found signature value must cover at least this share of the burst
SIGNATURE_MIN_SHARE = 0.5
SIGNATURE_SHOWN = 3


@dataclass(frozen=True)
class BurstSettings:
    window: float  # seconds: rows sharing one timestamp window this wide
    min_rows: int
    min_span: float  # seconds: business dates must span more than this
    since: dt.datetime | None = None

    @classmethod
    def from_config(
        cls,
        cfg: Config,
        *,
        window: float | None = None,
        min_rows: int | None = None,
        min_span: float | None = None,
        since: dt.datetime | None = None,
    ) -> BurstSettings:
        """The config's ``[burst]`` settings with command-line overrides applied."""
        settings = cls(
            window=cfg.burst_window if window is None else window,
            min_rows=cfg.burst_min_rows if min_rows is None else min_rows,
            min_span=cfg.burst_min_span if min_span is None else min_span,
            since=since,
        )
        if settings.window <= 0:
            raise GuardError("the burst window must be positive (e.g. --window 1m)")
        if settings.min_rows < 2:
            raise GuardError("the minimum burst size must be at least 2 rows (--min-rows)")
        return settings


@dataclass(frozen=True)
class SignatureValue:
    column: str
    value: str
    rows: int
    share: float


@dataclass(frozen=True)
class Burst:
    id: str
    table: str
    timestamp_column: str
    window_start: dt.datetime
    window_end: dt.datetime
    rows: int
    distinct_timestamps: int  # 1 means one statement's now(): a single transaction wrote them all
    basis: str  # BASIS_BUSINESS | BASIS_SIZE
    business_column: str | None = None
    business_min: Any = None
    business_max: Any = None
    business_span_days: float | None = None
    money_column: str | None = None
    money_sum: Decimal | None = None
    signature: tuple[SignatureValue, ...] = ()
    #: rows of the window in quarantine batches not yet released, and those batches
    quarantined_rows: int = 0
    batches: tuple[str, ...] = ()

    @property
    def remaining_rows(self) -> int:
        return self.rows - self.quarantined_rows

    @property
    def status(self) -> str:
        """``handled`` (every row quarantined), ``partly_quarantined`` or ``open``."""
        if self.quarantined_rows >= self.rows:
            return HANDLED
        return PARTLY if self.quarantined_rows else OPEN


@dataclass(frozen=True)
class TableScan:
    table: str
    timestamp_column: str
    business_column: str | None
    basis: str
    heavy_windows: int  # windows holding at least min_rows rows
    typical_rows: float | None  # median rows per active window; computed for size-only tables only
    bursts: tuple[Burst, ...]
    note: str = ""

    @property
    def open_bursts(self) -> tuple[Burst, ...]:
        """Bursts with rows still outside quarantine: what still needs someone."""
        return tuple(b for b in self.bursts if b.status != HANDLED)


@dataclass(frozen=True)
class _Plan:
    """What to read from one table, resolved and checked against its columns."""

    table: Table
    timestamp: Column
    business: Column | None
    money: Column | None
    signature: tuple[Column, ...]
    signature_configured: bool


def burst_id(table: str, window_start: dt.datetime, window_seconds: float) -> str:
    """Stable ID of the window ``window_start`` in ``table``: the same data gives the same ID on every run."""
    key = f"{table}|{iso(window_start)}|{window_seconds:g}"
    return "b" + hashlib.sha256(key.encode()).hexdigest()[:12]


def tables_to_scan(tables: Sequence[Table], cfg: Config) -> list[Table]:
    """Tables having their configured timestamp column (the ``guard`` schema's own tables excluded)."""
    chosen = []
    for table in tables:
        if table.schema == GUARD_SCHEMA:
            continue
        column = table.column(cfg.timestamp_column_for(table.qualified))
        if column is not None and column.kind == TEMPORAL:
            chosen.append(table)
    return chosen


def scan_table(conn: psycopg.Connection, table: Table, cfg: Config, settings: BurstSettings) -> TableScan:
    """Find the bursts in one table."""
    plan = _plan(table, cfg)
    windows, median = _heavy_windows(conn, plan, settings, with_median=plan.business is None)
    basis = BASIS_BUSINESS if plan.business else BASIS_SIZE
    heavy = len(windows)
    if plan.business is None:
        threshold = max(settings.min_rows, SIZE_ONLY_FACTOR * (median or 0))
        windows = [(start, rows) for start, rows in windows if rows >= threshold]
    bursts = []
    for stats in _window_stats(conn, plan, [start for start, _ in windows], settings.window):
        burst = _burst_from_stats(plan, stats, settings)
        if burst is not None:
            bursts.append(_with_signature(conn, plan, burst))
    bursts = _with_quarantine(conn, plan, bursts, settings.window)
    note = (
        ""
        if plan.business
        else f"no business_column configured for {table.qualified}: judged by size alone "
        f"(>= {settings.min_rows} rows and >= {SIZE_ONLY_FACTOR}x the median window)"
    )
    return TableScan(
        table=table.qualified,
        timestamp_column=plan.timestamp.name,
        business_column=plan.business.name if plan.business else None,
        basis=basis,
        heavy_windows=heavy,
        typical_rows=median,
        bursts=tuple(bursts),
        note=note,
    )


def find_burst_window(
    conn: psycopg.Connection, table: Table, cfg: Config, window: float, wanted_id: str
) -> tuple[dt.datetime, dt.datetime]:
    """The ``[start, end)`` window whose :func:`burst_id` is ``wanted_id`` (thresholds do not matter here)."""
    plan = _plan(table, cfg)
    windows, _ = _heavy_windows(conn, plan, BurstSettings(window=window, min_rows=2, min_span=0), with_median=False)
    for start, _rows in windows:
        if burst_id(table.qualified, start, window) == wanted_id:
            return start, start + dt.timedelta(seconds=window)
    raise GuardError(
        f"no burst {wanted_id} in {table.qualified} (window {window:g}s); run `guard detect --table "
        f"{table.qualified}` to list current burst IDs (the window setting must match the one detect used)"
    )


def _plan(table: Table, cfg: Config) -> _Plan:
    settings = cfg.table(table.qualified) or TableConfig()
    timestamp = table.require_column(cfg.timestamp_column_for(table.qualified), "the timestamp column", [TEMPORAL])
    business = (
        table.require_column(settings.business_column, "business_column", [TEMPORAL])
        if settings.business_column
        else None
    )
    money = table.require_column(settings.money_column, "money_column", [NUMERIC]) if settings.money_column else None
    if settings.signature_columns:
        signature = tuple(table.require_column(name, "a signature column") for name in settings.signature_columns)
    else:
        skip = {timestamp.name, *(table.primary_key)}
        signature = tuple(c for c in table.columns if c.kind == TEXT and c.name not in skip)[:MAX_SIGNATURE_CANDIDATES]
    return _Plan(table, timestamp, business, money, signature, bool(settings.signature_columns))


def _bucket_type(column: Column) -> str:
    return "timestamptz" if column.type_name.startswith("timestamp with time zone") else "timestamp"


def _heavy_windows(
    conn: psycopg.Connection, plan: _Plan, settings: BurstSettings, *, with_median: bool
) -> tuple[list[tuple[dt.datetime, int]], float | None]:
    """Windows with at least ``min_rows`` rows, oldest first, and (if asked) the median rows per non-empty window.

    Without the median this is a single ``GROUP BY ... HAVING`` that Postgres may run as a parallel hash
    aggregate; the median needs every window's count, so it is only computed for size-only tables.
    """
    from psycopg import sql

    ts = sql.Identifier(plan.timestamp.name)
    windows = sql.SQL(
        "SELECT date_bin(%(width)s, {ts}::{type}, %(origin)s::{type}) AS window_start, count(*) AS n"
        " FROM {table} WHERE {ts} IS NOT NULL{since} GROUP BY 1"
    ).format(
        ts=ts,
        type=sql.SQL(_bucket_type(plan.timestamp)),
        table=plan.table.identifier,
        since=sql.SQL(" AND {} >= %(since)s").format(ts) if settings.since else sql.SQL(""),
    )
    params = {
        "width": dt.timedelta(seconds=settings.window),
        "origin": "2000-01-01 00:00:00+00",
        "min_rows": settings.min_rows,
        "since": settings.since,
    }
    if not with_median:
        rows = conn.execute(sql.SQL("{} HAVING count(*) >= %(min_rows)s ORDER BY 1").format(windows), params).fetchall()
        return [(start, int(n)) for start, n in rows], None
    query = sql.SQL(
        """
        WITH windows AS ({windows}), heavy AS (SELECT window_start, n FROM windows WHERE n >= %(min_rows)s)
        SELECT (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY n) FROM windows),
               ARRAY(SELECT window_start FROM heavy ORDER BY window_start),
               ARRAY(SELECT n FROM heavy ORDER BY window_start)
        """
    ).format(windows=windows)
    row = conn.execute(query, params).fetchone()
    assert row is not None  # an aggregate-only SELECT always returns one row
    median, starts, counts = row
    return list(zip(starts, (int(n) for n in counts), strict=True)), (None if median is None else float(median))


def _window_stats(
    conn: psycopg.Connection, plan: _Plan, starts: list[dt.datetime], window: float
) -> list[dict[str, Any]]:
    """Aggregates for each window in one query (an index range scan per window when ``ts`` is indexed)."""
    from psycopg import sql

    if not starts:
        return []
    ts = sql.Identifier("t", plan.timestamp.name)
    items: list[sql.Composable] = [
        sql.SQL("w.window_start"),
        sql.SQL("count(*) AS rows"),
        sql.SQL("count(DISTINCT {}) AS distinct_timestamps").format(ts),
    ]
    if plan.business:
        business = sql.Identifier("t", plan.business.name)
        items += [
            sql.SQL("min({}) AS business_min").format(business),
            sql.SQL("max({}) AS business_max").format(business),
        ]
    if plan.money:
        items.append(sql.SQL("sum({}) AS money_sum").format(sql.Identifier("t", plan.money.name)))
    for index, column in enumerate(plan.signature):
        items.append(
            sql.SQL("mode() WITHIN GROUP (ORDER BY {}::text) AS {}").format(
                sql.Identifier("t", column.name), sql.Identifier(f"mode_{index}")
            )
        )
    query = sql.SQL(
        """
        SELECT {items}
          FROM unnest(%(starts)s::{type}[]) AS w(window_start)
          JOIN {table} AS t ON {ts} >= w.window_start AND {ts} < w.window_start + %(width)s
         GROUP BY w.window_start
         ORDER BY w.window_start
        """
    ).format(
        items=sql.SQL(", ").join(items),
        type=sql.SQL(_bucket_type(plan.timestamp)),
        table=plan.table.identifier,
        ts=ts,
    )
    cursor = conn.execute(query, {"starts": starts, "width": dt.timedelta(seconds=window)})
    names = [d.name for d in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _span_seconds(low: Any, high: Any) -> float:
    if isinstance(low, dt.datetime) and isinstance(high, dt.datetime):
        return (high - low).total_seconds()
    return float((high - low).days * 86400)


def _burst_from_stats(plan: _Plan, stats: dict[str, Any], settings: BurstSettings) -> Burst | None:
    span = None
    if plan.business:
        low, high = stats["business_min"], stats["business_max"]
        if low is None or high is None:
            return None
        span = _span_seconds(low, high)
        if span <= settings.min_span:
            return None
    start = stats["window_start"]
    return Burst(
        id=burst_id(plan.table.qualified, start, settings.window),
        table=plan.table.qualified,
        timestamp_column=plan.timestamp.name,
        window_start=start,
        window_end=start + dt.timedelta(seconds=settings.window),
        rows=int(stats["rows"]),
        distinct_timestamps=int(stats["distinct_timestamps"]),
        basis=BASIS_BUSINESS if plan.business else BASIS_SIZE,
        business_column=plan.business.name if plan.business else None,
        business_min=stats.get("business_min"),
        business_max=stats.get("business_max"),
        business_span_days=None if span is None else round(span / 86400, 1),
        money_column=plan.money.name if plan.money else None,
        money_sum=stats.get("money_sum"),
        signature=tuple(
            SignatureValue(column=column.name, value=stats[f"mode_{i}"], rows=0, share=0.0)
            for i, column in enumerate(plan.signature)
            if stats[f"mode_{i}"] is not None
        ),
    )


def _with_quarantine(conn: psycopg.Connection, plan: _Plan, bursts: list[Burst], window: float) -> list[Burst]:
    """How much of each burst ``guard quarantine`` already took out (batches not released), in one query.

    A burst is still detected after its rows were quarantined (they are kept, never deleted), so detect must
    say it is handled: otherwise the check that should turn green after the fix stays red.
    """
    from dataclasses import replace

    from psycopg import sql

    table = plan.table
    if not bursts or not table.primary_key or not _quarantine_readable(conn):
        return bursts
    ts = sql.Identifier(table.schema, table.name, plan.timestamp.name)
    query = sql.SQL(
        """
        SELECT w.window_start, count(DISTINCT q.row_key), array_agg(DISTINCT q.batch_id ORDER BY q.batch_id)
          FROM unnest(%(starts)s::{type}[]) AS w(window_start)
          JOIN {table} ON {ts} >= w.window_start AND {ts} < w.window_start + %(width)s
          JOIN {quarantine} AS q
            ON q.table_name = %(name)s AND q.row_key = {key} AND q.released_at IS NULL
         GROUP BY w.window_start
        """
    ).format(
        type=sql.SQL(_bucket_type(plan.timestamp)),
        table=table.identifier,
        ts=ts,
        quarantine=sql.Identifier(GUARD_SCHEMA, "quarantined_rows"),
        key=row_key(table),
    )
    params = {
        "starts": [b.window_start for b in bursts],
        "width": dt.timedelta(seconds=window),
        "name": table.qualified,
    }
    found = {start: (int(count), tuple(batches)) for start, count, batches in conn.execute(query, params)}
    return [
        replace(burst, quarantined_rows=found[burst.window_start][0], batches=found[burst.window_start][1])
        if burst.window_start in found
        else burst
        for burst in bursts
    ]


def _quarantine_readable(conn: psycopg.Connection) -> bool:
    """The quarantine registry exists and this role may read it (detect runs fine without guard installed)."""
    row = conn.execute(
        "SELECT CASE WHEN to_regclass('guard.quarantined_rows') IS NULL THEN false"
        " ELSE has_table_privilege('guard.quarantined_rows', 'SELECT') END"
    ).fetchone()
    return bool(row and row[0])


def _with_signature(conn: psycopg.Connection, plan: _Plan, burst: Burst) -> Burst:
    """Count how many burst rows carry each column's most common value and keep the telling ones."""
    from dataclasses import replace

    from psycopg import sql

    if not burst.signature:
        return burst
    ts = sql.Identifier(plan.timestamp.name)
    counts = sql.SQL(", ").join(
        sql.SQL("count(*) FILTER (WHERE {}::text = {})").format(sql.Identifier(value.column), sql.Literal(value.value))
        for value in burst.signature
    )
    row = conn.execute(
        sql.SQL("SELECT {} FROM {} WHERE {} >= %s AND {} < %s").format(counts, plan.table.identifier, ts, ts),
        (burst.window_start, burst.window_end),
    ).fetchone()
    assert row is not None
    values = [
        replace(value, rows=int(count), share=round(count / burst.rows, 4))
        for value, count in zip(burst.signature, row, strict=True)
    ]
    if not plan.signature_configured:
        values = sorted((v for v in values if v.share >= SIGNATURE_MIN_SHARE), key=lambda v: -v.share)
        values = values[:SIGNATURE_SHOWN]
    return replace(burst, signature=tuple(values))
