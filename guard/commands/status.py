"""``guard status``: every guarded table, its mode, and what the guard caught."""

from __future__ import annotations

from pathlib import Path

import click

from guard import options
from guard.db.status import GuardedTable
from guard.envelope import emit_json
from guard.errors import EXIT_FINDINGS, EXIT_OK, cli_errors


@click.command()
@cli_errors
@options.dsn_option(help="Database to inspect.")
@options.config_option()
@options.format_option()
@options.output_option
@options.fail_on_option(["problem"], default="problem", help="Exit 1 when a guard is broken.")
def status(dsn: str, config_path: Path | None, output_format: str, fail_on: str) -> None:
    """Show guarded tables, modes, violation and quarantine counts; exit 1 if a guard is broken."""
    from guard.db.connect import connect
    from guard.db.status import guarded_tables

    options.database_config(config_path)  # a bad --config fails here, as in every command
    with connect(dsn, autocommit=True, application_name="guard status") as conn:
        tables = guarded_tables(conn)
    if output_format == "json":
        emit_json("status", {"tables": [t.as_dict() for t in tables]})
    else:
        _print_table(tables)
    broken = any(t.problems for t in tables)
    raise SystemExit(EXIT_FINDINGS if broken and fail_on != options.NEVER else EXIT_OK)


def _print_table(tables: list[GuardedTable]) -> None:
    from rich.console import Console
    from rich.table import Table

    if not tables:
        click.echo("guard is installed; no table is guarded yet (see `guard protect`)")
        return
    view = Table("table", "mode", "column", "burst guard on", "violations", "bypasses", "quarantined", "problems")
    for t in tables:
        view.add_row(
            t.table, t.mode, t.timestamp_column, t.business_column or "-", str(t.violations), str(t.bypasses),
            str(t.quarantined), "; ".join(t.problems) or "ok",
        )  # fmt: skip
    Console(width=160).print(view)
