"""``guard protect TABLE``: write a reviewable migration that guards a table (nothing touches the database)."""

from __future__ import annotations

from pathlib import Path

import click

from guard.config import Config, load_config, normalize_table_name
from guard.db.operations import MODES, GuardSettings
from guard.db.revision import render_guard_table, render_set_mode, write_revision
from guard.errors import GuardError, cli_errors


def _interval(seconds: float) -> str:
    """A PostgreSQL interval a reviewer can read: 15552000.0 -> '180 days'."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}" if count == 1 else f"{count} {unit}s"
    return f"{int(seconds) if seconds.is_integer() else seconds} seconds"


@click.command()
@click.argument("table")
@click.option("--mode", type=click.Choice(MODES), help="Guard mode (default: the table's config, else audit).")
@click.option(
    "--from-mode", type=click.Choice(MODES), help="Write a mode change from this mode instead of a new guard."
)
@click.option("--column", help="Timestamp column to protect (default: config timestamp_column).")
@click.option("--business-column", help="Column with the business date; enables the burst guard.")
@click.option("--no-ingested-column", is_flag=True, help="Do not add the ingestion-time column.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="guard.toml or pyproject.toml.")
@click.option("--migrations-dir", type=click.Path(file_okay=False), help="Where to write (default: config).")
@cli_errors
def protect(
    table: str,
    mode: str | None,
    from_mode: str | None,
    column: str | None,
    business_column: str | None,
    no_ingested_column: bool,
    config_path: str | None,
    migrations_dir: str | None,
) -> None:
    """Write a migration that guards TABLE (schema.table); apply it with `guard migrate`."""
    config = load_config(Path.cwd(), config_path)
    name = normalize_table_name(table, config.search_path[0])
    table_config = config.table(name)
    chosen_mode = mode or (table_config.mode if table_config and table_config.mode else "audit")
    directory = Path(migrations_dir or config.migrations_dir)
    if from_mode is not None:
        if from_mode == chosen_mode:
            raise GuardError(f"--from-mode and --mode are both {chosen_mode}; nothing to change")
        message, upgrade, downgrade = render_set_mode(name, chosen_mode, from_mode)
    else:
        settings = _settings(config, name, chosen_mode, column, business_column, no_ingested_column)
        message, upgrade, downgrade = render_guard_table(name, settings)
    path = write_revision(directory, message, upgrade, downgrade)
    click.echo(f"wrote {path}")
    click.echo("review it, commit it, then apply it: guard migrate --dsn DSN")


def _settings(
    config: Config, table: str, mode: str, column: str | None, business_column: str | None, no_ingested: bool
) -> GuardSettings:
    table_config = config.table(table)
    return GuardSettings(
        column=(column or config.timestamp_column_for(table)).lower(),
        # folded like --column and like the config folds it, so --business-column ScheduledAt means scheduled_at
        business_column=(business_column.lower() if business_column else None)
        or (table_config.business_column if table_config else None),
        mode=mode,
        min_rows=config.burst_min_rows,
        window=_interval(config.burst_window),
        min_span=_interval(config.burst_min_span),
        ingested_column=None if no_ingested else config.ingested_column,
    )
