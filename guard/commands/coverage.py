"""``guard coverage``: how often a column is null or zero, with a Wilson interval and a minimum sample."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from guard import options
from guard.commands import time_options
from guard.db.session import transaction
from guard.envelope import emit_json
from guard.errors import EXIT_FINDINGS, EXIT_OK, cli_errors
from guard.watch.catalog import resolve_table
from guard.watch.coverage import ALARM, INCONCLUSIVE, INSUFFICIENT, Coverage, measure_coverage
from guard.watch.output import console
from guard.watch.predicate import validate_predicate


class Rate(click.ParamType):
    """``0.7`` or ``70%`` -> 0.7."""

    name = "rate"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float):
            return value
        text = str(value).strip()
        try:
            rate = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            self.fail(f"{value!r} is not a rate (use 0.7 or 70%)", param, ctx)
        if not 0 <= rate <= 1:
            self.fail(f"{value!r} is outside 0..1 (0%..100%)", param, ctx)
        return rate


@click.command()
@cli_errors
@options.dsn_option()
@options.table_option(required=True, help="Table to measure (schema.table or a search_path name).")
@click.option("--column", required=True, help="Column whose null/zero share to measure.")
@click.option("--where", "predicate", default=None, help="Only rows matching this boolean SQL expression.")
@click.option("--min-sample", type=int, default=20, show_default=True,
              help="Below this many rows the result is 'insufficient sample', never an alarm.")  # fmt: skip
@click.option("--max-rate", type=Rate(), default=None,
              help="Exit 1 when the interval's lower bound exceeds this share (0.7 or 70%).")  # fmt: skip
@click.option("--confidence", type=click.FloatRange(0.5, 0.999), default=0.95, show_default=True)
@options.config_option()
@options.format_option(("table", "json", "html"))
@options.output_option
@options.fail_on_option(["alarm"], default="alarm", help="Exit 1 on an alarm (see --max-rate).")
@time_options.statement_timeout_option
def coverage(
    dsn: str,
    table: str,
    column: str,
    predicate: str | None,
    min_sample: int,
    max_rate: float | None,
    confidence: float,
    config_path: Path | None,
    output_format: str,
    fail_on: str,
    statement_timeout: float,
) -> None:
    """Share of rows where a column is missing (null or zero), with a Wilson score interval."""
    cfg = options.database_config(config_path)
    with transaction(dsn, statement_timeout=statement_timeout) as conn:
        target = resolve_table(conn, table, cfg.search_path)
        validated = validate_predicate(conn, predicate, target) if predicate is not None else None
        result = measure_coverage(
            conn, target, column.lower(), validated, min_sample=min_sample, max_rate=max_rate, confidence=confidence
        )
    if output_format == "json":
        emit_json("coverage", coverage_payload(result))
    elif output_format == "html":
        from guard.report.html_watch import coverage_page

        click.echo(coverage_page(result), nl=False)
    else:
        _render(result)
    raise SystemExit(EXIT_FINDINGS if result.status == ALARM and fail_on != options.NEVER else EXIT_OK)


def coverage_payload(result: Coverage) -> dict[str, Any]:
    p = result.proportion
    return {
        "table": result.table,
        "column": result.column,
        "missing_means": result.missing_means,
        "where": result.where,
        "rows": p.n,
        "missing": p.successes,
        "rate": p.rate,
        "interval": {"method": "wilson", "confidence": p.confidence, "lower": p.lower, "upper": p.upper},
        "min_sample": result.min_sample,
        "max_rate": result.max_rate,
        "status": result.status,
    }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _render(result: Coverage) -> None:
    p = result.proportion
    out = console()
    scope = f" where {result.where}" if result.where else ""
    out.print(
        f"{result.table}.{result.column}{scope}: {p.successes:,} of {p.n:,} row(s) {result.missing_means} = "
        f"{_pct(p.rate)} ({p.confidence:.0%} Wilson interval {_pct(p.lower)} - {_pct(p.upper)})"
    )
    if result.status == INSUFFICIENT:
        out.print(
            f"[yellow]insufficient sample[/yellow]: n = {p.n} < {result.min_sample}; treat the rate as a hint, "
            "not a verdict (widen the window or lower --min-sample knowingly)."
        )
    elif result.status == ALARM:
        out.print(
            f"[bold red]ALARM[/bold red]: even the lower bound {_pct(p.lower)} "
            f"exceeds --max-rate {_pct(result.max_rate)}."
        )
    elif result.status == INCONCLUSIVE:
        out.print(
            f"[yellow]inconclusive[/yellow]: the rate {_pct(p.rate)} is above --max-rate {_pct(result.max_rate)}, "
            f"but the interval reaches down to {_pct(p.lower)}; not an alarm."
        )
    elif result.max_rate is not None:
        out.print(f"[green]ok[/green]: below --max-rate {_pct(result.max_rate)}.")
