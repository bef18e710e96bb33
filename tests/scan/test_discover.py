"""Discovery: which files a scan reads, in git work trees and plain directories."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from guard.scan.discover import GlobFilter, discover


def _write(root: Path, relpath: str, text: str = "x = 1\n") -> None:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _relpaths(root: Path, **kwargs: object) -> list[str]:
    return [f.relpath for f in discover(root, **kwargs).files]  # type: ignore[arg-type]


def test_plain_directory_skips_build_output_caches_and_virtualenvs(tmp_path: Path) -> None:
    for relpath in (
        "app/db.py",
        "app/gui.pyw",
        "schema/001.sql",
        "schema/002.psql",
        "schema/003.pgsql",
        "README.md",
        "node_modules/pkg/x.py",
        "build/lib/app.py",
        "dist/app.py",
        "app/__pycache__/db.py",
        ".tox/py311/x.py",
        ".git/hooks/x.py",
        "env/lib/python3.11/site-packages/psycopg/x.py",
    ):
        _write(tmp_path, relpath)
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    assert _relpaths(tmp_path) == ["app/db.py", "app/gui.pyw", "schema/001.sql", "schema/002.psql", "schema/003.pgsql"]
    languages = {f.relpath: f.language for f in discover(tmp_path).files}
    assert languages["app/gui.pyw"] == "python" and languages["schema/002.psql"] == "sql"


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_git_work_tree_lists_tracked_and_untracked_but_not_ignored(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    _write(tmp_path, ".gitignore", "generated/\n*.tmp.py\n")
    _write(tmp_path, "tracked.py")
    _write(tmp_path, "untracked.sql", "select 1;\n")
    _write(tmp_path, "generated/big.py")
    _write(tmp_path, "scratch.tmp.py")
    _write(tmp_path, "build/real_source.py")  # tracked build/ dirs are real source in a git tree
    subprocess.run(["git", "-C", str(tmp_path), "add", "tracked.py", "build/real_source.py"], check=True)
    assert _relpaths(tmp_path) == ["build/real_source.py", "tracked.py", "untracked.sql"]
    # a subdirectory of a work tree lists relative to itself
    _write(tmp_path, "pkg/inner.py")
    assert _relpaths(tmp_path / "pkg") == ["inner.py"]


def test_include_exclude_globs(tmp_path: Path) -> None:
    for relpath in ("app/a.py", "app/legacy/b.py", "legacy/c.py", "db/schema.sql", "db/seed/data.sql", "tools/x.py"):
        _write(tmp_path, relpath)
    assert _relpaths(tmp_path, exclude=["legacy/**"]) == [
        "app/a.py",
        "app/legacy/b.py",
        "db/schema.sql",
        "db/seed/data.sql",
        "tools/x.py",
    ]
    assert _relpaths(tmp_path, exclude=["legacy"]) == ["app/a.py", "db/schema.sql", "db/seed/data.sql", "tools/x.py"]
    assert _relpaths(tmp_path, include=["**/*.sql"]) == ["db/schema.sql", "db/seed/data.sql"]
    assert _relpaths(tmp_path, include=["app/**", "db/*.sql"], exclude=["**/legacy/**"]) == [
        "app/a.py",
        "db/schema.sql",
    ]


def test_glob_semantics() -> None:
    glob = GlobFilter(include=["src/**/*.py"], exclude=["*_test.py", "src/gen?/**"])
    assert glob.wants_file("src/a.py")
    assert glob.wants_file("src/deep/er/a.py")
    assert not glob.wants_file("other/a.py")
    assert not glob.wants_file("src/deep/a_test.py")
    assert not glob.wants_file("src/gen1/a.py")
    assert glob.wants_file("src/gen12/a.py")


def test_large_files_are_reported_not_read(tmp_path: Path) -> None:
    _write(tmp_path, "small.sql", "select 1;\n")
    _write(tmp_path, "huge.sql", "-- x\n" * 1000)
    found = discover(tmp_path, max_file_size=1000)
    assert [f.relpath for f in found.files] == ["small.sql"]
    [diagnostic] = found.diagnostics
    assert (diagnostic.path, diagnostic.kind) == ("huge.sql", "skipped-large")
    assert "max_file_size" in diagnostic.message


def test_symlinks_never_leave_the_root_or_loop(tmp_path: Path) -> None:
    root, outside = tmp_path / "repo", tmp_path / "outside"
    _write(root, "app/a.py")
    _write(outside, "secret.py")
    _write(outside, "dir/other.py")
    os.symlink(outside / "secret.py", root / "app" / "link_out.py")
    os.symlink(outside / "dir", root / "dir_out")
    os.symlink(root / "app", root / "app" / "loop")  # app/loop -> app
    os.symlink(root / "app" / "a.py", root / "alias.py")  # inside the root: fine
    # outside links are dropped; the loop is entered at most once (app/loop is app itself, already walked)
    assert _relpaths(root) == ["alias.py", "app/a.py"]


def test_single_file_and_missing_root(tmp_path: Path) -> None:
    _write(tmp_path, "one.sql", "select 1;\n")
    found = discover(tmp_path / "one.sql")
    assert [f.relpath for f in found.files] == ["one.sql"] and found.root == tmp_path.resolve()
    with pytest.raises(FileNotFoundError):
        discover(tmp_path / "nope")


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_directory_ignored_by_the_enclosing_repository_is_walked(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    _write(tmp_path, ".gitignore", "venv/\n")
    _write(tmp_path, "venv/lib/site-packages/pkg/db.py")
    assert _relpaths(tmp_path) == []  # from the repository's root: ignored
    assert _relpaths(tmp_path / "venv" / "lib" / "site-packages") == ["pkg/db.py"]  # asked for explicitly


def test_unreadable_directory_is_a_diagnostic_not_a_silent_gap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, "ok/a.sql", "select 1;\n")
    _write(tmp_path, "locked/b.sql", "select 1;\n")
    real_scandir = os.scandir
    locked = str(tmp_path / "locked")

    def scandir(path: str) -> object:  # root may read any directory, so deny one the way the OS would
        if str(path) == locked:
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(shutil, "which", lambda _name: None)  # the plain walk, as outside a git work tree
    found = discover(tmp_path)
    assert [f.relpath for f in found.files] == ["ok/a.sql"]
    assert [(d.path, d.kind) for d in found.diagnostics] == [("locked", "io-error")]
    assert "Permission denied" in found.diagnostics[0].message
