"""``guard quarantine`` (dry run by default, ``--apply`` to record) and ``guard release`` (undo a batch)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from guard import options
from guard.commands import time_options
from guard.db.session import session, transaction_on
from guard.envelope import emit_json
from guard.errors import EXIT_OK, cli_errors
from guard.watch.catalog import resolve_table
from guard.watch.output import console, display, short_time
from guard.watch.quarantine import (
    Applied,
    Preview,
    Released,
    Selection,
    apply,
    burst_selection,
    clean_view_name,
    detect_file_selection,
    list_batches,
    preview,
    sample_columns,
    where_selection,
)
from guard.watch.quarantine import release as release_batch


@click.command()
@cli_errors
@options.dsn_option()
@options.table_option(required=True, help="Table whose rows to quarantine (schema.table or a search_path name).")
@click.option("--burst", default=None, help="A burst ID printed by `guard detect`.")
@click.option("--where", "predicate", default=None, help="A boolean SQL expression over the table's columns.")
@click.option("--from-detect", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A `guard detect --format json` report: quarantine its bursts in --table.")  # fmt: skip
@click.option("--reason", default=None, help="Why (stored with every row of the batch).")
@click.option("--apply", "do_apply", is_flag=True, help="Record the rows (default: dry run, nothing written).")
@click.option("--dry-run", is_flag=True, help="Show the count and a sample, write nothing (the default).")
@click.option(
    "--window", type=time_options.DURATION, default=None, help="Burst window used by detect (config burst.window)."
)
@options.config_option()
@options.format_option()
@options.output_option
@time_options.statement_timeout_option
def quarantine(
    dsn: str,
    table: str,
    burst: str | None,
    predicate: str | None,
    from_detect: Path | None,
    reason: str | None,
    do_apply: bool,
    dry_run: bool,
    window: float | None,
    config_path: Path | None,
    output_format: str,
    statement_timeout: float,
) -> None:
    """Quarantine rows reversibly: keys go to guard.quarantined_rows, <table>_clean excludes them.

    Nothing is ever deleted. Without --apply this is a dry run: a count and a sample.
    """
    chosen = [
        name for name, value in (("--burst", burst), ("--where", predicate), ("--from-detect", from_detect)) if value
    ]
    if do_apply and dry_run:
        raise click.UsageError("--apply and --dry-run contradict each other: pick one")
    if len(chosen) != 1:
        raise click.UsageError("give exactly one of --burst, --where or --from-detect")
    cfg = options.database_config(config_path)
    with session(dsn) as conn:
        # Everything the user's input reaches is read in a READ ONLY transaction (apply() keeps it so).
        with transaction_on(conn, read_only=True, statement_timeout=statement_timeout):
            target = resolve_table(conn, table, cfg.search_path)
            clean_view_name(target)
            if burst:
                selection = burst_selection(conn, target, cfg, burst, cfg.burst_window if window is None else window)
            elif predicate is not None:
                selection = where_selection(conn, target, predicate)
            else:
                assert from_detect is not None
                selection = detect_file_selection(from_detect, target)
            if not do_apply:
                dry = preview(conn, target, selection, sample_columns(target, cfg))
        if do_apply:
            applied = apply(conn, target, selection, reason or selection.description, statement_timeout)
    if do_apply:
        _report_applied(applied, output_format)
    else:
        _report_preview(dry, selection, output_format)
    raise SystemExit(EXIT_OK)


def _report_preview(dry: Preview, selection: Selection, output_format: str) -> None:
    if output_format == "json":
        emit_json(
            "quarantine",
            {
                "mode": "dry_run",
                "table": dry.table,
                "selection": dry.selection,
                "matching_rows": dry.matching_rows,
                "already_quarantined": dry.already_quarantined,
                "expected_rows": selection.expected_rows,
                "sample": [dict(zip(dry.sample_columns, row, strict=True)) for row in dry.sample],
            },
        )
        return
    from rich.table import Table as RichTable

    out = console()
    out.print(f"Dry run: {dry.matching_rows:,} row(s) of {dry.table} match {dry.selection}.")
    if selection.expected_rows is not None and selection.expected_rows != dry.matching_rows:
        out.print(
            f"[yellow]warning:[/yellow] the detect report counted {selection.expected_rows:,} rows; "
            "the data changed since, re-run guard detect"
        )
    if dry.already_quarantined is None:
        out.print("[yellow]note:[/yellow] the guard schema is not installed; run `guard migrate` before --apply.")
    elif dry.already_quarantined:
        out.print(f"{dry.already_quarantined:,} of them are already quarantined and would be skipped.")
    if dry.sample:
        sample = RichTable(title=f"sample ({len(dry.sample)} of {dry.matching_rows:,})", title_justify="left")
        for column in dry.sample_columns:
            sample.add_column(column)
        for row in dry.sample:
            sample.add_row(*(display(value) for value in row))
        out.print(sample)
    out.print(
        "Nothing was written. Add --apply to record these rows in guard.quarantined_rows and refresh the clean view."
    )


def _report_applied(applied: Applied, output_format: str) -> None:
    if output_format == "json":
        emit_json(
            "quarantine",
            {
                "mode": "apply",
                "table": applied.table,
                "selection": applied.selection,
                "batch_id": applied.batch_id,
                "reason": applied.reason,
                "matching_rows": applied.matching_rows,
                "recorded_rows": applied.recorded_rows,
                "already_quarantined": applied.matching_rows - applied.recorded_rows,
                "clean_view": applied.clean_view,
            },
        )
        return
    out = console()
    out.print(f"Quarantined {applied.recorded_rows:,} row(s) of {applied.table} as batch {applied.batch_id}.")
    skipped = applied.matching_rows - applied.recorded_rows
    if skipped:
        out.print(f"{skipped:,} matching row(s) were already quarantined by an earlier batch.")
    out.print(f"Clean view: {applied.clean_view} ({applied.table} minus quarantined rows). No row was deleted.")
    out.print(f"Undo with: guard release --batch {applied.batch_id}")


@click.command()
@cli_errors
@options.dsn_option()
@click.option("--batch", "batch_id", default=None, help="The batch ID printed by `guard quarantine --apply`.")
@click.option("--list", "list_only", is_flag=True, help="List quarantine batches instead of releasing one.")
@options.config_option()
@options.format_option()
@options.output_option
def release(dsn: str, batch_id: str | None, list_only: bool, config_path: Path | None, output_format: str) -> None:
    """Release a quarantine batch: its rows reappear in the clean view (the record is kept)."""
    options.database_config(config_path)  # a bad --config fails here, as in every command
    if list_only == bool(batch_id):
        raise click.UsageError("give either --batch ID or --list")
    with session(dsn) as conn, transaction_on(conn, read_only=list_only, snapshot=list_only):
        if list_only:
            batches = list_batches(conn)
        else:
            assert batch_id is not None
            released = release_batch(conn, batch_id)
    if list_only:
        _report_batches(batches, output_format)
    else:
        _report_released(released, output_format)
    raise SystemExit(EXIT_OK)


def _report_released(released: Released, output_format: str) -> None:
    if output_format == "json":
        emit_json(
            "release",
            {
                "batch_id": released.batch_id,
                "tables": list(released.tables),
                "released_rows": released.released_rows,
                "already_released": released.already_released,
            },
        )
        return
    out = console()
    if released.released_rows == 0:
        out.print(f"Batch {released.batch_id} was already released; nothing changed.")
        return
    out.print(
        f"Released batch {released.batch_id}: {released.released_rows:,} row(s) of "
        f"{', '.join(released.tables)} are back in the clean view."
    )


def _report_batches(batches: list[Any], output_format: str) -> None:
    if output_format == "json":
        emit_json(
            "release",
            {
                "batches": [
                    {
                        "batch_id": b.batch_id,
                        "table": b.table,
                        "rows": b.rows,
                        "reason": b.reason,
                        "quarantined_by": b.quarantined_by,
                        "quarantined_at": b.quarantined_at,
                        "released_at": b.released_at,
                    }
                    for b in batches
                ]
            },
        )
        return
    from rich.table import Table as RichTable

    out = console()
    if not batches:
        out.print("No quarantine batches.")
        return
    table = RichTable(title="Quarantine batches", title_justify="left")
    for header in ("batch", "table", "rows", "reason", "by", "at", "released"):
        table.add_column(header, justify="right" if header == "rows" else "left")
    for b in batches:
        table.add_row(
            b.batch_id, b.table, f"{b.rows:,}", b.reason, b.quarantined_by, short_time(b.quarantined_at),
            short_time(b.released_at) if b.released_at else "-",
        )  # fmt: skip
    out.print(table)
