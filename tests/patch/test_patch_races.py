"""--apply against concurrent edits, interrupted runs and read-only files (the issue-14 review of guard patch)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_patch_apply import SITE, SOURCE

from guard.cli import cli
from guard.codemods.patchers import PATCHERS
from guard.patch import apply as apply_module
from guard.patch.apply import apply_patches, clean_stale_temp_files
from guard.patch.planner import plan_file

EDITED = SOURCE + "# saved by an editor meanwhile\n"


def edit_in_place(path: Path) -> None:
    with open(path, "r+b") as handle:  # same inode: only size, mtime and content tell
        handle.write(EDITED.encode())
        handle.truncate()


def save_by_rename(path: Path) -> None:
    temp = path.with_name(path.name + ".editor-swp")
    temp.write_text(EDITED)
    os.replace(temp, path)


@pytest.mark.parametrize("editor", [edit_in_place, save_by_rename])
def test_an_edit_between_the_check_and_the_rename_is_never_lost(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, editor: Callable[[Path], None]
) -> None:
    """The other writer saves after guard checked the file and wrote its temp copy, right before the rename."""
    real = apply_module._unchanged

    def edited_meanwhile(*args: Any) -> bool:
        editor(root / "app.py")
        return real(*args)

    monkeypatch.setattr(apply_module, "_unchanged", edited_meanwhile)
    patch = plan_file(str(root), "app.py", [SITE], PATCHERS)
    [outcome] = apply_patches(root, [patch], tmp_path / "backup")
    assert "was edited while guard was writing it" in outcome.error
    assert (root / "app.py").read_text() == EDITED
    assert sorted(p.name for p in root.iterdir()) == ["app.py"]


def test_a_read_only_file_is_refused_unless_forced(root: Path, tmp_path: Path) -> None:
    os.chmod(root / "app.py", 0o444)
    patch = plan_file(str(root), "app.py", [SITE], PATCHERS)
    [refused] = apply_patches(root, [patch], tmp_path / "b1")
    assert refused.error == "is read-only (mode 0444): refused; make it writable or pass --force"
    assert (root / "app.py").read_text() == SOURCE
    [forced] = apply_patches(root, [patch], tmp_path / "b2", force=True)
    assert forced.error == "" and (root / "app.py").read_text() == patch.patched
    assert oct((root / "app.py").stat().st_mode & 0o777) == "0o444"


def test_the_cli_refuses_read_only_files_and_names_force(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (root / "guard.toml").write_text('[tables."jobs"]\n')
    (root / "schema.sql").write_text("CREATE TABLE jobs (id int, created_at timestamptz DEFAULT now());\n")
    os.chmod(root / "app.py", 0o444)
    result = CliRunner().invoke(cli, ["patch", str(root), "--apply"])
    assert "read-only (mode 0444): refused; make it writable or pass --force" in result.stderr
    assert result.exit_code == 2 and (root / "app.py").read_text() == SOURCE


def test_backups_are_whole_and_leave_no_temp_files(root: Path, tmp_path: Path) -> None:
    patch = plan_file(str(root), "app.py", [SITE], PATCHERS)
    [outcome] = apply_patches(root, [patch], tmp_path / "backup")
    assert outcome.error == ""
    assert (tmp_path / "backup" / "app.py").read_bytes() == SOURCE.encode()
    assert [p.name for p in (tmp_path / "backup").iterdir()] == ["app.py"]


def test_temp_files_of_interrupted_runs_are_cleaned_on_the_next_run(root: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale_new = root / f".app.py.guard-{dead.pid}.x1y2.guard-tmp"
    stale_old = root / ".app.py.ab12cd34.guard-tmp"  # an older guard's name, without a pid
    live = root / f".app.py.guard-{os.getpid()}.z9.guard-tmp"  # a run still going on: left alone
    unrelated = root / ".app.py.swp"
    for path in (stale_new, stale_old, live, unrelated):
        path.write_text("partial")
    removed = clean_stale_temp_files(root, ["app.py"])
    assert sorted(removed) == sorted([stale_new.name, stale_old.name])
    assert live.exists() and unrelated.exists() and not stale_new.exists() and not stale_old.exists()


def test_sigkill_mid_apply_then_a_plain_rerun_cleans_up(root: Path, tmp_path: Path) -> None:
    """A real SIGKILL while the temp file exists: the file is intact, and the next run removes the temp file."""
    script = (
        "import os, sys, time\n"
        "from pathlib import Path\n"
        "from guard.patch import apply as a\n"
        "from guard.codemods.patchers import PATCHERS\n"
        "from guard.patch.planner import plan_file\n"
        "sys.path.insert(0, 'tests/patch')\nfrom test_patch_apply import SITE\n"
        "def stall(*args):\n"
        "    print('temp written', flush=True); time.sleep(60)\n"
        "a._unchanged = stall\n"
        f"patch = plan_file({str(root)!r}, 'app.py', [SITE], PATCHERS)\n"
        f"a.apply_patches(Path({str(root)!r}), [patch], Path({str(tmp_path / 'b')!r}))\n"
    )
    repo = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=repo, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "temp written"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    leftovers = [p.name for p in root.iterdir() if p.name.endswith(".guard-tmp")]
    assert len(leftovers) == 1 and (root / "app.py").read_text() == SOURCE
    time.sleep(0.01)
    assert clean_stale_temp_files(root, ["app.py"]) == leftovers
    assert sorted(p.name for p in root.iterdir()) == ["app.py"]


def test_a_fifo_swapped_in_before_planning_is_refused_not_waited_on(root: Path) -> None:
    (root / "app.py").unlink()
    os.mkfifo(root / "app.py")
    patch = plan_file(str(root), "app.py", [SITE], PATCHERS)  # a blocking open() would wait for a writer
    assert not patch.changed
    assert any("FIFO" in (result.reason or "") for result in patch.results), patch.results
