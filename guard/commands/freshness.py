"""``guard freshness``: the stale-table inventory, measured in the database (exit 1 at --fail-on)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from guard import options
from guard.commands import time_options
from guard.config import Config
from guard.db.session import transaction
from guard.envelope import emit_json
from guard.errors import EXIT_FINDINGS, EXIT_OK, GuardError, cli_errors
from guard.rollout.inputs import blast_options, command_config, optional_blast
from guard.rollout.stale import StaleTable, stale_writers, writer_note
from guard.watch.catalog import GUARD_SCHEMA, list_tables, missing_schemas
from guard.watch.freshness import LEVELS, STATUS_LEVEL, Freshness, inventory, worst_level
from guard.watch.output import console, hours, short_time

_STYLE = {"ok": "green", "warn": "yellow", "error": "bold red", "timed_out": "yellow"}
_LABEL = {"no_timestamp_column": "no timestamp column", "timed_out": "timed out"}


@click.command()
@cli_errors
@options.dsn_option()
@click.option("--schema", "schemas", multiple=True, help="Schema to inspect (repeatable; default: config search_path).")
@options.fail_on_option(sorted(LEVELS), default="error", help="Exit 1 when any table is at this level or worse.")
@options.config_option()
@options.format_option(("table", "json", "html"))
@options.output_option
@time_options.statement_timeout_option
@blast_options("A `guard scan --format json` report: name each stale table's writers.")
def freshness(
    dsn: str,
    schemas: tuple[str, ...],
    fail_on: str,
    config_path: Path | None,
    output_format: str,
    statement_timeout: float,
    scan_report: Path | None,
    repo: Path | None,
) -> None:
    """Age of every table's newest row, by its best timestamp column, with warn/error thresholds.

    With --scan REPORT.json (or --repo PATH), each stale table also lists its writers in code, marking those
    that omit the timestamp: the backfill that fixes the staleness would stamp one minute on the backlog.
    """
    cfg = command_config(repo, config_path)
    blast = optional_blast(scan_report, repo, cfg)
    wanted = [s.lower() for s in schemas] or [s for s in cfg.search_path if s != GUARD_SCHEMA]
    with transaction(dsn, statement_timeout=statement_timeout) as conn:
        unknown = missing_schemas(conn, wanted) if schemas else []
        if unknown:
            raise GuardError(f"no schema {', '.join(unknown)} in this database; check --schema (names are case-folded)")
        results = inventory(conn, list_tables(conn, wanted), cfg)
    stale = stale_writers(results, blast) if blast is not None else None
    if output_format == "json":
        payload = freshness_payload(results, wanted, fail_on)
        if stale is not None:
            payload["stale_writers"] = stale_writers_payload(stale, cfg)
        emit_json("freshness", payload)
    elif output_format == "html":
        from guard.report.html_watch import freshness_page

        click.echo(freshness_page(results, wanted, fail_on), nl=False)
    else:
        _render(results, wanted)
        if stale is not None:
            render_stale_writers(stale, cfg)
    failing = fail_on != options.NEVER and worst_level(results) >= LEVELS[fail_on]
    raise SystemExit(EXIT_FINDINGS if failing else EXIT_OK)


def freshness_payload(results: list[Freshness], schemas: list[str], fail_on: str) -> dict[str, Any]:
    counts: dict[str, int] = {status: 0 for status in STATUS_LEVEL}
    for result in results:
        counts[result.status] += 1
    return {
        "schemas": schemas,
        "fail_on": fail_on,
        "counts": counts,
        "tables": [
            {
                "table": f.table,
                "estimated_rows": f.estimated_rows,
                "column": f.column,
                "indexed": f.indexed,
                "newest": f.newest,
                "age_seconds": None if f.age_seconds is None else round(f.age_seconds, 3),
                "age_hours": None if f.age_seconds is None else round(f.age_seconds / 3600, 1),
                "warn_after_seconds": f.warn_after,
                "error_after_seconds": f.error_after,
                "status": f.status,
                "note": f.note,
                "why": f.why,
            }
            for f in results
        ],
    }


def _render(results: list[Freshness], schemas: list[str]) -> None:
    from rich.table import Table as RichTable

    out = console()
    if not results:
        out.print(f"No tables in schemas {', '.join(schemas)}.")
        return
    table = RichTable(title=f"Freshness inventory ({', '.join(schemas)}), stalest first", title_justify="left")
    for header, justify in (("table", "left"), ("rows (est.)", "right"), ("age (h)", "right"), ("status", "left"),
                            ("column", "left"), ("newest", "left"), ("warn/error (h)", "right")):  # fmt: skip
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    with_why = any(f.why for f in results)
    if with_why:
        table.add_column("why it matters")
    for f in results:
        style = _STYLE.get(f.status, "")
        label = _LABEL.get(f.status, f.status)
        table.add_row(
            f.table,
            "?" if f.estimated_rows is None else f"{f.estimated_rows:,}",
            hours(f.age_seconds),
            f"[{style}]{label}[/{style}]" if style else label,
            f.column or "-",
            "-" if f.newest is None else short_time(f.newest),
            f"{f.warn_after / 3600:g}/{f.error_after / 3600:g}",
            *([f.why] if with_why else []),
        )
    out.print(table)
    for f in results:
        if f.note:
            out.print(f"[yellow]note:[/yellow] {f.table}: {f.note}", soft_wrap=True)
    stale = [f for f in results if f.status in ("warn", "error")]
    out.print(f"{len(stale)} of {len(results)} table(s) stale ({sum(f.status == 'error' for f in results)} at error).")


def stale_writers_payload(stale: list[StaleTable], cfg: Config) -> list[dict[str, Any]]:
    return [
        {
            "table": s.freshness.table,
            "status": s.freshness.status,
            "age_hours": None if s.freshness.age_seconds is None else round(s.freshness.age_seconds / 3600, 1),
            "writers": [
                {
                    "location": w.location,
                    "kind": w.kind,
                    "sets_timestamp": w.sets_timestamp,
                    "note": writer_note(w, cfg.timestamp_column_for(w.table)),
                }
                for w in s.writers
            ],
            "writers_omitting_timestamp": [w.location for w in s.omitting],
        }
        for s in stale
    ]


def render_stale_writers(stale: list[StaleTable], cfg: Config) -> None:
    """Under the inventory: each stale table's writers, the ones a backfill would turn into a phantom first."""
    out = console()
    if not stale:
        return
    out.print("\nStale tables and their writers (from the scan):")
    for s in stale:
        f = s.freshness
        count = f"{len(s.writers)} writer(s) in code" if s.writers else "no writer in the scanned code"
        out.print(f"  {f.table} is {hours(f.age_seconds)} h stale ({f.status}); {count}", soft_wrap=True)
        for writer in sorted(s.writers, key=lambda w: (w.sets_timestamp is not False, w.location)):
            note = writer_note(writer, cfg.timestamp_column_for(writer.table))
            out.print(f"    {writer.location:<40} {note}", soft_wrap=True, markup=False)
