"""``--format concise``: one line per finding, like ruff's, for logs, pipes, grep and editors' quickfix lists.

``path:line:col: RULE [severity] table: message`` — the path as given on the command line joined with the
finding's relative path, so an editor started from the same directory can jump to it — then one summary
line (left out with ``quiet``). It is the default when stdout is not a terminal.
"""

from __future__ import annotations

import os
from pathlib import Path

from guard.model import ScanResult
from guard.report.common import summary_line


def render(result: ScanResult, *, shown_root: str | None = None, quiet: bool = False) -> str:
    """``shown_root``: how to print the scan root (default: relative to the current directory when inside it)."""
    root = shown_root if shown_root is not None else display_root(result.root)
    lines = []
    for f in result.findings:
        path = f.relpath if root in ("", ".") else f"{root.rstrip('/')}/{f.relpath}"
        table = f" {f.table}:" if f.table else ""
        lines.append(f"{path}:{f.line}:{max(1, f.column)}: {f.rule} [{f.severity.value}]{table} {f.message}")
    if not quiet:
        lines.append(summary_line(result))
    return "\n".join(lines) + ("\n" if lines else "")


def display_root(root: str) -> str:
    """The scan root relative to the current directory when it lies inside it, else as it is."""
    here = Path.cwd().resolve()
    target = Path(root).resolve()
    if target == here:
        return "."
    if target.is_relative_to(here):
        return target.relative_to(here).as_posix()
    return os.fspath(target)
