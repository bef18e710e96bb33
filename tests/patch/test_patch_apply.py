"""``--apply`` safety: refusals leave files untouched, writes are atomic and backed up."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from guard.codemods.patchers import PATCHERS
from guard.patch.apply import apply_patches, default_backup_dir
from guard.patch.planner import FilePatch, plan, plan_file
from guard.patch.site import PatchSite, ValueSource

SOURCE = 'def save(cur, job):\n    cur.execute("INSERT INTO jobs (id) VALUES (%s)", (job["id"],))\n'
SITE = PatchSite("app.py", 2, "jobs", "created_at", values=ValueSource(source_field="createdOn"))


def test_apply_writes_atomically_keeps_mode_and_backs_up(root: Path, tmp_path: Path) -> None:
    os.chmod(root / "app.py", 0o640)
    patch = plan_file(str(root), "app.py", [SITE], PATCHERS)
    assert patch.changed
    [outcome] = apply_patches(root, [patch], tmp_path / "backup")
    assert outcome.error == ""
    assert (root / "app.py").read_text() == patch.patched
    assert 'job.get("createdOn")' in patch.patched
    assert stat.S_IMODE((root / "app.py").stat().st_mode) == 0o640
    assert (tmp_path / "backup" / "app.py").read_text() == SOURCE
    assert sorted(p.name for p in root.iterdir()) == ["app.py"]  # no temp file left behind


def test_file_changed_since_scan_is_refused(root: Path, tmp_path: Path) -> None:
    patch = plan_file(str(root), "app.py", [SITE], PATCHERS)
    (root / "app.py").write_text(SOURCE + "# edited meanwhile\n")
    [outcome] = apply_patches(root, [patch], tmp_path / "backup")
    assert "changed since it was scanned" in outcome.error
    assert (root / "app.py").read_text().endswith("# edited meanwhile\n")
    assert not (tmp_path / "backup").exists()


def test_result_that_does_not_parse_is_refused(root: Path, tmp_path: Path) -> None:
    patch = plan_file(str(root), "app.py", [SITE], PATCHERS)
    patch.patched = patch.patched.replace("(job[", "((job[")
    [outcome] = apply_patches(root, [patch], tmp_path / "backup")
    assert "would not parse" in outcome.error
    assert (root / "app.py").read_text() == SOURCE


def test_symlink_leading_outside_the_root_is_refused(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.py"
    outside.write_text(SOURCE)
    (root / "linked.py").symlink_to(outside)
    patch = plan_file(str(root), "linked.py", [PatchSite("linked.py", 2, "jobs", "created_at")], PATCHERS)
    assert patch.changed
    [outcome] = apply_patches(root, [patch], tmp_path / "backup")
    assert "outside the root" in outcome.error
    assert outside.read_text() == SOURCE


def test_planner_refuses_files_it_cannot_read_or_parse(root: Path) -> None:
    (root / "broken.py").write_text("def save(:\n")
    patch = plan_file(str(root), "broken.py", [PatchSite("broken.py", 1, "jobs", "created_at")], PATCHERS)
    assert patch.error.startswith("cannot patch the file") and not patch.changed
    assert patch.results[0].unfixable
    (root / "latin1.py").write_bytes(b"# caf\xe9\n")
    latin1 = [PatchSite("latin1.py", 1, "jobs", "created_at")]
    assert "UTF-8" in plan_file(str(root), "latin1.py", latin1, PATCHERS).error


def test_unchanged_patches_are_not_written(root: Path, tmp_path: Path) -> None:
    untouched = FilePatch("app.py", "python", SOURCE, SOURCE, "digest")
    assert apply_patches(root, [untouched], tmp_path / "backup") == []


def test_parallel_planning_matches_sequential(tmp_path: Path) -> None:
    sites = []
    for n in range(6):
        relpath = f"m{n}.py"
        (tmp_path / relpath).write_text(SOURCE)
        sites.append(PatchSite(relpath, 2, "jobs", "created_at", values=ValueSource(source_field="createdOn")))
    sequential = plan(tmp_path, sites, PATCHERS, jobs=1)
    parallel = plan(tmp_path, sites, PATCHERS, jobs=2)
    assert [(p.relpath, p.patched, p.digest) for p in parallel] == [
        (p.relpath, p.patched, p.digest) for p in sequential
    ]
    assert all(p.changed and p.results[0].fixed for p in parallel)


def test_an_existing_backup_is_never_overwritten(root: Path, tmp_path: Path) -> None:
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "app.py").write_text("# the real original\n")
    patch = plan_file(str(root), "app.py", [SITE], PATCHERS)
    [outcome] = apply_patches(root, [patch], tmp_path / "backup")
    assert "already exists" in outcome.error
    assert (tmp_path / "backup" / "app.py").read_text() == "# the real original\n"
    assert (root / "app.py").read_text() == SOURCE


def test_default_backup_directories_are_unique(root: Path) -> None:
    first = default_backup_dir(root)
    first.mkdir(parents=True)
    assert default_backup_dir(root) != first
