"""``guard doctor``: guard status, burst detection and freshness on one screen; exit code = the worst."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import psycopg

from guard.config import Config
from guard.errors import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, GuardError, cli_errors, db_error_summary
from guard.watch import options
from guard.watch.catalog import GUARD_SCHEMA, list_tables
from guard.watch.detect import BurstSettings, scan_table, tables_to_scan
from guard.watch.freshness import ERROR, WARN, inventory
from guard.watch.output import console, emit_json, hours, iso
from guard.watch.session import transaction

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
@options.dsn_option
@options.config_option
@options.format_option
@options.statement_timeout_option
def doctor(dsn: str, config_path: Path | None, output_format: str, statement_timeout: float) -> None:
    """One-screen health check: guard status, phantom bursts and stale tables (exit code = worst)."""
    cfg = options.load(config_path)
    with transaction(dsn, statement_timeout=statement_timeout) as conn:
        sections = [_run(name, check, conn, cfg) for name, check in _CHECKS]
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
    else:
        _render(sections, worst)
    raise SystemExit(worst)


def _run(
    name: str, check: Callable[[psycopg.Connection, Config], Section], conn: psycopg.Connection, cfg: Config
) -> Section:
    """One check; its failure is reported in its own line (exit 2) instead of hiding the other checks."""
    try:
        with conn.transaction():  # savepoint: a failed query must not abort the remaining checks
            return check(conn, cfg)
    except (GuardError, psycopg.Error) as exc:
        first = db_error_summary(exc)
        return Section(name=name, exit_code=EXIT_ERROR, summary=f"could not run: {first}")


def _guard_section(conn: psycopg.Connection, cfg: Config) -> Section:
    from guard.db.status import guard_installed, guarded_tables

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
    bursts = [burst for scan in scans for burst in scan.bursts]
    details = [
        f"{b.table}: {b.rows:,} rows at {iso(b.window_start)} (burst {b.id}"
        + (f", {b.business_column} spans {b.business_span_days:,.0f} days" if b.business_span_days is not None else "")
        + ")"
        for b in bursts[:SHOWN]
    ]
    if len(bursts) > SHOWN:
        details.append(f"... and {len(bursts) - SHOWN} more (guard detect)")
    return Section(
        name="detect",
        exit_code=EXIT_FINDINGS if bursts else EXIT_OK,
        summary=f"{len(bursts)} phantom burst(s) in {len(tables)} table(s) scanned",
        details=details,
        data={
            "bursts": [{"id": b.id, "table": b.table, "rows": b.rows, "window_start": b.window_start} for b in bursts]
        },
    )


def _freshness_section(conn: psycopg.Connection, cfg: Config) -> Section:
    schemas = [s for s in cfg.search_path if s != GUARD_SCHEMA]
    results = inventory(conn, list_tables(conn, schemas), cfg)
    stale = [f for f in results if f.status in (WARN, ERROR)]
    errors = sum(f.status == ERROR for f in results)
    details = [f"{f.table}: {f.status}, newest row {hours(f.age_seconds)}h old ({f.column})" for f in stale[:SHOWN]]
    return Section(
        name="freshness",
        exit_code=EXIT_FINDINGS if errors else EXIT_OK,
        summary=f"{len(stale)} of {len(results)} table(s) stale, {errors} at error",
        details=details,
        data={"tables": [{"table": f.table, "status": f.status, "age_seconds": f.age_seconds} for f in results]},
    )


_CHECKS: list[tuple[str, Callable[[psycopg.Connection, Config], Section]]] = [
    ("guard", _guard_section),
    ("detect", _detect_section),
    ("freshness", _freshness_section),
]

_LABEL = {EXIT_OK: "[green]ok[/green]  ", EXIT_FINDINGS: "[bold red]FAIL[/bold red]", EXIT_ERROR: "[red]ERR[/red] "}


def _render(sections: list[Section], worst: int) -> None:
    out = console()
    for section in sections:
        out.print(f"{_LABEL[section.exit_code]}  {section.name:<9} {section.summary}")
        for line in section.details:
            out.print(f"            - {line}")
    out.print(f"exit {worst}; details: guard status, guard detect, guard freshness")
