"""Run metric queries and judge them: fixed bounds, a band around the trailing median, a minimum sample.

Everything runs in the caller's READ ONLY transaction with its statement timeout (``guard.db.session``);
each query also runs in its own savepoint so one metric that fails (a typo, a timeout) is reported in its
row while the others are still judged.

The minimum sample is the n >= 20 lesson of the incident's debrief: a rate over 8 jobs alarmed at 75% when
its 95% interval ran from 41% to 93%. A metric with ``min_rows`` returns its sample size as a second column;
below it, the value is shown but not judged (``low_sample``), and past windows below it do not enter the
median.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from guard.bounds.spec import MIN_HISTORY, Metric
from guard.errors import GuardError, db_error_summary
from guard.watch.predicate import check_volatility

if TYPE_CHECKING:
    import psycopg

OK = "ok"
BREACH = "breach"
NO_VALUE = "no_value"  # the query returned NULL
LOW_SAMPLE = "low_sample"  # fewer rows than min_rows: shown, not judged
NO_HISTORY = "no_history"  # fewer than MIN_HISTORY usable past windows for `within`
ERROR = "error"
#: statuses that make `guard bounds` exit 1 (ERROR exits 2)
FAILING = frozenset({BREACH, NO_VALUE})


@dataclass(frozen=True)
class Reading:
    """One evaluation of a metric's query over ``[start, end)`` (both None for a query without a window)."""

    start: dt.datetime | None
    end: dt.datetime | None
    value: Decimal | None
    rows: int | None

    def usable(self, min_rows: int | None) -> bool:
        return self.value is not None and (min_rows is None or (self.rows or 0) >= min_rows)


@dataclass
class MetricResult:
    metric: Metric
    status: str
    message: str
    reading: Reading | None = None
    lower: Decimal | None = None
    upper: Decimal | None = None
    median: Decimal | None = None
    history: list[Reading] = field(default_factory=list)


def check_metric_functions(conn: psycopg.Connection, metric: Metric) -> None:
    """Refuse a metric whose query calls a volatile function (the READ ONLY transaction is the second wall)."""
    check_volatility(conn, metric.functions, metric.operators, f"metrics.{metric.name}.sql", "a metric query")


def window(metric: Metric, as_of: dt.datetime, back: int = 0) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The ``back``-th window before the current one (0 = the one ending at ``as_of``)."""
    if metric.period is None:
        return None, None
    length = dt.timedelta(seconds=metric.period)
    end = as_of - back * length
    return end - length, end


def measure_metric(
    conn: psycopg.Connection, metric: Metric, start: dt.datetime | None, end: dt.datetime | None
) -> Reading:
    """Run the query once; a result that is not one row of one number (plus the sample size) is an error."""
    with conn.transaction():  # a savepoint: a failing query must not abort the other metrics
        cursor = conn.execute(metric.render(start, end))  # validated SQL, no parameters: % is not special
        rows = cursor.fetchmany(2)
        width = len(cursor.description or ())
    subject = f"metric {metric.name}"
    if len(rows) != 1:
        count = "no row" if not rows else "more than one row"
        raise GuardError(f"{subject}: the query returned {count}; a metric is one row holding one number")
    expected = 2 if metric.min_rows is not None else 1
    if width != expected:
        shape = "the value and the sample size (SELECT sum(x), count(*) ...)" if expected == 2 else "one number"
        raise GuardError(f"{subject}: the query returned {width} column(s); it must return {shape}")
    value = _number(rows[0][0], subject, "value")
    sample = None
    if metric.min_rows is not None:
        counted = _number(rows[0][1], subject, "sample size")
        sample = int(counted) if counted is not None else 0
    return Reading(start=start, end=end, value=value, rows=sample)


def _number(raw: object, subject: str, what: str) -> Decimal | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal):
        raise GuardError(f"{subject}: the {what} is {type(raw).__name__} {raw!r}, not a number; cast it in the query")
    return Decimal(str(raw)) if isinstance(raw, float) else Decimal(raw)


def evaluate(conn: psycopg.Connection, metric: Metric, as_of: dt.datetime) -> MetricResult:
    """Judge one metric as of ``as_of``; database and shape errors become an ``error`` row, never an exception."""
    import psycopg

    try:
        check_metric_functions(conn, metric)
        reading = measure_metric(conn, metric, *window(metric, as_of))
        history = [measure_metric(conn, metric, *window(metric, as_of, back)) for back in _backs(metric)]
    except psycopg.errors.QueryCanceled:
        return MetricResult(metric, ERROR, "the query hit the statement timeout (--statement-timeout)")
    except (GuardError, psycopg.Error) as exc:
        return MetricResult(metric, ERROR, db_error_summary(exc) if isinstance(exc, psycopg.Error) else str(exc))
    return judge_metric(metric, reading, history)


def _backs(metric: Metric) -> range:
    return range(1, metric.history + 1) if metric.within is not None else range(0)


def judge_metric(metric: Metric, reading: Reading, history: list[Reading]) -> MetricResult:
    """The verdict for ``reading`` given the metric's bounds and its past windows."""
    result = MetricResult(metric, OK, "", reading=reading, lower=metric.min, upper=metric.max, history=history)
    if metric.within is not None:
        past = [r.value for r in history if r.usable(metric.min_rows) and r.value is not None]
        if len(past) >= MIN_HISTORY:
            result.median = Decimal(statistics.median(past))
            low, high = metric.within.bounds(result.median)
            result.lower = low if result.lower is None else max(result.lower, low)
            result.upper = high if result.upper is None else min(result.upper, high)
        elif metric.min is None and metric.max is None:
            result.status = NO_HISTORY
            result.message = (
                f"only {len(past)} of {len(history)} past window(s) have data"
                + (f" (>= {metric.min_rows} rows)" if metric.min_rows else "")
                + f"; within needs {MIN_HISTORY} to compute a median"
            )
            return result
        else:
            result.message = f"within skipped: only {len(past)} usable past window(s) (needs {MIN_HISTORY}); "
    if reading.value is None:
        result.status = NO_VALUE
        result.message += "the query returned NULL (wrap it in coalesce(..., 0) if no rows means zero)"
        return result
    if metric.min_rows is not None and (reading.rows or 0) < metric.min_rows:
        result.status = LOW_SAMPLE
        result.message += f"{reading.rows} row(s) < min_rows {metric.min_rows}: too few to judge"
        return result
    if result.lower is not None and reading.value < result.lower:
        result.status = BREACH
        result.message += "below the expected range"
    elif result.upper is not None and reading.value > result.upper:
        result.status = BREACH
        result.message += "above the expected range"
    if result.status == BREACH and result.median is not None and result.median != 0:
        result.message += f" ({reading.value / result.median:.1f}x the trailing median)"
    return result
