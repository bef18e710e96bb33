"""Shared rendering for the watch commands: one console, one way to print ages and timestamps.

JSON output goes through :mod:`guard.envelope`, shared by every command.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from guard.envelope import iso, jsonable


def console() -> Any:
    """A rich console on stdout (plain text when stdout is not a terminal)."""
    from rich.console import Console

    terminal = Console(highlight=False)
    return terminal if terminal.is_terminal else Console(highlight=False, width=160)


def hours(seconds: float | None) -> str:
    """Ages in hours with one decimal, like the seed's stale-table inventory (``437.9``)."""
    return "-" if seconds is None else f"{seconds / 3600:.1f}"


def display(value: Any) -> str:
    """A database value for a table cell."""
    if value is None:
        return "NULL"
    if isinstance(value, dt.datetime):
        return iso(value)
    return str(jsonable(value))


def short_time(value: Any) -> str:
    """Compact timestamps for tables: ``2026-04-03 04:07`` (UTC), ``2020-11-30`` at midnight, seconds if any."""
    if not isinstance(value, dt.datetime):
        return display(value)
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc)
    if value.time() == dt.time(0):
        return f"{value:%Y-%m-%d}"
    if value.second == 0 and value.microsecond == 0:
        return f"{value:%Y-%m-%d %H:%M}"
    return f"{value:%Y-%m-%d %H:%M:%S}"


def clock(value: dt.datetime) -> str:
    """``04:07``: the time of day (UTC for aware values), for chart axes where the date is said once."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc)
    return f"{value:%H:%M}"
