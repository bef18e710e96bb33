"""``guard scan --diff-base REF`` on a temporary git repository: only findings new since the merge base."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from guard.cli import cli
from guard.scan.diffbase import base_tree

SCHEMA = "CREATE TABLE jobs (id bigserial, st_id bigint, created_at timestamptz DEFAULT now());\n"
OLD_WRITE = 'def push(cur, job):\n    cur.execute("INSERT INTO jobs (st_id) VALUES (%s)", (job,))\n'
NEW_WRITE = 'def add(cur, st):\n    cur.execute("INSERT INTO jobs (st_id) VALUES (%(st)s) RETURNING id", {"st": st})\n'


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}  # fmt: skip
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """main: one known finding. feature (checked out): the known one moved down, one new finding."""
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "schema.sql").write_text(SCHEMA)
    (repo / "app" / "sync.py").write_text(OLD_WRITE)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "base")
    _git(repo, "checkout", "-qb", "feature")
    (repo / "app" / "sync.py").write_text("import logging\n\nLOG = logging.getLogger(__name__)\n\n\n" + OLD_WRITE)
    (repo / "app" / "booking.py").write_text(NEW_WRITE)
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "feature")
    return repo


def _scan(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["scan", *args, "--no-progress", "--fail-on", "low"])
    return result.exit_code, result.stdout, result.stderr


def test_only_new_findings_are_reported(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    everything = json.loads(_scan(str(repo), "--format", "json")[1])
    assert sorted(f["path"] for f in everything["findings"]) == ["app/booking.py", "app/sync.py"]

    code, out, _ = _scan(str(repo), "--format", "json", "--diff-base", "main")
    assert code == 1
    document = json.loads(out)
    assert [f["path"] for f in document["findings"]] == ["app/booking.py"]
    code, out, _ = _scan(str(repo), "--format", "concise", "--diff-base", "main")
    assert "app/booking.py:2" in out and "app/sync.py" not in out and "1 in baseline" in out
    assert list(temp.iterdir()) == []  # the base tree is gone


def test_uncommitted_new_finding_is_reported_and_known_one_is_not(repo: Path) -> None:
    (repo / "app" / "booking.py").unlink()
    (repo / "app" / "late.py").write_text(NEW_WRITE.replace("add", "late"))  # not even staged
    code, out, _ = _scan(str(repo), "--format", "concise", "--diff-base", "main")
    assert code == 1 and "app/late.py" in out and "app/sync.py" not in out


def test_nothing_new_exits_0(repo: Path) -> None:
    (repo / "app" / "booking.py").unlink()
    code, out, _ = _scan(str(repo), "--format", "concise", "--diff-base", "main")
    assert code == 0 and out.startswith("0 findings") and "1 in baseline" in out


def test_subdirectory_scan_and_merge_base(repo: Path) -> None:
    # main moves on after the branch point: its new finding is not the feature branch's business
    _git(repo, "checkout", "-q", "main")
    (repo / "app" / "other.py").write_text(NEW_WRITE.replace("add", "other"))
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "main moves on")
    _git(repo, "checkout", "-q", "feature")
    code, out, _ = _scan(str(repo / "app"), "--format", "concise", "--diff-base", "main")
    assert code == 1 and "booking.py" in out and "sync.py" not in out


def test_path_new_on_the_branch_reports_everything(repo: Path) -> None:
    (repo / "svc").mkdir()
    (repo / "svc" / "schema.sql").write_text(SCHEMA)
    (repo / "svc" / "w.py").write_text(OLD_WRITE)
    code, out, _ = _scan(str(repo / "svc"), "--format", "concise", "--diff-base", "main")
    assert code == 1 and "w.py:2" in out


def test_bad_ref_and_no_repository_are_usage_errors(repo: Path, tmp_path: Path) -> None:
    code, _, err = _scan(str(repo), "--diff-base", "no-such-branch")
    assert code == 2 and "no-such-branch" in err and "fetch-depth" in err and "Traceback" not in err
    loose = tmp_path / "loose"
    loose.mkdir()
    code, _, err = _scan(str(loose), "--diff-base", "main")
    assert code == 2 and "not inside a git repository" in err


def test_temporary_tree_removed_on_ctrl_c(repo: Path) -> None:
    seen: list[Path] = []
    with pytest.raises(KeyboardInterrupt), base_tree(repo, "main") as tree:
        assert tree is not None and (tree / "app" / "sync.py").read_text() == OLD_WRITE
        seen.append(tree)
        raise KeyboardInterrupt
    assert not seen[0].exists()


def test_temporary_tree_removed_on_sigterm(repo: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from guard.scan.diffbase import base_tree
        with base_tree(Path({str(repo)!r}), "main") as tree:
            print(tree, flush=True)
            time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    tree = Path(proc.stdout.readline().strip())
    assert tree.is_dir()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    assert not tree.exists()
