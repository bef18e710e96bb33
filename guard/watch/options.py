"""Command-line options shared by the watch commands, so every command spells them the same way."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from guard.config import Config, load_config, parse_duration
from guard.watch.session import DEFAULT_STATEMENT_TIMEOUT

F = TypeVar("F", bound=Callable[..., Any])


class Duration(click.ParamType):
    """``30m``, ``24h``, ``7d`` (bare numbers are hours) -> seconds."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float):
            return value
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class Since(click.ParamType):
    """An ISO timestamp (``2026-04-01``, ``2026-04-03T04:00:00Z``) or a duration back from now (``7d``)."""

    name = "timestamp"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        try:
            return dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=parse_duration(value))
        except ValueError:
            pass
        try:
            return dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            self.fail(f"{value!r} is neither an ISO timestamp nor a duration such as 7d", param, ctx)


DURATION = Duration()
SINCE = Since()


def dsn_option(func: F) -> F:
    return click.option(
        "--dsn",
        envvar="GUARD_DSN",
        required=True,
        help="PostgreSQL connection string (or set GUARD_DSN).",
    )(func)


def config_option(func: F) -> F:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Config file (default: guard.toml or [tool.guard] in ./pyproject.toml).",
    )(func)


def format_option(func: F) -> F:
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["table", "json"]),
        default="table",
        show_default=True,
        help="Rich table for people, JSON for scripts (documented in docs/recover.md).",
    )(func)


def statement_timeout_option(func: F) -> F:
    return click.option(
        "--statement-timeout",
        type=DURATION,
        default=f"{int(DEFAULT_STATEMENT_TIMEOUT)}s",
        show_default=True,
        help="Cancel any single query running longer than this (e.g. 30s, 5m).",
    )(func)


def load(config_path: Path | None) -> Config:
    """The configuration for this run: ``--config`` or the one found in the current directory."""
    return load_config(Path.cwd(), config_path)
