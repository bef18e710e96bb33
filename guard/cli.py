"""The ``guard`` command line.

Subcommands are imported only when invoked, so ``guard scan`` does not pay for alembic or psycopg and
``guard --help`` stays instant. Each subcommand lives in ``guard/commands/<name>.py``.
"""

from __future__ import annotations

import importlib
import sys
import traceback

import click

from guard import __version__

#: name -> "module:attribute" of the click command
COMMANDS: dict[str, str] = {
    "scan": "guard.commands.scan:scan",
    "patch": "guard.commands.patch:patch",
    "protect": "guard.commands.protect:protect",
    "migrate": "guard.commands.migrate:migrate",
    "status": "guard.commands.status:status",
    "detect": "guard.commands.detect:detect",
    "quarantine": "guard.commands.quarantine:quarantine",
    "release": "guard.commands.quarantine:release",
    "freshness": "guard.commands.freshness:freshness",
    "coverage": "guard.commands.coverage:coverage",
    "doctor": "guard.commands.doctor:doctor",
    "bounds": "guard.commands.bounds:bounds",
    "rollout": "guard.commands.rollout:rollout",
    "init": "guard.commands.init:init",
    "config": "guard.commands.config:config_command",
    "docs": "guard.commands.docs:docs",
    "rule": "guard.commands.docs:rule",
}

_HELP = {
    "scan": "Find writes that leave the timestamp column to its default (the blast radius).",
    "patch": "Print (or apply) diffs that make every write name its timestamp.",
    "protect": "Write a migration that guards a table in the database.",
    "migrate": "Apply pending guard migrations (or print their SQL with --sql).",
    "status": "Show guarded tables, modes, violation and quarantine counts.",
    "detect": "Find phantom bursts already stored in a table.",
    "quarantine": "Quarantine rows reversibly and maintain a clean view.",
    "release": "Undo a quarantine batch.",
    "freshness": "Report stale tables, measured in the database itself.",
    "coverage": "Share of rows where a column is null or zero, with a Wilson interval.",
    "doctor": "One-screen health check: status, detect and freshness.",
    "bounds": "Check the metrics declared in config against their expected range.",
    "rollout": "Per table of the blast radius: ready for enforce, or what blocks it.",
    "init": "Write a starter guard.toml proposed from a scan (never overwrites).",
    "config": "Show the configuration in effect and where it was found.",
    "docs": "Print a documentation page shipped with guard.",
    "rule": "Print a rule's documentation (guard rule GRD001).",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        if not isinstance(command, click.Command):  # pragma: no cover - programming error
            raise TypeError(f"{target} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Listing help must not import every subcommand module.
        with formatter.section("Commands"):
            formatter.write_dl([(name, _HELP.get(name, "")) for name in sorted(COMMANDS)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="guard")
def cli() -> None:
    """guard protects PostgreSQL warehouses from phantom timestamps.

    Exit codes: 0 ok, 1 findings (or unfixable sites / stale tables / bursts), 2 usage, config or I/O error.
    Every command shares --config, --format, -o/--output, --fail-on and --dsn (GUARD_DSN, DATABASE_URL);
    see `guard docs cli`. Shell completion: eval "$(_GUARD_COMPLETE=bash_source guard)".
    """


def main() -> None:
    try:
        cli.main(prog_name="guard", standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        # A bug in guard (or a broken install) must not exit 1, which means "findings" to CI: the traceback is
        # for the report, the exit code says the run itself failed.
        traceback.print_exc()
        click.echo(
            f"guard: internal error: {type(exc).__name__}: {exc}. This is a bug in guard or a broken install "
            "(try reinstalling); please report it with the traceback above.",
            err=True,
        )
        sys.exit(2)
