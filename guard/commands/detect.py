"""``guard detect``: find phantom bursts already stored in the warehouse (exit 1 when there are any)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from guard import options
from guard.commands import time_options
from guard.db.session import transaction
from guard.envelope import emit_json
from guard.errors import EXIT_FINDINGS, EXIT_OK, cli_errors
from guard.watch.burst_charts import BurstCharts, burst_charts
from guard.watch.catalog import list_tables, resolve_table
from guard.watch.detect import HANDLED, PARTLY, Burst, BurstSettings, TableScan, scan_table, tables_to_scan
from guard.watch.output import clock, console, short_time


@click.command()
@cli_errors
@options.dsn_option()
@options.table_option(multiple=True, help="Table to scan (repeatable). Default: every table "
                      "with the timestamp column in the configured search_path schemas.")  # fmt: skip
@click.option(
    "--since", type=time_options.SINCE, default=None, help="Only rows stamped at or after this (ISO or e.g. 30d)."
)
@click.option(
    "--window", type=time_options.DURATION, default=None, help="Burst window (config burst.window, default 1m)."
)
@click.option("--min-rows", type=int, default=None, help="Rows a window needs to count (config burst.min_rows).")
@click.option("--min-span", type=time_options.DURATION, default=None,
              help="Business dates must span more than this (config burst.min_span, default 180d).")  # fmt: skip
@options.config_option()
@options.format_option(("table", "json", "html"))
@options.output_option
@options.fail_on_option(
    ["burst"], default="burst", help="Exit 1 when a burst has rows outside quarantine (fully quarantined: handled)."
)
@options.quiet_option()
@time_options.statement_timeout_option
def detect(
    dsn: str,
    tables: tuple[str, ...],
    since: dt.datetime | None,
    window: float | None,
    min_rows: int | None,
    min_span: float | None,
    config_path: Path | None,
    output_format: str,
    fail_on: str,
    quiet: bool,
    statement_timeout: float,
) -> None:
    """Find phantom bursts: many rows sharing one timestamp window whose business dates span years."""
    cfg = options.database_config(config_path)
    settings = BurstSettings.from_config(cfg, window=window, min_rows=min_rows, min_span=min_span, since=since)
    with transaction(dsn, statement_timeout=statement_timeout) as conn:
        if tables:
            chosen = [resolve_table(conn, name, cfg.search_path) for name in tables]
        else:
            chosen = tables_to_scan(list_tables(conn, cfg.search_path), cfg)
        progress = options.progress_reporter(quiet)
        scans = []
        for number, table in enumerate(chosen, 1):
            progress(f"detect: {table.qualified} ({number} of {len(chosen)})")
            scans.append(scan_table(conn, table, cfg, settings))
        # the pictures come from the same snapshot as the numbers, so they always agree
        charts = {b.id: burst_charts(conn, t, b) for t, scan in zip(chosen, scans, strict=True) for b in scan.bursts}
    found = sum(len(scan.open_bursts) for scan in scans)
    if output_format == "json":
        emit_json("detect", detect_payload(scans, settings, charts))
    elif output_format == "html":
        from guard.report.html_watch import detect_page

        click.echo(detect_page(scans, settings, charts), nl=False)
    else:
        _render(scans, settings, cfg.timestamp_column, cfg.search_path, charts)
    raise SystemExit(EXIT_FINDINGS if found and fail_on != options.NEVER else EXIT_OK)


def detect_payload(
    scans: list[TableScan], settings: BurstSettings, charts: dict[str, BurstCharts] | None = None
) -> dict[str, Any]:
    """The ``--format json`` document (also read back by ``guard quarantine --from-detect``)."""
    return {
        "settings": {
            "window_seconds": settings.window,
            "min_rows": settings.min_rows,
            "min_span_days": round(settings.min_span / 86400, 3),
            "since": settings.since,
        },
        "bursts_found": sum(len(scan.bursts) for scan in scans),
        "bursts_open": sum(len(scan.open_bursts) for scan in scans),
        "tables": [
            {
                "table": scan.table,
                "timestamp_column": scan.timestamp_column,
                "business_column": scan.business_column,
                "basis": scan.basis,
                "heavy_windows": scan.heavy_windows,
                "typical_rows_per_window": scan.typical_rows,
                "note": scan.note,
                "bursts": [
                    {
                        "id": burst.id,
                        "table": burst.table,
                        "timestamp_column": burst.timestamp_column,
                        "window_start": burst.window_start,
                        "window_end": burst.window_end,
                        "rows": burst.rows,
                        "distinct_timestamps": burst.distinct_timestamps,
                        "basis": burst.basis,
                        "business_column": burst.business_column,
                        "business_min": burst.business_min,
                        "business_max": burst.business_max,
                        "business_span_days": burst.business_span_days,
                        "money_column": burst.money_column,
                        "money_sum": burst.money_sum,
                        "status": burst.status,
                        "quarantined_rows": burst.quarantined_rows,
                        "remaining_rows": burst.remaining_rows,
                        "batches": list(burst.batches),
                        "signature": [
                            {"column": s.column, "value": s.value, "rows": s.rows, "share": s.share}
                            for s in burst.signature
                        ],
                        **({"charts": charts[burst.id].as_dict()} if charts and burst.id in charts else {}),
                    }
                    for burst in scan.bursts
                ],
            }
            for scan in scans
        ],
    }


def _render(
    scans: list[TableScan],
    settings: BurstSettings,
    timestamp_column: str,
    schemas: list[str],
    charts: dict[str, BurstCharts],
) -> None:
    from rich.table import Table as RichTable

    out = console()
    if not scans:
        out.print(f"No tables with a {timestamp_column} column in schemas {', '.join(schemas)}; nothing to scan.")
        return
    for scan in scans:
        if not scan.bursts:
            continue
        table = RichTable(title=f"Phantom bursts in {scan.table} (by {scan.timestamp_column})", title_justify="left")
        zone = " (UTC)" if scan.bursts[0].window_start.tzinfo is not None else ""  # naive: shown as stored
        numeric = ("rows", "stamps", "span (d)", "money", "quarantined")
        headers = ("burst", f"window{zone}", "rows", "stamps", "business range", "span (d)", "money", "quarantined")
        for header in headers:
            table.add_column(header, justify="right" if header in numeric else "left")
        for burst in scan.bursts:
            table.add_row(
                burst.id,
                short_time(burst.window_start),
                f"{burst.rows:,}",
                f"{burst.distinct_timestamps:,}",
                f"{short_time(burst.business_min)} .. {short_time(burst.business_max)}"
                if burst.business_column
                else "-",
                "-" if burst.business_span_days is None else f"{burst.business_span_days:,.0f}",
                "-" if burst.money_sum is None else f"{burst.money_sum:,}",
                _quarantined_cell(burst),
            )
        out.print(table)
        for burst in scan.bursts:
            if burst.id in charts:
                out.print(_spike_line(burst, charts[burst.id]), soft_wrap=True, highlight=False)
            if burst.signature:
                values = ", ".join(f'{s.column} = "{s.value}" ({s.share:.0%})' for s in burst.signature)
                out.print(f"  {burst.id} signature: {values}", soft_wrap=True)
    for scan in scans:
        if scan.note:
            out.print(f"[yellow]note:[/yellow] {scan.note}")
    found = sum(len(scan.bursts) for scan in scans)
    still_open = sum(len(scan.open_bursts) for scan in scans)
    with_bursts = sum(1 for scan in scans if scan.bursts)
    handled = f", {found - still_open} handled (fully quarantined)" if found != still_open else ""
    out.print(
        f"{found} burst(s) in {with_bursts} of {len(scans)} table(s) scanned{handled} "
        f"(window {settings.window:g}s, >= {settings.min_rows} rows, "
        f"business span > {settings.min_span / 86400:g} days)."
    )
    for scan in scans:
        for burst in scan.bursts:
            if burst.status == PARTLY:
                out.print(
                    f"  {burst.id}: {burst.remaining_rows:,} of {burst.rows:,} row(s) still outside quarantine "
                    f"(batches {', '.join(burst.batches)}); `guard quarantine --table {burst.table} "
                    f"--burst {burst.id} --apply` takes the rest"
                )
    if still_open:
        out.print("Review one with `guard quarantine --table T --burst ID` (dry run), then add --apply.")


def _quarantined_cell(burst: Burst) -> str:
    if burst.status == HANDLED:
        return "all (handled)"
    return f"{burst.quarantined_rows:,}" if burst.quarantined_rows else "-"


def _spike_line(burst: Burst, chart: BurstCharts) -> str:
    """``  b1a2 rows/min 03:37 ▁▁▁█▁▁▁ 04:38 UTC  peak 10,461 at 04:07``: the spike, in a terminal."""
    from guard.report.sparkline import sparkline

    values = [rows for _, rows in chart.timeline]
    line = sparkline(values)
    marked = "".join(
        f"[bold red]{char}[/bold red]" if chart.in_window(start, burst) else f"[dim]{char}[/dim]"
        for char, (start, _) in zip(line, chart.timeline, strict=True)
    )
    first, last = chart.timeline[0][0], chart.timeline[-1][0]
    peak_at, peak = max(chart.timeline, key=lambda item: item[1])
    unit = "min" if chart.step_seconds == 60 else f"{chart.step_seconds:g}s"
    zone = " UTC" if first.tzinfo is not None else ""
    return (
        f"  {burst.id} rows/{unit} {clock(first)} {marked} {clock(last)}{zone}  "
        f"peak {peak:,} at {clock(peak_at)}, typical {_typical(values):,}"
    )


def _typical(values: list[int]) -> int:
    """The median step: what the table writes in an ordinary minute."""
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0
