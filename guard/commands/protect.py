"""``guard protect --table T``: write a reviewable migration that guards a table (nothing touches the database).

It reads what it wrote before (the revisions in ``migrations_dir``) and, with ``--dsn``, the database's
``guard.protected_tables``: protecting a table that is already guarded writes a mode change, never a second
``guard_table`` that would fail at deploy time. Names are checked before anything is written
(:mod:`guard.db.target`).
"""

from __future__ import annotations

from pathlib import Path

import click

from guard import options
from guard.config import MODES, Config
from guard.db.history import planned_modes
from guard.db.operations import GuardSettings
from guard.db.revision import render_guard_table, render_set_mode, write_revision
from guard.db.target import ProtectTarget, require_columns, resolve_target, unchecked
from guard.errors import GuardError, cli_errors
from guard.rollout.blast import blast_radius
from guard.rollout.inputs import blast_options, command_config
from guard.rollout.plan import SKIP, Step, protection_steps, render_steps, summary_message


def _interval(seconds: float) -> str:
    """A PostgreSQL interval a reviewer can read: 15552000.0 -> '180 days'."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}" if count == 1 else f"{count} {unit}s"
    return f"{int(seconds) if seconds.is_integer() else seconds} seconds"


@click.command()
@click.argument("table_argument", metavar="[TABLE]", required=False)
@options.table_option(help="Table to guard (schema.table; a bare name is resolved through search_path).")
@click.option("--mode", type=click.Choice(MODES), help="Guard mode (default: the table's config, else audit).")
@click.option(
    "--from-mode", type=click.Choice(MODES), help="Write a mode change from this mode instead of a new guard."
)
@click.option("--column", help="Timestamp column to protect (default: config timestamp_column).")
@click.option("--business-column", help="Column with the business date; enables the burst guard.")
@click.option("--no-ingested-column", is_flag=True, help="Do not add the ingestion-time column.")
@options.config_option()
@click.option("--migrations-dir", type=click.Path(file_okay=False), help="Where to write (default: config).")
@blast_options(
    "Guard every table with findings in this `guard scan --format json` report (one revision).", "--from-scan"
)
@options.dsn_option(required=False, help="Check the table and columns in this database and read its guard state.")
@click.option("--force", is_flag=True, help="Write the revision even though the table is not in the project's catalog.")
@cli_errors
def protect(
    table_argument: str | None,
    table: str | None,
    mode: str | None,
    from_mode: str | None,
    column: str | None,
    business_column: str | None,
    no_ingested_column: bool,
    config_path: Path | None,
    migrations_dir: str | None,
    scan_report: Path | None,
    repo: Path | None,
    dsn: str | None,
    force: bool,
) -> None:
    """Write a migration that guards --table (schema.table); apply it with `guard migrate`.

    The positional TABLE is the older spelling of --table and still accepted. With --from-scan REPORT.json (or
    --repo PATH) instead of a table: one migration guarding every table the scan found writers omitting the
    timestamp on; tables already guarded by a revision change mode only with --mode.
    """
    if table_argument and table and table_argument != table:
        raise click.UsageError(f"TABLE {table_argument!r} and --table {table!r} disagree: give one")
    table = table or table_argument
    if scan_report is not None or repo is not None:
        if table is not None or from_mode is not None or column or business_column:
            raise click.UsageError("--from-scan/--repo take the tables from the scan: drop TABLE/--table, --from-mode, "
                                   "--column and --business-column (set them per table in config)")  # fmt: skip
        config = command_config(repo, config_path)
        _protect_from_scan(config, scan_report, repo, mode, no_ingested_column, migrations_dir, dsn)
        return
    if not table:
        raise click.UsageError(
            "name the table to guard (--table schema.table), or use --from-scan REPORT.json / --repo PATH"
        )
    config = options.database_config(config_path)
    target = unchecked(table, config) if force and not dsn else resolve_target(table, config, dsn)
    if target.resolution:
        click.echo(f"table: {target.resolution}")
    name = target.table
    table_config = config.table(name)
    chosen_mode = mode or (table_config.mode if table_config and table_config.mode else "audit")
    directory = Path(migrations_dir) if migrations_dir else config.migrations_path()
    current = _current_mode(name, directory, target)
    if from_mode is not None and current is not None and from_mode != current:
        raise GuardError(f"--from-mode {from_mode}: {name} is guarded in {current} mode ({_where(name, directory)})")
    current = current or from_mode
    if current is not None:
        if column or business_column:
            raise GuardError(
                f"{name} is already guarded ({current} mode, {_where(name, directory)}); --column and "
                "--business-column only apply to a new guard (unguard it first to change them)"
            )
        if current == chosen_mode:
            click.echo(f"{name} is already guarded in {chosen_mode} mode ({_where(name, directory)}): nothing to write")
            return
        click.echo(f"{name} is guarded in {current} mode: writing a mode change to {chosen_mode}")
        message, upgrade, downgrade = render_set_mode(name, chosen_mode, current)
    else:
        settings = _settings(config, name, chosen_mode, column, business_column, no_ingested_column)
        require_columns(target, {"--column": settings.column, "--business-column": settings.business_column})
        message, upgrade, downgrade = render_guard_table(name, settings)
    path = write_revision(directory, message, upgrade, downgrade)
    click.echo(f"wrote {path}")
    click.echo("review it, commit it, then apply it: guard migrate --dsn DSN")


def _current_mode(table: str, directory: Path, target: ProtectTarget) -> str | None:
    """The table's mode once the committed revisions are applied, else the database's (``--dsn``), else None."""
    return planned_modes(directory).get(table) or target.database_mode


def _where(table: str, directory: Path) -> str:
    return f"by a revision in {directory}" if table in planned_modes(directory) else "in the database"


def _protect_from_scan(
    config: Config,
    scan_report: Path | None,
    repo: Path | None,
    mode: str | None,
    no_ingested: bool,
    migrations_dir: str | None,
    dsn: str | None,
) -> None:
    blast = blast_radius(scan_report, repo, config)
    tables = blast.tables_with_findings()
    if not tables:
        click.echo("the scan has no finding on a guarded table: nothing to protect")
        return
    directory = Path(migrations_dir) if migrations_dir else config.migrations_path()
    current, refused = dict(planned_modes(directory)), {}
    if dsn:  # the database's guard state counts too, and a table it lacks is refused before a revision names it
        for table in tables:
            try:
                target = resolve_target(table, config, dsn)
                require_columns(target, _columns(_settings(config, table, mode or "audit", None, None, no_ingested)))
            except GuardError as exc:
                refused[table] = f"refused: {exc}"
                continue
            if target.database_mode is not None:
                current.setdefault(table, target.database_mode)
    steps = protection_steps(tables, current, mode or "audit", explicit_mode=mode is not None)
    steps = [Step(s.table, SKIP, s.mode, s.from_mode, refused[s.table]) if s.table in refused else s for s in steps]
    for step in steps:
        writers = len({u.location for u in blast.unfixed_on(step.table)})
        detail = step.reason if step.action == SKIP else (
            f"{step.from_mode} -> {step.mode}" if step.from_mode else f"guard in {step.mode} mode"
        )  # fmt: skip
        click.echo(f"  {step.table:<32} {writers} unfixed writer(s)  {detail}")
    if all(step.action == SKIP for step in steps):
        click.echo(
            "every table with findings is already guarded"
            + (" or refused" if refused else "")
            + ": no revision written"
        )
        return
    upgrade, downgrade = render_steps(
        steps, lambda name, chosen: _settings(config, name, chosen, None, None, no_ingested)
    )
    path = write_revision(directory, summary_message(steps, "guard tables from the scan"), upgrade, downgrade)
    click.echo(f"wrote {path}")
    click.echo("review it, commit it, then apply it: guard migrate --dsn DSN")


def _columns(settings: GuardSettings) -> dict[str, str | None]:
    """The columns a guard names, by the option or config key that chose them (for ``require_columns``)."""
    return {"timestamp column": settings.column, "business_column": settings.business_column}


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
