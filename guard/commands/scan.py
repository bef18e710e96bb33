"""``guard scan``: find every write that leaves the timestamp column to its default (the blast radius)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from guard import options
from guard.config import load_config
from guard.errors import EXIT_FINDINGS, EXIT_OK, GuardError, cli_errors
from guard.model import ScanResult, Severity

if TYPE_CHECKING:
    from rich.console import Console

FORMATS = ("table", "json", "sarif", "markdown")
#: Below this many files a scan is over before a progress bar would be readable.
PROGRESS_MIN_FILES = 300
#: Width of the table report when stdout is not a terminal (CI logs, pipes, files).
LOG_WIDTH = 140


@click.command()
@click.argument("paths", metavar="[PATH]...", nargs=-1, type=click.Path(path_type=Path))
@options.config_option()
@options.format_option(FORMATS)
@options.output_option
@options.fail_on_option(
    [s.value for s in Severity],
    default=None,
    help="Exit 1 when a finding is at or above this severity (default: fail_on from config, else high).",
)
@click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path), help="Only findings not in it count.")
@click.option("--write-baseline", is_flag=True, help="Record the current findings in --baseline and exit 0.")
@options.dsn_option(
    required=False,
    envvars=("GUARD_DSN",),
    help="Also read table definitions from this database, and raise findings on its stale tables one level.",
)
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Worker processes (default: one per core).")
@click.option("--writes", "show_writes", is_flag=True, help="Also list every write found (table format).")
@click.option("--no-progress", is_flag=True, help="Never show a progress bar.")
@click.option("--verbose", "-v", is_flag=True, help="List every diagnostic, also unreadable SQL that is not a write.")
@cli_errors
def scan(
    paths: tuple[Path, ...],
    config_path: Path | None,
    output_format: str,
    fail_on: str | None,
    baseline: Path | None,
    write_baseline: bool,
    dsn: str | None,
    jobs: int | None,
    show_writes: bool,
    no_progress: bool,
    verbose: bool,
) -> None:
    """Scan PATH (a repository, directory or file; default: .) for INSERT/COPY/upsert statements that let
    the timestamp column fall back to DEFAULT now().

    Several paths (as a pre-commit hook passes them) and paths below the project root are judged with the whole
    project's DDL and models (the project root is where guard.toml or [tool.guard] was found), and reported
    relative to it.

    Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 usage, config or I/O error.
    """
    from guard.scan import baseline as baselines
    from guard.scan.engine import scan as run_scan
    from guard.scan.partial import project_scope, restrict

    if write_baseline and baseline is None:
        raise click.UsageError("--write-baseline needs --baseline FILE to write to")
    paths = paths or (Path("."),)
    for path in paths:
        if not path.exists():
            raise GuardError(f"{path}: no such file or directory; pass the repository or file to scan")
    config = load_config(paths[0], config_path)
    scope = project_scope(paths, config)
    if scope is None and len(paths) > 1:
        raise GuardError(
            "several paths are scanned together only inside one project: add a guard.toml (or [tool.guard]) at "
            "the project root, or scan one path"
        )
    threshold = _threshold(fail_on, config.fail_on)
    known = baselines.load_baseline(baseline) if baseline is not None and not write_baseline else None
    if write_baseline and baseline is not None:
        _ensure_directory(baseline, "baseline", "--baseline")

    with _progress_bar(enabled=not no_progress and sys.stderr.isatty()) as progress:
        result = run_scan(scope.root if scope else paths[0], config, jobs=jobs, dsn=dsn, progress=progress)
    if scope is not None:
        result = restrict(result, scope, config)
    if dsn:
        # a stale table's backfill is the next phantom: its findings go up one level (docs/rollout.md)
        from guard.rollout.stale import raise_stale_severity

        result.findings = raise_stale_severity(result.findings, dsn, config)

    if write_baseline and baseline is not None:
        count = baselines.write_baseline(baseline, result.findings)
        click.echo(f"guard: recorded {count} finding(s) in {baseline}", err=True)
        threshold = None
    elif known is not None:
        result.findings, result.baselined = baselines.split_by_baseline(result.findings, known)

    _report(result, output_format, threshold, show_writes, verbose)
    from guard.report.common import fails

    raise SystemExit(EXIT_FINDINGS if fails(result.findings, threshold) else EXIT_OK)


def _ensure_directory(target: Path, what: str, option: str) -> None:
    """A typo in an output path must fail before a scan that may take minutes, not after it."""
    directory = target.parent
    if not directory.is_dir():
        raise GuardError(f"{target}: cannot write {what}: {directory} is not a directory; create it or fix {option}")


def _threshold(option: str | None, configured: Severity) -> Severity | None:
    if option is None:
        return configured
    return None if option.lower() == "never" else Severity.parse(option)


def _report(result: ScanResult, fmt: str, threshold: Severity | None, show_writes: bool, verbose: bool) -> None:
    from guard.report import terminal

    if fmt == "table":
        terminal.render(result, _stdout_console(), threshold, show_writes, verbose)
    else:
        click.echo(_renderer(fmt)(result), nl=False)
    report_file = options.REPORT_FILE.get()
    if report_file is not None:
        from guard.report.common import summary_line

        click.echo(f"guard: {summary_line(result)} -> {report_file}", err=True)


def _stdout_console() -> Console:
    """The terminal's width on a terminal; in CI logs and pipes (80 columns by default) something readable."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(width=LOG_WIDTH)
    return console


def _renderer(fmt: str) -> Callable[[ScanResult], str]:
    if fmt == "json":
        from guard.report import json_report

        return json_report.render
    if fmt == "sarif":
        from guard.report import sarif

        return sarif.render
    from guard.report import markdown

    return markdown.render


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on stderr, shown only on a terminal and only for trees big enough to need one."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress, TaskID

    bar = Progress(console=Console(stderr=True), transient=True)
    task: list[TaskID] = []

    def update(done: int, total: int) -> None:
        if total < PROGRESS_MIN_FILES:
            return
        if not task:
            bar.start()
            task.append(bar.add_task("scanning", total=total))
        bar.update(task[0], completed=done)

    try:
        yield update
    finally:
        if task:
            bar.stop()
