"""``guard status``: every guarded table, its mode, and what the guard caught."""

from __future__ import annotations

import json

import click

from guard.db.status import GuardedTable
from guard.errors import EXIT_FINDINGS, GuardError, cli_errors


@click.command()
@click.option("--dsn", envvar="GUARD_DSN", help="Database to inspect (or GUARD_DSN).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@cli_errors
def status(dsn: str | None, output_format: str) -> None:
    """Show guarded tables, modes, violation and quarantine counts; exit 1 if a guard is broken."""
    from guard.db.connect import connect
    from guard.db.status import guarded_tables

    if not dsn:
        raise GuardError("no database given: pass --dsn DSN or set GUARD_DSN")
    with connect(dsn, autocommit=True, application_name="guard status") as conn:
        tables = guarded_tables(conn)
    if output_format == "json":
        click.echo(json.dumps({"tables": [t.as_dict() for t in tables]}, indent=2))
    else:
        _print_table(tables)
    if any(t.problems for t in tables):
        raise SystemExit(EXIT_FINDINGS)


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
