"""The command-line vocabulary every ``guard`` command shares, as click decorators.

One spelling per idea, so a user who learnt one command knows the others: ``--config`` (found the same way
everywhere, see :func:`guard.config.load_config`), ``--format table|json|...``, ``-o/--output``, ``--table``,
``--fail-on`` (always accepting ``never``), ``--dsn`` (also from ``GUARD_DSN`` or ``DATABASE_URL``; never
echoed back), ``-q/--quiet``. New commands and formats declare their options with these helpers instead of
re-declaring them. ``guard docs cli`` documents the vocabulary.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

import click

from guard.config import Config, load_config
from guard.errors import EXIT_ERROR, GuardError, cli_errors

F = TypeVar("F", bound=Callable[..., Any])

#: where ``--dsn`` falls back to, in this order
DSN_ENVVARS = ("GUARD_DSN", "DATABASE_URL")
#: accepted by ``--format`` on commands that had it, mapped to ``table`` with a warning
DEPRECATED_FORMATS = {"text": "table"}
NEVER = "never"
#: the file ``-o/--output`` is writing, for commands that say more about it on stderr
REPORT_FILE: ContextVar[Path | None] = ContextVar("guard_report_file", default=None)


def _missing_dsn(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if not value and param.required_if_missing:  # type: ignore[attr-defined]
        raise click.UsageError(f"no database given: pass --dsn DSN or set {' or '.join(DSN_ENVVARS)}", ctx=ctx)
    return value or None


class _DsnOption(click.Option):
    """``--dsn`` whose value (it may hold a password) is never shown in help, errors or ``guard config``."""

    def __init__(self, *args: Any, required_if_missing: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.required_if_missing = required_if_missing


def dsn_option(
    *, required: bool = True, help: str = "PostgreSQL connection string.", envvars: Sequence[str] = DSN_ENVVARS
) -> Callable[[F], F]:
    """``--dsn``, else ``GUARD_DSN``, else ``DATABASE_URL``. Required unless ``required=False``.

    ``guard scan`` passes ``envvars=("GUARD_DSN",)``: a static scan reads a database only when asked to, not
    because the shell happens to export the application's ``DATABASE_URL``.
    """
    return click.option(
        "--dsn",
        cls=_DsnOption,
        envvar=list(envvars),
        required_if_missing=required,
        callback=_missing_dsn,
        show_envvar=True,
        help=help,
    )


def _file_option(*names: str, help: str) -> Callable[[F], F]:
    return click.option(*names, type=click.Path(dir_okay=False, path_type=Path), default=None, help=help)


def config_option() -> Callable[[F], F]:
    return _file_option(
        "--config",
        "config_path",
        help="guard.toml or pyproject.toml to use (default: searched upward, see `guard config`).",
    )


def _format_callback(ctx: click.Context, param: click.Parameter, value: str) -> str:
    replacement = DEPRECATED_FORMATS.get(value)
    if replacement is None:
        return value
    click.echo(f"guard: warning: --format {value} is deprecated; use --format {replacement}", err=True)
    return replacement


def format_option(
    formats: Sequence[str] = ("table", "json"), *, default: str | None = "table", default_help: str = ""
) -> Callable[[F], F]:
    """``--format``: ``table`` for people, ``json`` (the shared envelope) for scripts, plus command extras.

    ``default=None`` lets the command choose at run time (``scan``: by terminal or output suffix), which
    ``default_help`` then explains."""
    accepted = [*formats, *(old for old, new in DEPRECATED_FORMATS.items() if new in formats and old not in formats)]
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(accepted),
        default=default,
        show_default=True,
        callback=_format_callback,
        help=f"Output format: {', '.join(formats)} (json: see `guard docs cli`).{default_help}",
    )


def table_option(*, required: bool = False, multiple: bool = False, help: str | None = None) -> Callable[[F], F]:
    text = help or "Table (schema.table, or a name resolved through search_path)."
    return click.option("--table", "tables" if multiple else "table", required=required, multiple=multiple, help=text)


def fail_on_option(choices: Sequence[str], *, default: str | None, help: str) -> Callable[[F], F]:
    """``--fail-on LEVEL``: exit 1 at this level or worse; ``never`` always exits 0 (reports only)."""
    return click.option(
        "--fail-on",
        type=click.Choice([*choices, NEVER], case_sensitive=False),
        default=default,
        show_default=default is not None,
        help=f"{help} `never`: report only, exit 0.",
    )


def quiet_option() -> Callable[[F], F]:
    return click.option("--quiet", "-q", is_flag=True, help="No progress lines on stderr.")


def progress_reporter(quiet: bool) -> Callable[[str], None]:
    """Progress lines for long database work go to stderr (stdout stays the report), unless ``--quiet``."""
    if quiet:
        return lambda message: None
    return lambda message: click.echo(f"guard: {message}", err=True)


class _StderrHandler(logging.Handler):
    """A logging handler writing ``guard: message`` to the stderr of the moment (click's, as tests swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"guard: {self.format(record)}", err=True)


@contextmanager
def progress_logging(quiet: bool, *loggers: str) -> Iterator[None]:
    """Show the INFO records of ``loggers`` (library code reports long steps there) on stderr unless ``quiet``."""
    if quiet:
        yield
        return
    handler = _StderrHandler()
    previous = []
    for name in loggers:
        logger = logging.getLogger(name)
        previous.append((logger, logger.level))
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)
    try:
        yield
    finally:
        for logger, level in previous:
            logger.removeHandler(handler)
            logger.setLevel(level)


def output_option(func: F) -> F:
    """``-o/--output FILE``: whatever the command prints on stdout goes to FILE instead.

    The report is written to a temporary file next to FILE and renamed into place when the command ends with
    exit code 0 or 1, so a failing run (exit 2) never leaves a half-written or emptied report behind.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, output: Path | None, **kwargs: Any) -> Any:
        if output is None:
            return func(*args, **kwargs)
        directory = output.parent
        if not directory.is_dir():
            raise GuardError(
                f"{output}: cannot write the report: {directory} is not a directory; create it or fix -o/--output"
            )
        temp = directory / f".{output.name}.{os.getpid()}.tmp"
        try:
            handle = temp.open("w", encoding="utf-8")
        except OSError as exc:
            raise GuardError(f"{output}: cannot write the report: {exc.strerror or exc}") from None
        code: Any = 0
        try:
            token = REPORT_FILE.set(output)
            with handle, redirect_stdout(handle):
                try:
                    func(*args, **kwargs)
                except SystemExit as exc:
                    code = exc.code
                except BaseException:
                    code = EXIT_ERROR
                    raise
                finally:
                    REPORT_FILE.reset(token)
        finally:
            if code in (None, 0, 1):
                os.replace(temp, output)
                click.echo(f"guard: report written to {output}", err=True)
            else:
                Path(temp).unlink(missing_ok=True)
        if code not in (None, 0):
            raise SystemExit(code)
        return None

    declare: Callable[[F], F] = _file_option("--output", "-o", help="Write the report to this file instead of stdout.")
    return declare(cli_errors(wrapper))  # type: ignore[arg-type]


def database_config(config_path: Path | None) -> Config:
    """Config for a database command: ``--config``, else searched upward from the current directory."""
    return load_config(Path.cwd(), config_path)
