"""Shared rendering for the watch commands: one JSON encoder, one console, one way to print ages.

JSON output is meant for scripts and cron, so values keep their precision: timestamps are ISO 8601
(UTC for ``timestamptz``), decimals are strings (money must not turn into binary floats).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import click

#: bumped only when a field changes meaning or disappears; new fields may be added at any time
JSON_FORMAT_VERSION = 1


def jsonable(value: Any) -> Any:
    """Database values as JSON-friendly scalars (recursively for dicts, lists and tuples)."""
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def iso(value: dt.datetime) -> str:
    """ISO 8601; aware datetimes are shown in UTC with a ``Z``."""
    if value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def emit_json(command: str, payload: dict[str, Any]) -> None:
    """Print one JSON document: ``{"command": ..., "format_version": ..., **payload}``."""
    document = {"command": command, "format_version": JSON_FORMAT_VERSION, **jsonable(payload)}
    click.echo(json.dumps(document, indent=2))


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
