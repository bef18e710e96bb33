"""``guard doctor``: guard status, bursts, freshness, rollout verdicts and metric bounds on one screen.

The exit code is the worst section's. Rollout verdicts and the writers of stale tables need the blast radius
(``--scan REPORT.json`` or ``--repo PATH``); metric bounds need ``[metrics.*]`` in config.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import click
import psycopg
from rich.markup import escape

from guard import options
from guard.bounds.display import compact, range_text
from guard.bounds.evaluate import ERROR as METRIC_ERROR
from guard.bounds.evaluate import FAILING, evaluate
from guard.bounds.spec import load_metrics
from guard.commands import time_options
from guard.config import Config, ConfigError
from guard.db.session import transaction
from guard.db.status import guard_installed, guarded_tables
from guard.envelope import emit_json
from guard.errors import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, GuardError, cli_errors, db_error_summary
from guard.rollout.blast import BlastRadius
from guard.rollout.inputs import blast_options, command_config, optional_blast
from guard.rollout.stale import stale_writers
from guard.rollout.verdict import ENFORCED, NOT_READY, READY, UNPROTECTED, rollout_rows
from guard.watch.catalog import GUARD_SCHEMA, list_tables
from guard.watch.detect import BurstSettings, scan_table, tables_to_scan
from guard.watch.freshness import ERROR, WARN, inventory
from guard.watch.output import console, hours, iso

SHOWN = 5  # lines of detail per section: the summary must fit one screen


@dataclass
class Section:
    name: str
    exit_code: int
    summary: str
    details: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


@click.command()
@cli_errors
@options.dsn_option()
@options.config_option()
@options.format_option(("table", "json", "html"))
@options.output_option
@options.fail_on_option(
    ["problem"], default="problem", help="Exit with the worst section's code (1 problem, 2 a check failed)."
)
@time_options.statement_timeout_option
@blast_options("A `guard scan --format json` report: adds rollout verdicts and stale tables' writers.")
@click.option("--window", type=time_options.DURATION, default="7d", show_default=True,
              help="Rollout window: violations logged since then block enforce.")  # fmt: skip
def doctor(
    dsn: str,
    config_path: Path | None,
    output_format: str,
    fail_on: str,
    statement_timeout: float,
    scan_report: Path | None,
    repo: Path | None,
    window: float,
) -> None:
    """One-screen health check: guard status, phantom bursts, stale tables (with their writers), rollout
    verdicts and metric bounds (exit code = worst)."""
    cfg = command_config(repo, config_path)
    blast = optional_blast(scan_report, repo, cfg)
    checks: list[tuple[str, Callable[[psycopg.Connection, Config], Section]]] = [
        ("guard", _guard_section),
        ("detect", _detect_section),
        ("freshness", partial(_freshness_section, blast=blast)),
        ("rollout", partial(_rollout_section, blast=blast, window=window)),
        ("bounds", _bounds_section),
    ]
    with transaction(dsn, statement_timeout=statement_timeout) as conn:
        sections = [_run(name, check, conn, cfg) for name, check in checks]
    worst = max(section.exit_code for section in sections)
    if output_format == "json":
        emit_json(
            "doctor",
            {
                "exit_code": worst,
                "sections": {
                    s.name: {"exit_code": s.exit_code, "summary": s.summary, "details": s.details, **s.data}
                    for s in sections
                },
            },
        )
    elif output_format == "html":
        from guard.report.html_watch import doctor_page

        pages = [{"name": s.name, "exit_code": s.exit_code, "summary": s.summary, "details": s.details, **s.data}
                 for s in sections]  # fmt: skip
        click.echo(doctor_page(pages, worst), nl=False)
    else:
        _render(sections, worst)
    raise SystemExit(EXIT_OK if fail_on == options.NEVER and worst == EXIT_FINDINGS else worst)


def _run(
    name: str, check: Callable[[psycopg.Connection, Config], Section], conn: psycopg.Connection, cfg: Config
) -> Section:
    """One check; its failure is reported in its own line (exit 2) instead of hiding the other checks."""
    try:
        with conn.transaction():  # savepoint: a failed query must not abort the remaining checks
            return check(conn, cfg)
    except (GuardError, ConfigError, psycopg.Error) as exc:
        first = db_error_summary(exc)
        return Section(name=name, exit_code=EXIT_ERROR, summary=f"could not run: {first}")


def _guard_section(conn: psycopg.Connection, cfg: Config) -> Section:
    if not guard_installed(conn):
        return Section(
            name="guard",
            exit_code=EXIT_FINDINGS,
            summary="the guard schema is not installed: nothing stops the next phantom (run `guard migrate`)",
        )
    tables = guarded_tables(conn)
    broken = [t for t in tables if t.problems]
    details = [f"{t.table}: {'; '.join(t.problems)}" for t in broken[:SHOWN]]
    open_rows = sum(t.quarantined_rows_open for t in tables)
    summary = f"{len(tables)} table(s) guarded, {len(broken)} with problems, {open_rows:,} row(s) in open quarantine"
    if not tables:
        summary = "guard is installed but no table is guarded yet (see `guard protect`)"
    return Section(
        name="guard",
        exit_code=EXIT_FINDINGS if broken else EXIT_OK,
        summary=summary,
        details=details,
        data={"tables": [t.as_dict() for t in tables]},
    )


def _detect_section(conn: psycopg.Connection, cfg: Config) -> Section:
    settings = BurstSettings.from_config(cfg)
    tables = tables_to_scan(list_tables(conn, cfg.search_path), cfg)
    scans = [scan_table(conn, table, cfg, settings) for table in tables]
    bursts = [burst for scan in scans for burst in scan.open_bursts]
    handled = sum(len(scan.bursts) - len(scan.open_bursts) for scan in scans)
    details = [
        f"{b.table}: {b.remaining_rows:,} rows at {iso(b.window_start)} (burst {b.id}"
        + (f", {b.quarantined_rows:,} already quarantined" if b.quarantined_rows else "")
        + (f", {b.business_column} spans {b.business_span_days:,.0f} days" if b.business_span_days is not None else "")
        + ")"
        for b in bursts[:SHOWN]
    ]
    if len(bursts) > SHOWN:
        details.append(f"... and {len(bursts) - SHOWN} more (guard detect)")
    return Section(
        name="detect",
        exit_code=EXIT_FINDINGS if bursts else EXIT_OK,
        summary=f"{len(bursts)} phantom burst(s) in {len(tables)} table(s) scanned"
        + (f", {handled} handled (fully quarantined)" if handled else ""),
        details=details,
        data={
            "bursts": [
                {
                    "id": b.id,
                    "table": b.table,
                    "rows": b.rows,
                    "remaining_rows": b.remaining_rows,
                    "status": b.status,
                    "window_start": b.window_start,
                }
                for b in bursts
            ],
            "handled_bursts": handled,
        },
    )


def _freshness_section(conn: psycopg.Connection, cfg: Config, blast: BlastRadius | None = None) -> Section:
    schemas = [s for s in cfg.search_path if s != GUARD_SCHEMA]
    results = inventory(conn, list_tables(conn, schemas), cfg)
    stale = [f for f in results if f.status in (WARN, ERROR)]
    errors = sum(f.status == ERROR for f in results)
    details = [f"{f.table}: {f.status}, newest row {hours(f.age_seconds)}h old ({f.column})" for f in stale[:SHOWN]]
    data: dict[str, Any] = {
        "tables": [
            {
                "table": f.table,
                "status": f.status,
                "age_seconds": f.age_seconds,
                "warn_after_seconds": f.warn_after,
                "error_after_seconds": f.error_after,
            }
            for f in results
        ]
    }
    if blast is not None:
        with_writers = stale_writers(results, blast)
        omitting = {s.freshness.table: [w.location for w in s.omitting] for s in with_writers}
        details = [
            line + (f"; backfill re-stamps via {', '.join(omitting[f.table])}" if omitting.get(f.table) else "")
            for line, f in zip(details, stale[:SHOWN], strict=True)
        ]
        data["stale_writers"] = {s.freshness.table: [w.location for w in s.writers] for s in with_writers}
        data["writers_omitting_timestamp"] = omitting
    return Section(
        name="freshness",
        exit_code=EXIT_FINDINGS if errors else EXIT_OK,
        summary=f"{len(stale)} of {len(results)} table(s) stale, {errors} at error",
        details=details,
        data=data,
    )


def _rollout_section(conn: psycopg.Connection, cfg: Config, blast: BlastRadius | None, window: float) -> Section:
    """Rollout verdicts; FAIL only when a guarded table logged violations (audit is letting phantoms in)."""
    if blast is None:
        return Section(name="rollout", exit_code=EXIT_OK, summary="not checked: give --scan REPORT.json or --repo PATH")
    if not guard_installed(conn):
        return Section(name="rollout", exit_code=EXIT_OK, summary="not checked: the guard schema is not installed")
    now = conn.execute("SELECT now()").fetchone()[0]  # type: ignore[index]
    rows = rollout_rows(conn, blast, cfg, now - dt.timedelta(seconds=window), bursts=False)
    ready = [r.table for r in rows if r.verdict == READY]
    enforced = sum(r.verdict == ENFORCED for r in rows)
    blocked = [r for r in rows if r.verdict == NOT_READY]
    unguarded = [r.table for r in rows if r.verdict == UNPROTECTED]
    leaking = [r for r in rows if r.activity.violations]
    details = [f"{r.table} ({r.mode}): {r.verdict}: {'; '.join(r.blockers)}" for r in blocked[:SHOWN]]
    if len(blocked) > SHOWN:
        details.append(f"... and {len(blocked) - SHOWN} more (guard rollout)")
    if unguarded:
        details.append(f"not protected: {', '.join(unguarded)} (guard protect --from-scan)")
    if ready:
        details.insert(0, f"ready for enforce: {', '.join(ready)} (guard rollout --apply-ready)")
    return Section(
        name="rollout",
        exit_code=EXIT_FINDINGS if leaking else EXIT_OK,
        summary=f"{len(ready)} ready for enforce, {enforced} enforced, {len(blocked)} not ready, "
        f"{len(unguarded)} not protected; "
        f"{len(leaking)} table(s) logged violations in the window",
        details=details,
        data={
            "tables": [{"table": r.table, "mode": r.mode, "verdict": r.verdict, "blockers": r.blockers} for r in rows]
        },
    )


def _bounds_section(conn: psycopg.Connection, cfg: Config) -> Section:
    if not cfg.metrics:
        return Section(name="bounds", exit_code=EXIT_OK, summary="no metrics declared ([metrics.NAME] in config)")
    now = conn.execute("SELECT now()").fetchone()[0]  # type: ignore[index]
    results = [evaluate(conn, metric, now) for metric in load_metrics(cfg.metrics, cfg.source)]
    failing = [r for r in results if r.status in FAILING]
    errors = [r for r in results if r.status == METRIC_ERROR]
    details = [
        f"{r.metric.name}: {compact(r.reading.value if r.reading else None, r.metric.unit)} "
        f"not in {range_text(r)} ({r.status})"
        for r in failing[:SHOWN]
    ] + [f"{r.metric.name}: could not evaluate: {r.message}" for r in errors[:SHOWN]]
    return Section(
        name="bounds",
        exit_code=EXIT_ERROR if errors else EXIT_FINDINGS if failing else EXIT_OK,
        summary=f"{len(failing)} of {len(results)} metric(s) out of bounds"
        + (f", {len(errors)} could not be evaluated" if errors else ""),
        details=details,
        data={
            "metrics": [
                {"metric": r.metric.name, "status": r.status, "value": r.reading.value if r.reading else None}
                for r in results
            ]
        },
    )


_LABEL = {EXIT_OK: "[green]ok[/green]  ", EXIT_FINDINGS: "[bold red]FAIL[/bold red]", EXIT_ERROR: "[red]ERR[/red] "}


def _render(sections: list[Section], worst: int) -> None:
    out = console()
    for section in sections:
        out.print(f"{_LABEL[section.exit_code]}  {section.name:<9} {escape(section.summary)}")
        for line in section.details:
            out.print(f"            - {escape(line)}")
    out.print(f"exit {worst}; details: guard status, guard detect, guard freshness, guard rollout, guard bounds")
