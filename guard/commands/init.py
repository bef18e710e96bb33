"""``guard init``: write a commented starter ``guard.toml`` proposed from a scan of the tree."""

from __future__ import annotations

import dataclasses
import difflib
import os
import tempfile
from pathlib import Path

import click

from guard import options
from guard.errors import EXIT_FINDINGS, EXIT_OK, GuardError, cli_errors


@click.command()
@click.argument("path", default=".", type=click.Path(path_type=Path, file_okay=False))
@options.config_option()
@options.dsn_option(
    required=False, envvars=("GUARD_DSN",), help="Also read table definitions from this database (read-only)."
)
@click.option(
    "--file",
    "target_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the starter config (default: PATH/guard.toml).",
)
@click.option("--print", "print_only", is_flag=True, help="Print the proposal on stdout and write nothing.")
@cli_errors
def init(path: Path, config_path: Path | None, dsn: str | None, target_file: Path | None, print_only: bool) -> None:
    """Scan PATH and write a starter guard.toml: the guarded tables found, each with a proposed
    business_column, source_field and severity from the evidence; `why` left for the owner.

    Never overwrites: if the file exists, the proposal is printed as a diff against it instead.
    Exit codes: 0 written (or nothing differs), 1 the existing file differs (diff printed), 2 error.
    """
    from guard.config import load_config
    from guard.scan.engine import scan as run_scan
    from guard.starter import propose, render_starter

    if not path.is_dir():
        raise GuardError(f"{path}: not a directory; pass the repository to scan")
    found = load_config(path, config_path)
    # Judge by evidence alone: severities already configured must not feed back into the proposal.
    config = dataclasses.replace(found, tables={}, default_severity=None)
    result = run_scan(path, config, dsn=dsn)
    text = render_starter(propose(result, config), config, scanned=str(path))
    if print_only:
        click.echo(text, nl=False)
        raise SystemExit(EXIT_OK)
    target = target_file if target_file is not None else path / "guard.toml"
    if target.exists():
        raise SystemExit(_diff_against(target, text))
    _write_new(target, text)
    click.echo(f"guard: wrote {target}: review the 'check' lines and fill in each table's why", err=True)
    if found.source is not None and Path(found.source.split(" [", 1)[0]).resolve() != target.resolve():
        # e.g. [tool.guard] in pyproject.toml: two configs would disagree silently
        click.echo(
            f"guard: note: {found.source} also configures guard; guard.toml is found first from here, "
            "so merge the two and keep one",
            err=True,
        )
    raise SystemExit(EXIT_OK)


def _diff_against(target: Path, text: str) -> int:
    try:
        current = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GuardError(f"{target}: exists but cannot be read ({exc}); move it aside to write a new one") from None
    diff = list(
        difflib.unified_diff(
            current.splitlines(keepends=True),
            text.splitlines(keepends=True),
            fromfile=str(target),
            tofile=f"{target} (proposed by guard init)",
        )
    )
    if not diff:
        click.echo(f"guard: {target} already says what guard init proposes", err=True)
        return EXIT_OK
    click.echo("".join(diff), nl=False)
    click.echo(f"guard: {target} exists and was left untouched; the diff above is the proposal", err=True)
    return EXIT_FINDINGS


def _write_new(target: Path, text: str) -> None:
    """Create the file atomically and only if it still does not exist (never clobber a file made meanwhile)."""
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise GuardError(f"{target}: {directory} is not a directory; create it or fix --file")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".guard-tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.link(tmp, target)  # fails if target appeared since we looked: no overwrite, ever
    except FileExistsError:
        raise GuardError(f"{target}: created by someone else meanwhile; rerun to see the diff") from None
    except OSError as exc:
        raise GuardError(f"{target}: cannot write: {exc.strerror or exc}") from None
    finally:
        Path(tmp).unlink(missing_ok=True)
