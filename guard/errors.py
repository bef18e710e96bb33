"""Errors the CLI turns into a message and exit code 2 (usage, configuration, I/O, database)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from guard.config import ConfigError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


class GuardError(Exception):
    """A problem the user can act on. ``str()`` says what happened and what to do."""


def cli_errors(func: F) -> F:
    """Report :class:`GuardError`/:class:`ConfigError` (and database errors) cleanly with exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (GuardError, ConfigError) as exc:
            click.echo(f"guard: error: {exc}", err=True)
            raise SystemExit(EXIT_ERROR) from None
        except Exception as exc:
            # psycopg is imported lazily; recognise its errors without importing it here.
            if type(exc).__module__.startswith("psycopg"):
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                click.echo(f"guard: database error: {first}", err=True)
                raise SystemExit(EXIT_ERROR) from None
            raise

    return wrapper  # type: ignore[return-value]
