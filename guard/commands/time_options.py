"""Click option types for time: durations (``--window``, ``--lock-timeout``...), points in time (``--since``,
``--as-of``) and the statement timeout, read by :func:`guard.durations.parse_duration` like config values are.

The options every command shares (``--dsn``, ``--config``, ``--format`` ...) live in :mod:`guard.options`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

import click

from guard.db.session import DEFAULT_STATEMENT_TIMEOUT
from guard.durations import parse_duration

F = TypeVar("F", bound=Callable[..., Any])


class Duration(click.ParamType):
    """``30m``, ``24h``, ``7d`` -> seconds; a bare number is refused (see :mod:`guard.durations`)."""

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
        except ValueError as exc:
            not_a_duration = str(exc)
        try:
            return dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            if "has no unit" in not_a_duration:  # ``--since 48``: hours? days? ask, like every duration does
                self.fail(not_a_duration, param, ctx)
            self.fail(f"{value!r} is neither an ISO timestamp nor a duration such as 7d", param, ctx)


DURATION = Duration()
SINCE = Since()


def statement_timeout_option(func: F) -> F:
    return click.option(
        "--statement-timeout",
        type=DURATION,
        default=f"{int(DEFAULT_STATEMENT_TIMEOUT)}s",
        show_default=True,
        help="Cancel any single query running longer than this (e.g. 30s, 5m).",
    )(func)
