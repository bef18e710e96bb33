"""``guard patch``: reviewable diffs that make every write name its timestamp.

Dry run by default: the diff goes to stdout (pipe it to a file, review it, ``git apply`` it) and the
per-file summary to stderr. ``--apply`` writes the same changes itself, atomically and with backups.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from guard import options
from guard.config import Config, load_config
from guard.errors import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, GuardError, cli_errors
from guard.patch.diff import unified_diff
from guard.patch.planner import FilePatch, SiteSelection, parse_selector
from guard.patch.site import FALLBACK_NOTE, PatchSite, SiteResult

if TYPE_CHECKING:  # the scanner is imported only when the command runs
    from guard.patch.scanning import PatchScan


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@options.config_option()
@options.output_option
@click.option("--rule", help="Patch findings of this rule (default: every rule guard patch can fix).")
@options.dsn_option(
    required=False,
    envvars=("GUARD_DSN",),
    help="Also read table definitions from this database, as guard scan --dsn does (read-only).",
)
@click.option("--select", "selectors", multiple=True, metavar="FILE[:LINE]", help="Only these sites (repeatable).")
@click.option("--apply", "apply_changes", is_flag=True, help="Write the changes (default: print the diff only).")
@click.option("--dry-run", is_flag=True, help="Print the diff and write nothing (the default).")
@click.option(
    "--backup-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where --apply keeps the originals (default: PATH/.guard-backup/<UTC timestamp>/).",
)
@click.option("--force", is_flag=True, help="With --apply, also rewrite read-only files (refused otherwise).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Worker processes (default: one per core).")
@click.option("--check", is_flag=True, help="Exit 1 when there is anything to patch (CI, pre-commit); a dry run.")
@cli_errors
def patch(
    paths: tuple[Path, ...],
    config_path: Path | None,
    rule: str | None,
    dsn: str | None,
    selectors: Sequence[str],
    apply_changes: bool,
    dry_run: bool,
    backup_dir: Path | None,
    force: bool,
    jobs: int | None,
    check: bool,
) -> None:
    """Patch PATH's writes that leave the timestamp column to its default (the findings of guard scan).

    Adds the column to each statement's column list, a placeholder in the statement's own style to every
    VALUES row (or a value to the SELECT list / COPY column list), and the source system's timestamp to the
    parameters. Review the diff, then run again with --apply (or `git apply` the diff) and commit.

    Several FILES (as pre-commit passes them) select those files within their project (the nearest
    guard.toml, [tool.guard] or .git above them).

    Exit codes: 0 everything patched or nothing to do, 1 some sites are unfixable (listed) — or, with
    --check, anything to patch at all —, 2 error.
    """
    from guard.codemods.patchers import PATCHERS  # libcst: only when the command runs
    from guard.patch.planner import plan, sites_from_scan

    if apply_changes and (dry_run or check):
        raise GuardError(f"--apply and {'--check' if check else '--dry-run'} contradict each other: pick one")
    root, files = _root_and_files(paths, config_path)
    config = load_config(root, config_path)
    locations = tuple(_selector(root, s) for s in selectors) + tuple((f, None) for f in files)
    selection = SiteSelection(locations=locations)
    if rule is not None:
        selection.rules = frozenset({_write_rule(rule)})
    scanned = _scan(root, config, jobs, dsn)
    sites, unfixable = sites_from_scan(scanned.result, config, selection, scanned.relations, scanned.complete)
    if not files:  # files handed over by a hook need not hold a finding; a --select that matches none is a typo
        _warn_unmatched(selection, [s.site for s in unfixable] + sites)
    patches = plan(root, sites, PATCHERS, jobs=jobs, python_files=scanned.python_files)
    for file_patch in patches:
        click.echo(unified_diff(file_patch.relpath, file_patch.original, file_patch.patched), nl=False)
    _summarize(patches, unfixable, selection)
    failed = False
    if apply_changes:
        failed = _apply(root, patches, backup_dir, force)
    everything = [r for p in patches for r in p.results] + unfixable
    if failed:
        raise SystemExit(EXIT_ERROR)
    pending = check and any(p.changed for p in patches)
    raise SystemExit(EXIT_FINDINGS if pending or any(r.unfixable for r in everything) else EXIT_OK)


def _root_and_files(paths: Sequence[Path], explicit_config: Path | None) -> tuple[Path, tuple[str, ...]]:
    """One directory (default .): the project root. Files (what pre-commit passes): the project they belong to
    (where the config was found, see :func:`guard.scan.partial.project_scope`) and themselves as selections."""
    from guard.scan.partial import project_scope

    if len(paths) <= 1 and not (paths and paths[0].is_file()):
        root = (paths[0] if paths else Path(".")).resolve()
        if not root.is_dir():
            raise GuardError(f"{root}: no such directory; pass the project root (or --select FILE:LINE for one site)")
        return root, ()
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise GuardError(f"{missing[0]}: no such file or directory")
    directories = [p for p in paths if p.is_dir()]
    if directories:
        raise GuardError(f"{directories[0]}: pass either one project directory or files, not both")
    scope = project_scope(paths, load_config(paths[0], explicit_config))
    if scope is None:
        raise GuardError(
            "files are patched within their project: add a guard.toml (or [tool.guard]) at the project root, "
            "or pass the project directory and --select FILE[:LINE]"
        )
    return scope.root, scope.prefixes


def _write_rule(rule: str) -> str:
    """The rule code, checked: a typo would otherwise report "nothing to do" and exit 0."""
    from guard.scan.rules import WRITE_RULES

    codes = [written.code for written in WRITE_RULES]
    if rule.upper() not in codes:
        raise GuardError(f"--rule {rule}: not a rule about writes; use one of {', '.join(codes)}")
    return rule.upper()


def _selector(root: Path, text: str) -> tuple[str, int | None]:
    """FILE[:LINE] with FILE relative to the root (or a path from here that lies inside it).

    A selector naming no file, a file outside the root or line 0 is a usage error: silently patching
    nothing would read as "nothing to fix". A real file at a line without a finding only warns (a stale
    line number), see :func:`_warn_unmatched`.
    """
    relpath, line = parse_selector(text)
    usage = "use --select FILE[:LINE], FILE relative to the project root or to here, LINE from 1"
    if not relpath or line == 0:
        raise GuardError(f"--select {text!r}: not a FILE[:LINE] selector; {usage}")
    located = _located(Path(relpath))
    if not Path(relpath).is_absolute() and not (located.is_relative_to(root) and located.exists()):
        located = _located(root / relpath)
    if not located.is_relative_to(root):
        raise GuardError(f"--select {text!r}: {located} is outside the project root {root}; {usage}")
    if not located.is_file():
        raise GuardError(f"--select {text!r}: no file {located.relative_to(root).as_posix()} in {root}; {usage}")
    return located.relative_to(root).as_posix(), line


def _located(path: Path) -> Path:
    """``path`` made absolute with its directory resolved: a symlinked file keeps the name the scanner uses."""
    absolute = Path(os.path.abspath(path))
    return absolute.parent.resolve() / absolute.name


def _warn_unmatched(selection: SiteSelection, sites: Sequence[PatchSite]) -> None:
    """A --select that matches no finding is most likely a typo or a stale line number: say so."""
    for path, line in selection.locations:
        if not any(site.relpath == path and line in (None, site.line) for site in sites):
            where = f"{path}:{line}" if line is not None else path
            click.echo(f"guard patch: warning: no {selection.label} finding at {where}", err=True)


def _scan(root: Path, config: Config, jobs: int | None, dsn: str | None) -> PatchScan:
    from guard.patch.scanning import scan_for_patch

    try:
        return scan_for_patch(root, config, jobs, dsn)
    except FileNotFoundError as exc:
        raise GuardError(f"{root}: {exc}") from None


def _summarize(patches: list[FilePatch], unfixable: list[SiteResult], selection: SiteSelection) -> None:
    by_file: dict[str, list[SiteResult]] = {}
    for file_patch in patches:
        by_file.setdefault(file_patch.relpath, []).extend(file_patch.results)
    for result in unfixable:
        by_file.setdefault(result.site.relpath, []).append(result)
    everything = [r for results in by_file.values() for r in results]
    if not everything:
        what = f"{selection.label} findings" + (" at the selected sites" if selection.locations else "")
        click.echo(f"guard patch: no {what}: nothing to do", err=True)
        return
    fixed = [r for r in everything if r.fixed]
    fallbacks = [r for r in fixed if r.fallback]
    broken = [r for r in everything if r.unfixable]
    for relpath in sorted(by_file):
        results = sorted(by_file[relpath], key=lambda r: r.site.line)
        counts = f"{sum(r.fixed for r in results)} fixed, {sum(r.unfixable for r in results)} unfixable"
        click.echo(f"{relpath}: {counts}", err=True)
        for result in results:
            click.echo(f"  {result.describe()}", err=True)
    click.echo(
        f"guard patch: {len(everything)} site(s) in {len(by_file)} file(s): {len(fixed)} fixed"
        f" ({len(fallbacks)} {FALLBACK_NOTE}), {len(broken)} unfixable",
        err=True,
    )


def _apply(root: Path, patches: list[FilePatch], backup_dir: Path | None, force: bool) -> bool:
    """Write the patches; True when a file was refused."""
    from guard.patch.apply import apply_patches, check_backup_dir, clean_stale_temp_files, default_backup_dir

    target = (backup_dir if backup_dir is not None else default_backup_dir(root)).resolve()
    if any(p.changed for p in patches):
        check_backup_dir(root, target)
    for stale in clean_stale_temp_files(root, [p.relpath for p in patches]):
        click.echo(f"guard patch: removed {stale}, left by an interrupted earlier run", err=True)
    outcomes = apply_patches(root, patches, target, force)
    written = [o for o in outcomes if not o.error]
    for outcome in outcomes:
        if outcome.error:
            click.echo(f"guard: error: {outcome.relpath}: {outcome.error}", err=True)
    if written:
        shown = os.path.relpath(target, Path.cwd())
        click.echo(f"guard patch: wrote {len(written)} file(s); originals in {shown}", err=True)
    else:
        click.echo("guard patch: no file written", err=True)
    return len(written) != len(outcomes)
