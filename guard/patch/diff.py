"""Unified diffs that ``git apply`` accepts (``a/`` and ``b/`` paths relative to the root)."""

from __future__ import annotations

import difflib

_NO_NEWLINE = "\\ No newline at end of file\n"


def unified_diff(relpath: str, before: str, after: str, context: int = 3) -> str:
    """The diff of one file; empty when nothing changed."""
    if before == after:
        return ""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{relpath}",
        tofile=f"b/{relpath}",
        n=context,
    )
    out = [f"diff --git a/{relpath} b/{relpath}\n"]
    for line in lines:
        if line.endswith("\n"):
            out.append(line)
        else:  # the file's last line has no newline: git wants the marker
            out.append(line + "\n" + _NO_NEWLINE)
    return "".join(out)
