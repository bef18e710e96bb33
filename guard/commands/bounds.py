"""``guard bounds``: the numbers people report, checked against their expected range (exit 1 on a breach).

"No metric said '$6.4M for a two-tech shop is outside the expected $20K-$200K range'." Metrics are declared
in config (``[metrics.NAME]``, see `guard docs bounds`) and run in a READ ONLY transaction with a statement timeout.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from guard import options
from guard.bounds.display import compact, range_text
from guard.bounds.evaluate import ERROR, FAILING, MetricResult, Reading, evaluate
from guard.bounds.spec import Metric, load_metrics
from guard.bounds.suggest import OUTLIER, Suggestion, suggest
from guard.commands import time_options
from guard.db.session import transaction
from guard.envelope import emit_json, iso
from guard.errors import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, GuardError, cli_errors
from guard.watch.output import console

_STYLE = {"ok": "green", "breach": "bold red", "no_value": "bold red", "error": "red"}
_LABEL = {"no_value": "no value", "low_sample": "low sample", "no_history": "no history"}


@click.command()
@cli_errors
@options.dsn_option()
@options.config_option()
@options.format_option()
@options.output_option
@options.fail_on_option(["breach"], default="breach", help="Exit 1 on a breach or a NULL value.")
@time_options.statement_timeout_option
@click.option("--metric", "names", multiple=True, help="Only this metric (repeatable; default: every metric).")
@click.option("--as-of", type=time_options.SINCE, help="Evaluate as if now were this time (ISO, or a duration ago).")
@click.option("--suggest", "suggest_mode", is_flag=True, help="Propose min/max from the metric's recent past.")
@click.option("--lookback", type=time_options.DURATION, default="90d", show_default=True,
              help="With --suggest: how far back to learn from.")  # fmt: skip
@click.option("--margin", type=click.FloatRange(min=1.0, min_open=True), default=2.0, show_default=True,
              help="With --suggest: widen the observed range by this factor on each side.")  # fmt: skip
def bounds(
    dsn: str,
    config_path: Path | None,
    output_format: str,
    fail_on: str,
    statement_timeout: float,
    names: tuple[str, ...],
    as_of: dt.datetime | None,
    suggest_mode: bool,
    lookback: float,
    margin: float,
) -> None:
    """Evaluate the metrics declared in config ([metrics.NAME]): value, bounds and a verdict per metric.

    Exit codes: 0 every metric within bounds (or not judged: low sample, no history), 1 a breach or a NULL
    value, 2 a metric query failed or usage/config error.
    """
    cfg = options.database_config(config_path)
    metrics = select_metrics(load_metrics(cfg.metrics, cfg.source), names, cfg.source)
    with transaction(dsn, statement_timeout=statement_timeout) as conn:
        moment = as_of or conn.execute("SELECT now()").fetchone()[0]  # type: ignore[index]
        if moment.tzinfo is None:  # --as-of 2026-04-08 means midnight UTC, like every time guard prints
            moment = moment.replace(tzinfo=dt.timezone.utc)
        if suggest_mode:
            proposals = [suggest(conn, m, moment, lookback, Decimal(str(margin))) for m in metrics]
        else:
            results = [evaluate(conn, m, moment) for m in metrics]
    if suggest_mode:
        if output_format == "json":
            emit_json("bounds", {"as_of": moment, "suggest": True, "lookback_seconds": lookback,
                                 "margin": margin, "metrics": [_suggestion_dict(p) for p in proposals]})  # fmt: skip
        else:
            _render_suggestions(proposals, moment, lookback, margin)
        raise SystemExit(EXIT_OK)
    if output_format == "json":
        emit_json("bounds", bounds_payload(results, moment))
    else:
        render_results(results, moment)
    code = exit_code(results)
    raise SystemExit(EXIT_OK if code == EXIT_FINDINGS and fail_on == options.NEVER else code)


def select_metrics(metrics: list[Metric], names: tuple[str, ...], source: str | None) -> list[Metric]:
    """The metrics asked for (all by default); an unknown name or an empty config is a clear error."""
    if not metrics:
        where = source or "guard.toml"
        raise GuardError(
            f"no metrics declared in {where}; add a [metrics.NAME] table with sql and min/max (see `guard docs bounds`)"
        )
    if not names:
        return metrics
    known = {m.name: m for m in metrics}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise GuardError(f"unknown metric {', '.join(unknown)} (declared: {', '.join(known)})")
    return [known[n] for n in names]


def exit_code(results: list[MetricResult]) -> int:
    if any(r.status == ERROR for r in results):
        return EXIT_ERROR
    return EXIT_FINDINGS if any(r.status in FAILING for r in results) else EXIT_OK


def _reading_dict(reading: Reading | None) -> dict[str, Any] | None:
    if reading is None:
        return None
    return {"start": reading.start, "end": reading.end, "value": reading.value, "rows": reading.rows}


def result_dict(result: MetricResult) -> dict[str, Any]:
    m = result.metric
    reading = result.reading
    return {
        "metric": m.name,
        "status": result.status,
        "value": None if reading is None else reading.value,
        "rows": None if reading is None else reading.rows,
        "window": None if reading is None or reading.start is None else [reading.start, reading.end],
        "min": m.min,
        "max": m.max,
        "within": m.within.text if m.within else None,
        "median": result.median,
        "lower": result.lower,
        "upper": result.upper,
        "min_rows": m.min_rows,
        "period_seconds": m.period,
        "history": [_reading_dict(r) for r in result.history],
        "message": result.message,
        "why": m.why,
    }


def bounds_payload(results: list[MetricResult], as_of: dt.datetime) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return {"as_of": as_of, "counts": counts, "metrics": [result_dict(r) for r in results]}


def render_results(results: list[MetricResult], as_of: dt.datetime) -> None:
    from rich.table import Table as RichTable

    out = console()
    table = RichTable(title=f"Metric bounds as of {iso(as_of)}", title_justify="left")
    for header, justify in (("metric", "left"), ("value", "right"), ("rows", "right"), ("expected", "left"),
                            ("verdict", "left"), ("note", "left")):  # fmt: skip
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    for r in results:
        style = _STYLE.get(r.status, "yellow")
        label = _LABEL.get(r.status, r.status)
        rows = "-" if r.reading is None or r.reading.rows is None else f"{r.reading.rows:,}"
        value = "-" if r.reading is None else compact(r.reading.value, r.metric.unit)
        expected = range_text(r)
        if r.median is not None and r.metric.within is not None:
            expected += f" ({r.metric.within.text} of median {compact(r.median, r.metric.unit)})"
        table.add_row(r.metric.name, value, rows, expected, f"[{style}]{label}[/{style}]", r.message)
    out.print(table)
    failing = [r for r in results if r.status in FAILING]
    errors = [r for r in results if r.status == ERROR]
    out.print(f"{len(failing)} of {len(results)} metric(s) out of bounds, {len(errors)} could not be evaluated.")
    for r in failing:
        if r.metric.why:
            out.print(f"[bold]{r.metric.name}[/bold]: {r.metric.why}", soft_wrap=True)


def _suggestion_dict(s: Suggestion) -> dict[str, Any]:
    return {
        "metric": s.metric.name,
        "windows": s.windows,
        "min": s.low,
        "max": s.high,
        "median": s.median,
        "current": {"min": s.metric.min, "max": s.metric.max},
        "readings": [_reading_dict(r) for r in s.readings],
        "outliers": [_reading_dict(r) for r in s.outliers],
        "note": s.note,
    }


def _render_suggestions(proposals: list[Suggestion], as_of: dt.datetime, lookback: float, margin: float) -> None:
    out = console()
    out.print(f"# ranges from the {lookback / 86400:g} days before {iso(as_of)}, widened {margin:g}x on each side")
    for s in proposals:
        unit = s.metric.unit
        out.print(f"\n[metrics.{s.metric.name}]", markup=False)
        if s.low is None or s.high is None:
            out.print(f"# no suggestion: {s.note}", markup=False)
            continue
        values = [r.value for r in s.readings if r.value is not None and r not in s.outliers]
        out.print(f"min = {s.low}", markup=False)
        out.print(f"max = {s.high}", markup=False)
        observed = f"{compact(min(values), unit)} .. {compact(max(values), unit)}" if values else "-"
        out.print(
            f"# {s.windows} window(s) of {(s.metric.period or 0) / 86400:g} days: observed {observed}, "
            f"median {compact(s.median, unit)}; now [{compact(s.metric.min, unit)}, {compact(s.metric.max, unit)}]",
            markup=False,
        )
        for r in s.outliers:
            assert r.start is not None
            out.print(
                f"# left out: {r.start:%Y-%m-%d}..{r.end:%Y-%m-%d} = {compact(r.value, unit)}, more than "
                f"{OUTLIER}x away from the median: a phantom? check it with guard detect",
                markup=False,
            )
