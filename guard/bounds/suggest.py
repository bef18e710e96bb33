"""``guard bounds --suggest``: ranges learned from the metric's own recent past, as the seed's plan did by hand.

The incident's plan was "add an expected range to every metric, realistic bounds based on the last 90 days of
data" (revenue [$20K, $200K] for 7 days). Here every full window of the lookback is evaluated with the same
query; the range spans the observed values widened by ``margin`` (2x: half the smallest to twice the
largest) and rounded outward to two significant digits, so the numbers read like a person chose them.

A window far from the others (more than ``OUTLIER`` times the median, or less than 1/``OUTLIER``) is left
out and named: learning a range from a phantom week would bless the phantom.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

from guard.bounds.evaluate import Reading, check_metric_functions, measure_metric, window
from guard.bounds.spec import Metric

if TYPE_CHECKING:
    import psycopg

OUTLIER = Decimal(10)


@dataclass
class Suggestion:
    metric: Metric
    windows: int  # full windows in the lookback
    readings: list[Reading] = field(default_factory=list)
    outliers: list[Reading] = field(default_factory=list)
    low: Decimal | None = None
    high: Decimal | None = None
    median: Decimal | None = None
    note: str = ""


def suggest(
    conn: psycopg.Connection, metric: Metric, as_of: dt.datetime, lookback: float, margin: Decimal
) -> Suggestion:
    """Evaluate every full window of ``lookback`` seconds before ``as_of`` and propose [min, max]."""
    if metric.period is None:
        return Suggestion(metric, 0, note="its query has no :period_start/:period_end, so its past cannot be evaluated")
    windows = int(lookback // metric.period)
    if windows < 1:
        return Suggestion(metric, 0, note=f"--lookback is shorter than one period ({metric.period / 86400:g} days)")
    check_metric_functions(conn, metric)
    readings = [measure_metric(conn, metric, *window(metric, as_of, back)) for back in range(windows)]
    result = Suggestion(metric, windows, readings=readings)
    usable = [r for r in readings if r.usable(metric.min_rows) and r.value is not None]
    if not usable:
        result.note = "no window in the lookback has data" + (
            f" with >= {metric.min_rows} rows" if metric.min_rows else ""
        )
        return result
    median = Decimal(statistics.median([r.value for r in usable if r.value is not None]))
    result.median = median
    kept = [r for r in usable if not _outlier(r.value, median)]
    result.outliers = [r for r in usable if _outlier(r.value, median)]
    values = [r.value for r in kept if r.value is not None]
    result.low = nice(min(values) / margin, ROUND_FLOOR)
    result.high = nice(max(values) * margin, ROUND_CEILING)
    return result


def _outlier(value: Decimal | None, median: Decimal) -> bool:
    if value is None or median <= 0:
        return False
    return value > median * OUTLIER or value < median / OUTLIER


def nice(value: Decimal, rounding: str) -> Decimal:
    """Round to two significant digits away from the range's inside: 21,345 -> 21,000 (floor), 22,000 (ceiling)."""
    if value == 0:
        return Decimal(0)
    exponent = math.floor(math.log10(abs(value))) - 1
    step = Decimal(10) ** exponent
    rounded = (value / step).quantize(Decimal(1), rounding=rounding) * step
    return rounded.quantize(Decimal(1)) if exponent >= 0 else rounded.normalize()
