"""``guard migrate``: apply pending guard revisions (or print their SQL, or downgrade)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import click

from guard import options
from guard.commands import time_options
from guard.db.locks import PROGRESS, LockPolicy
from guard.errors import EXIT_FINDINGS, EXIT_INTERRUPTED, EXIT_OK, GuardError, cli_errors


@click.command()
@options.dsn_option(required=False, help="Database to migrate (with --sql: print from its current revision).")
@click.option("--sql", "offline", is_flag=True, help="Print the SQL of the upgrade instead of running it.")
@click.option("--downgrade", "downgrade_to", metavar="REV", help="Revert down to REV (base removes guard).")
@click.option("--revision", default="heads", show_default=True, help="Upgrade target.")
@options.config_option()
@click.option("--migrations-dir", type=click.Path(file_okay=False), help="Project revisions (default: config).")
@options.quiet_option()
@click.option(
    "--lock-timeout", type=time_options.DURATION, default="5s", show_default=True, help="Wait per try for a table lock."
)
@click.option("--lock-tries", default=5, show_default=True, type=click.IntRange(1, 100), help="Tries per lock.")
@cli_errors
def migrate(
    dsn: str | None,
    offline: bool,
    downgrade_to: str | None,
    revision: str,
    config_path: Path | None,
    migrations_dir: str | None,
    lock_timeout: float,
    lock_tries: int,
    quiet: bool,
) -> None:
    """Install or upgrade guard and apply the project's guard revisions."""
    from guard.db import migrate as runner

    config = options.database_config(config_path)
    directory = migrations_dir or str(config.migrations_path())
    if offline:
        if downgrade_to is not None:
            raise GuardError("--sql prints upgrades only; run --downgrade against a database")
        start, states = None, {}
        if dsn:
            start, pending = runner.pending_start(dsn, directory)
            states = runner.guarded_states(dsn)
            if not pending:
                click.echo(f"-- guard: the database is at revision {start}: nothing to apply")
                return
            where = start or "base"
            click.echo(f"-- guard: the database is at revision {where}; the SQL below upgrades it to {revision}")
        click.echo(runner.offline_sql(revision, directory, start=start, states=states), nl=False)
        return
    if not dsn:
        raise GuardError("no database given: pass --dsn DSN or set GUARD_DSN (or use --sql to print the SQL)")
    policy = LockPolicy(timeout_seconds=lock_timeout, tries=lock_tries)
    managed = runner.managing_environment(dsn) if downgrade_to is None else None
    if managed is not None:
        _report_managed(runner, *managed)
    try:
        # each step on stderr: Alembic's "Running upgrade A -> B", guard's per-table statements and lock waits
        with options.progress_logging(quiet, "alembic.runtime.migration", PROGRESS.name):
            if downgrade_to is not None:
                runner.downgrade(dsn, downgrade_to, directory, policy)
            else:
                runner.upgrade(dsn, revision, directory, policy)
    except BaseException as exc:
        if not _interrupted(exc):
            raise
        _report_interrupt(runner, dsn)
    click.echo(f"guard: database at revision {', '.join(runner.current_revisions(dsn)) or 'base'}")


def _report_managed(runner: Any, table: str, recorded: list[str]) -> NoReturn:
    """guard lives in the project's own Alembic environment: report its state, never install it twice."""
    heads = runner.guard_heads()
    up_to_date = heads <= set(recorded)
    head = ", ".join(sorted(heads))
    state = "up to date" if up_to_date else f"guard's lineage at {', '.join(recorded)}, its head is {head}"
    click.echo(
        f"guard: managed by your Alembic environment (version table {table}): {state}; "
        "apply migrations there with `alembic upgrade heads`"
    )
    raise SystemExit(EXIT_OK if up_to_date else EXIT_FINDINGS)


def _interrupted(exc: BaseException) -> bool:
    """Ctrl-C, also when a database driver's clean-up turned it into another error on the way out."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__context__
    return False


def _report_interrupt(runner: Any, dsn: str) -> NoReturn:
    """Exit 130 saying what the interrupted run left: every revision commits with its version row."""
    try:
        state = runner.state_summary(dsn)
    except (GuardError, Exception) as exc:  # the server may be what was slow; say so, do not trace back
        state = f"its state could not be read ({exc})"
    click.echo(
        f"guard: interrupted; {state}. Each revision is applied with its version row in one transaction, "
        "so nothing is half-applied: run guard migrate again to finish.",
        err=True,
    )
    raise SystemExit(EXIT_INTERRUPTED)
