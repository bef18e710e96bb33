"""Partial scans: report on some files, but judge them with the whole project's catalog.

A pre-commit hook passes the changed file names, not the repository. Scanning only those files reads only
their DDL, so a write into ``titan.jobs`` whose ``DEFAULT now()`` lives in ``schema/`` looks like a write into
an unknown table (a LOW finding, exit 0) where a full scan says CRITICAL. So when the configuration was found
above the scanned paths, the scan covers the project root it was found in — its DDL, models and cross-module
constants feed the catalog — and the report is then restricted to the paths asked for. Paths are reported
relative to the project root, so a partial scan and a full scan name (and baseline) a site the same way.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from guard.config import Config
from guard.errors import GuardError
from guard.model import Diagnostic, ScanResult
from guard.scan.discover import discover


@dataclass(frozen=True)
class PartialScope:
    """Scan ``root``; report only what lies in ``prefixes`` (relative, ``/``-separated; a file or a directory)."""

    root: Path
    prefixes: tuple[str, ...]


def project_scope(paths: Sequence[Path], config: Config) -> PartialScope | None:
    """The project scope of ``paths``, or None when they are scanned on their own.

    They are widened to the project when the configuration was found by the upward search (so its directory
    is the project root) and every path lies inside that root; a path that *is* the root needs no widening.
    """
    if config.root is None or not config.origin.startswith("found"):
        return None
    root = config.root.resolve()
    prefixes = []
    for path in paths:
        absolute = _absolute(path)
        if not absolute.is_relative_to(root):
            raise GuardError(
                f"{path} is outside the project root {root} (where {config.source} was found); "
                "scan paths of one project at a time, or pass --config"
            )
        relative = absolute.relative_to(root).as_posix()
        if relative == ".":
            return None
        prefixes.append(relative)
    return PartialScope(root=root, prefixes=tuple(prefixes))


def _absolute(path: Path) -> Path:
    """``path`` absolute with its directories resolved (symlinked files keep their own name, as in discovery)."""
    absolute = Path(os.path.abspath(path))
    return absolute.resolve() if absolute.is_dir() else absolute.parent.resolve() / absolute.name


def _inside(relpath: str, prefixes: tuple[str, ...]) -> bool:
    return any(relpath == prefix or relpath.startswith(prefix + "/") for prefix in prefixes)


def restrict(result: ScanResult, scope: PartialScope, config: Config) -> ScanResult:
    """The result with findings, writes and file diagnostics limited to the scope's paths.

    ``tables`` and ``catalog`` stay whole: they describe the project's tables, which is what the scope's
    writes were judged against. The file and statement counts are the scope's; ``catalog_files`` keeps the
    project's. A named file the scan did not read (excluded by config or ignored by git) is
    said so in a diagnostic rather than passing silently.
    """
    diagnostics = [d for d in result.diagnostics if _inside(d.path, scope.prefixes)]
    named_files = [prefix for prefix in scope.prefixes if (scope.root / prefix).is_file()]
    if named_files:
        found = discover(scope.root, config.include, config.exclude, config.max_file_size)
        read = {f.relpath for f in found.files} | {d.path for d in found.diagnostics}
        diagnostics += [
            Diagnostic(name, 0, "not-scanned", "not read: excluded by the config's include/exclude, or ignored by git")
            for name in named_files
            if name not in read
        ]
    counted = {path: n for path, n in result.statements_by_file.items() if _inside(path, scope.prefixes)}
    return dataclasses.replace(
        result,
        findings=[f for f in result.findings if _inside(f.relpath, scope.prefixes)],
        writes=[w for w in result.writes if _inside(w.write.relpath, scope.prefixes)],
        diagnostics=diagnostics,
        # the summary counts what was asked for; the rest of the project is said to have fed the catalog
        files_scanned=sum(1 for source in result.sources if _inside(source.relpath, scope.prefixes)),
        files_with_sql=len(counted),
        statements=sum(counted.values()),
        statements_by_file=counted,
        catalog_files=result.files_scanned,
    )
