"""The dry-run diff must be accepted by ``git apply`` as is, including files without a final newline."""

from __future__ import annotations

import subprocess
from pathlib import Path

from guard.patch.diff import unified_diff


def test_diff_without_final_newline_applies_with_git(tmp_path: Path) -> None:
    before = "a = 1\nb = 2"
    after = "a = 1\nb = 3"
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text(before)
    diff = unified_diff("pkg/m.py", before, after)
    assert diff.startswith("diff --git a/pkg/m.py b/pkg/m.py\n--- a/pkg/m.py\n+++ b/pkg/m.py\n")
    assert "\\ No newline at end of file" in diff
    (tmp_path / "change.diff").write_text(diff)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "apply", "change.diff"], check=True)
    assert (tmp_path / "pkg" / "m.py").read_text() == after


def test_no_change_no_diff() -> None:
    assert unified_diff("x.py", "same\n", "same\n") == ""
