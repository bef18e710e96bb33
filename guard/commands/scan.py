"""``guard scan``: find every write that leaves the timestamp column to its default (the blast radius)."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from guard import options
from guard.config import load_config
from guard.errors import EXIT_FINDINGS, EXIT_OK, GuardError, cli_errors
from guard.model import Finding, ScanResult, Severity

if TYPE_CHECKING:
    from rich.console import Console

    from guard.config import Config

FORMATS = ("table", "concise", "json", "sarif", "markdown", "html", "github", "gitlab")
#: ``--format`` when none is given and ``--output`` has one of these suffixes
FORMAT_BY_SUFFIX = {".json": "json", ".sarif": "sarif", ".md": "markdown", ".html": "html", ".htm": "html"}
#: Below this many files a scan is over before a progress bar would be readable.
PROGRESS_MIN_FILES = 300
#: Width of the table report when stdout is not a terminal (CI logs, pipes, files).
LOG_WIDTH = 140


@click.command()
@click.argument("paths", metavar="[PATH]...", nargs=-1, type=click.Path(path_type=Path))
@options.config_option()
@options.format_option(
    FORMATS,
    default=None,
    default_help=" Default: table on a terminal, concise when piped; with -o, from the file's suffix.",
)
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
@click.option(
    "--diff-base",
    metavar="REF",
    help="Only findings introduced since the merge base of HEAD and REF (e.g. origin/main).",
)
@click.option("--writes", "show_writes", is_flag=True, help="Also list every write found (table format).")
@click.option("--no-progress", is_flag=True, help="Never show a progress bar.")
@click.option("--verbose", "-v", is_flag=True, help="List every diagnostic, also unreadable SQL that is not a write.")
@click.option("--quiet", "-q", is_flag=True, help="Only the findings: no progress, summary or diagnostics.")
@click.option(
    "--color/--no-color",
    default=None,
    help="Force colours on or off (default: on for a terminal, off when NO_COLOR is set).",
)
@cli_errors
def scan(
    paths: tuple[Path, ...],
    config_path: Path | None,
    output_format: str | None,
    fail_on: str | None,
    baseline: Path | None,
    write_baseline: bool,
    dsn: str | None,
    jobs: int | None,
    diff_base: str | None,
    show_writes: bool,
    no_progress: bool,
    verbose: bool,
    quiet: bool,
    color: bool | None,
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
    if diff_base is not None and write_baseline:
        raise click.UsageError("--diff-base and --write-baseline do not mix: a baseline records every finding")
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

    scanned = scope.root if scope else paths[0]
    with _progress_bar(enabled=not (no_progress or quiet) and sys.stderr.isatty()) as progress:
        result = run_scan(scanned, config, jobs=jobs, dsn=dsn, progress=progress)
    if scope is not None:
        result = restrict(result, scope, config)
    if dsn:
        # a stale table's backfill is the next phantom: its findings go up one level (docs/rollout.md)
        from guard.rollout.stale import raise_stale_severity

        result.findings = raise_stale_severity(result.findings, dsn, config)
    if diff_base is not None:
        result.findings, result.baselined = _new_since(scanned, diff_base, config, jobs, dsn, result)

    if write_baseline and baseline is not None:
        count = baselines.write_baseline(baseline, result.findings)
        click.echo(f"guard: recorded {count} finding(s) in {baseline}", err=True)
        threshold = None
    elif known is not None:
        result.findings, result.baselined = baselines.split_by_baseline(result.findings, known)

    fmt = output_format or _default_format(options.REPORT_FILE.get())
    _report(result, fmt, threshold, _View(show_writes, quiet, verbose, color), config)
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


@dataclass(frozen=True)
class _View:
    """How much the person asked to see, and in which colours."""

    show_writes: bool = False
    quiet: bool = False
    verbose: bool = False
    color: bool | None = None


def _default_format(report_file: Path | None) -> str:
    """table for a person at a terminal; concise (one line per finding) in pipes and CI logs, like ruff;
    for ``-o FILE``, the format its suffix names."""
    if report_file is not None:
        return FORMAT_BY_SUFFIX.get(report_file.suffix.lower(), "table")
    return "table" if sys.stdout.isatty() else "concise"


def _new_since(
    path: Path, ref: str, config: Config, jobs: int | None, dsn: str | None, result: ScanResult
) -> tuple[list[Finding], int]:
    """(findings not present at the merge base with ``ref``, how many were)."""
    from guard.scan import baseline as baselines
    from guard.scan.diffbase import base_tree
    from guard.scan.engine import scan as run_scan

    with base_tree(path, ref) as base:
        known = {f.fingerprint for f in run_scan(base, config, jobs=jobs, dsn=dsn).findings} if base else set()
    findings, old = baselines.split_by_baseline(result.findings, known)
    return findings, result.baselined + old


def _report(result: ScanResult, fmt: str, threshold: Severity | None, view: _View, config: Config) -> None:
    from guard.report import terminal

    if fmt == "table":
        shown = {"show_writes": view.show_writes, "verbose": view.verbose, "quiet": view.quiet}
        terminal.render(result, _stdout_console(view.color), threshold, **shown)
    else:
        click.echo(_text_report(result, fmt, view, config), nl=False)
    report_file = options.REPORT_FILE.get()
    if report_file is not None and not view.quiet:
        from guard.report.common import summary_line

        click.echo(f"guard: {summary_line(result)} -> {report_file}", err=True)


def _stdout_console(color: bool | None) -> Console:
    """The terminal's width on a terminal; in CI logs, pipes and files something readable.

    Colours follow rich's detection (a terminal, ``NO_COLOR``, ``FORCE_COLOR``) unless --color/--no-color says.
    """
    from rich.console import Console

    settings: dict[str, Any] = {}
    if color is True:
        settings["force_terminal"] = True
    elif color is False:
        settings["no_color"] = True
    console = Console(**settings)
    if not sys.stdout.isatty() and "COLUMNS" not in os.environ:
        console = Console(width=LOG_WIDTH, **settings)
    return console


def _text_report(result: ScanResult, fmt: str, view: _View, config: Config) -> str:
    if fmt == "concise":
        from guard.report import concise

        return concise.render(result, quiet=view.quiet)
    if fmt == "html":
        from guard.report import html_scan

        return html_scan.render(result, config)
    return _renderer(fmt)(result)


def _renderer(fmt: str) -> Callable[[ScanResult], str]:
    module = {"json": "json_report", "sarif": "sarif", "markdown": "markdown", "github": "github", "gitlab": "gitlab"}
    render: Callable[[ScanResult], str] = importlib.import_module(f"guard.report.{module[fmt]}").render
    return render


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
