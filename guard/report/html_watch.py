"""``--format html`` for the database commands: detect, freshness, coverage and doctor.

Each function takes what the command already computed (inside its read-only snapshot) and returns one
self-contained page. The pictures are the evidence: for a burst, rows per minute around it (one bar per
minute, the burst's minute in red) and the business dates it carries; for freshness, a heat strip of table
ages against their thresholds; for coverage, the Wilson interval drawn against ``--max-rate``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from guard.report import svg
from guard.report.html import render, when
from guard.watch.burst_charts import BurstCharts
from guard.watch.coverage import Coverage
from guard.watch.detect import Burst, BurstSettings, TableScan
from guard.watch.freshness import NO_COLUMN, Freshness
from guard.watch.output import clock


def detect_page(scans: Sequence[TableScan], settings: BurstSettings, charts: Mapping[str, BurstCharts]) -> str:
    tables = []
    for scan in scans:
        bursts = []
        for burst in scan.bursts:
            chart = charts.get(burst.id)
            bursts.append(
                {
                    "burst": burst,
                    "timeline": timeline_chart(burst, chart) if chart else None,
                    "bars": len(chart.timeline) if chart else 0,
                    "business": business_chart(burst, chart) if chart and chart.business_bins else None,
                    "business_bin": chart.business_bin if chart else "",
                }
            )
        tables.append({"scan": scan, "bursts": bursts})
    return render(
        "detect.html.j2",
        title="guard detect: phantom bursts",
        command="detect",
        tables=tables,
        settings=settings,
        bursts_found=sum(len(scan.bursts) for scan in scans),
        min_span_days=settings.min_span / 86400,
    )


def timeline_chart(burst: Burst, chart: BurstCharts) -> Any:
    """Rows per step around the burst: one bar per step (a minute by default), the burst's steps highlighted."""
    bars = [
        svg.Bar(
            label=clock(start),
            value=rows,
            highlight=chart.in_window(start, burst),
            tooltip=f"{when(start)}: {rows:,} row{'' if rows == 1 else 's'}",
        )
        for start, rows in chart.timeline
    ]
    step = "minute" if chart.step_seconds == 60 else f"{chart.step_seconds:g} s"
    return svg.bar_chart(bars, label=f"Rows per {step} in {burst.table} around burst {burst.id}", css_class="timeline")


def business_chart(burst: Burst, chart: BurstCharts) -> Any:
    """The burst's rows by business date: years of history written in one minute."""
    bars = [
        svg.Bar(
            label=_bin_label(start, chart.business_bin),
            value=rows,
            tooltip=f"{_bin_label(start, chart.business_bin)}: {rows:,} row{'' if rows == 1 else 's'}",
        )
        for start, rows in chart.business_bins
    ]
    return svg.bar_chart(
        bars,
        label=f"Rows of burst {burst.id} by {chart.business_bin} of {burst.business_column}",
        css_class="business",
    )


def _bin_label(value: Any, unit: str) -> str:
    if not isinstance(value, dt.date):
        return str(value)
    if unit == "year":
        return f"{value:%Y}"
    if unit == "month":
        return f"{value:%Y-%m}"
    return f"{value:%Y-%m-%d}"


def freshness_page(results: Sequence[Freshness], schemas: Sequence[str], fail_on: str) -> str:
    cells = [
        svg.Cell(
            label=f.table,
            heat=None if f.age_seconds is None else f.age_seconds / f.error_after if f.error_after else 1.0,
            status=f.status,
            tooltip=f"{f.table}: {_age(f.age_seconds)} old ({f.status}; warn {f.warn_after / 3600:g} h, "
            f"error {f.error_after / 3600:g} h)",
        )
        for f in results
    ]
    rows = [
        {
            "f": f,
            "age": _age(f.age_seconds),
            "gauge": None
            if f.status == NO_COLUMN
            else svg.age_gauge(
                f.age_seconds, f.warn_after, f.error_after, label=f"{f.table} age against thresholds", status=f.status
            ),
        }
        for f in results
    ]
    counts: dict[str, int] = {}
    for f in results:
        counts[f.status] = counts.get(f.status, 0) + 1
    return render(
        "freshness.html.j2",
        title="guard freshness: stale tables",
        command="freshness",
        strip=svg.heat_strip(cells, label="Table age against thresholds, stalest first") if cells else None,
        rows=rows,
        schemas=schemas,
        fail_on=fail_on,
        counts=sorted(counts.items()),
    )


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 72 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def coverage_page(result: Coverage) -> str:
    p = result.proportion
    chart = svg.interval_chart(
        p.rate,
        p.lower,
        p.upper,
        max_rate=result.max_rate,
        label=f"Share of {result.table}.{result.column} {result.missing_means}, with its Wilson interval",
        confidence=p.confidence,
    )
    return render("coverage.html.j2", title="guard coverage", command="coverage", c=result, p=p, chart=chart)


def doctor_page(sections: Sequence[Mapping[str, Any]], worst: int) -> str:
    """``sections``: name, exit_code, summary, details and (for freshness) the tables with their ages."""
    views = []
    for section in sections:
        strip = None
        tables = section.get("tables") if section["name"] == "freshness" else None
        if tables:
            strip = svg.heat_strip(
                [
                    svg.Cell(
                        label=t["table"],
                        heat=None
                        if t.get("age_seconds") is None or not t.get("error_after_seconds")
                        else t["age_seconds"] / t["error_after_seconds"],
                        status=t["status"],
                        tooltip=f"{t['table']}: {_age(t.get('age_seconds'))} ({t['status']})",
                    )
                    for t in tables
                ],
                label="Table age against thresholds, stalest first",
            )
        views.append({**section, "strip": strip})
    return render("doctor.html.j2", title="guard doctor", command="doctor", sections=views, worst=worst)
