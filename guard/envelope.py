"""One JSON envelope for every command's ``--format json`` output.

Every document carries ``command`` (which subcommand wrote it), ``format_version`` (bumped only when a field
changes meaning or disappears; new fields may be added at any time) and ``diagnostics`` (problems met on the
way that did not stop the command), next to the command's own result keys. Scripts can therefore read any
guard report the same way; ``guard/schemas/envelope.schema.json`` pins the shared part down.

Values keep their precision: timestamps are ISO 8601 (UTC for ``timestamptz``), decimals are strings (money
must not turn into binary floats).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import click

#: 2: ``diagnostics`` in every document, ``scan``'s ``version`` became ``format_version``
FORMAT_VERSION = 2


@dataclass(frozen=True)
class EnvelopeDiagnostic:
    """A problem that did not stop the command (an unreadable file, a table that timed out, ...)."""

    kind: str
    message: str
    path: str | None = None
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "path": self.path, "line": self.line}


def iso(value: dt.datetime) -> str:
    """ISO 8601; aware datetimes are shown in UTC with a ``Z``."""
    if value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def jsonable(value: Any) -> Any:
    """Database values as JSON-friendly scalars (recursively for dicts, lists and tuples)."""
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, EnvelopeDiagnostic):
        return value.as_dict()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def envelope(
    command: str, payload: Mapping[str, Any], diagnostics: Iterable[EnvelopeDiagnostic | Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """``{"command", "format_version", **payload, "diagnostics"}``; the envelope keys cannot be overridden."""
    clash = {"command", "format_version", "diagnostics"} & set(payload)
    if clash:  # pragma: no cover - programming error
        raise ValueError(f"payload of {command} redefines envelope keys {sorted(clash)}")
    return {
        "command": command,
        "format_version": FORMAT_VERSION,
        **jsonable(dict(payload)),
        "diagnostics": [jsonable(d) for d in diagnostics],
    }


def render(
    command: str, payload: Mapping[str, Any], diagnostics: Iterable[EnvelopeDiagnostic | Mapping[str, Any]] = ()
) -> str:
    return json.dumps(envelope(command, payload, diagnostics), indent=2, ensure_ascii=False) + "\n"


def emit_json(
    command: str, payload: Mapping[str, Any], diagnostics: Iterable[EnvelopeDiagnostic | Mapping[str, Any]] = ()
) -> None:
    """Print one enveloped JSON document on stdout (which ``-o/--output`` may have pointed at a file)."""
    click.echo(render(command, payload, diagnostics), nl=False)
