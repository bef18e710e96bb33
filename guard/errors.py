"""Errors the CLI turns into a message and exit code 2 (usage, configuration, I/O, database)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from guard.config import ConfigError
from guard.redaction import redact

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


def db_error_summary(exc: BaseException, *, whole: bool = False) -> str:
    """One line for a database error: its primary message (the first line), or with ``whole`` every line joined.

    Server errors put the message first and the statement excerpt after it; connection failures spread the
    cause over several lines ("... failed: Connection refused" / "Is the server running ..."), so callers that
    report those pass ``whole=True``.
    """
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    return " ".join(lines) if whole else lines[0]


class GuardError(Exception):
    """A problem the user can act on. ``str()`` says what happened and what to do."""


def cli_errors(func: F) -> F:
    """Report :class:`GuardError`/:class:`ConfigError` (and database errors) cleanly with exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (GuardError, ConfigError) as exc:
            click.echo(f"guard: error: {redact(str(exc))}", err=True)
            raise SystemExit(EXIT_ERROR) from None
        except Exception as exc:
            # psycopg is imported lazily; recognise its errors without importing it here.
            if type(exc).__module__.startswith("psycopg"):
                click.echo(f"guard: database error: {redact(db_error_summary(exc))}", err=True)
                raise SystemExit(EXIT_ERROR) from None
            raise

    return wrapper  # type: ignore[return-value]
