"""How often a column is missing (null or zero), with a Wilson interval instead of a bare percentage.

The incident's detector alarmed on "6 of 8 recent jobs have no invoice_total" (75% against a 70% bar).
On 8 rows the 95% interval is 41%-93%: a hint, not a verdict. Below ``min_sample`` rows the result says
"insufficient sample"; with ``max_rate`` the alarm fires only when the interval's *lower* bound exceeds it,
so an alarm means the rate is really above the bar.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from guard.errors import GuardError
from guard.watch.catalog import NUMERIC, TEXT, Column, Table
from guard.watch.predicate import Predicate
from guard.watch.stats import Proportion, wilson_interval

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

INSUFFICIENT = "insufficient_sample"
MEASURED = "measured"  # no --max-rate given: nothing to compare against
OK = "ok"
INCONCLUSIVE = "inconclusive"  # point estimate above max_rate, but the interval reaches below it
ALARM = "alarm"


@dataclass(frozen=True)
class Coverage:
    table: str
    column: str
    missing_means: str  # "null or zero" | "null or empty" | "null"
    where: str | None
    proportion: Proportion
    min_sample: int
    max_rate: float | None
    status: str


def missing_condition(column: Column) -> tuple[sql.Composable, str]:
    """SQL for "this row lacks a value" and how to say it: zero counts as missing for numbers, '' for text."""
    from psycopg import sql

    ident = sql.Identifier(column.name)
    if column.kind == NUMERIC:
        return sql.SQL("({} IS NULL OR {} = 0)").format(ident, ident), "null or zero"
    if column.kind == TEXT:
        return sql.SQL("({} IS NULL OR {}::text = '')").format(ident, ident), "null or empty"
    return sql.SQL("({} IS NULL)").format(ident), "null"


def measure_coverage(
    conn: psycopg.Connection,
    table: Table,
    column_name: str,
    predicate: Predicate | None,
    *,
    min_sample: int = 20,
    max_rate: float | None = None,
    confidence: float = 0.95,
) -> Coverage:
    from psycopg import sql

    if min_sample < 1:
        raise GuardError("--min-sample must be at least 1")
    if max_rate is not None and not 0 <= max_rate <= 1:
        raise GuardError("--max-rate must be a share between 0 and 1 (e.g. 0.7 or 70%)")
    column = table.require_column(column_name, "the --column to measure")
    missing, means = missing_condition(column)
    where = predicate.composable() if predicate else sql.SQL("true")
    row = conn.execute(
        sql.SQL("SELECT count(*), count(*) FILTER (WHERE {}) FROM {} WHERE {}").format(missing, table.identifier, where)
    ).fetchone()
    assert row is not None
    proportion = wilson_interval(int(row[1]), int(row[0]), confidence)
    return Coverage(
        table=table.qualified,
        column=column.name,
        missing_means=means,
        where=predicate.canonical if predicate else None,
        proportion=proportion,
        min_sample=min_sample,
        max_rate=max_rate,
        status=_status(proportion, min_sample, max_rate),
    )


def _status(proportion: Proportion, min_sample: int, max_rate: float | None) -> str:
    if proportion.n < min_sample:
        return INSUFFICIENT
    if max_rate is None:
        return MEASURED
    if proportion.lower > max_rate:
        return ALARM
    if proportion.rate is not None and proportion.rate > max_rate:
        return INCONCLUSIVE
    return OK
