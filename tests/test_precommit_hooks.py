"""The pre-commit hooks, run the way a user's repository runs them: ``pre-commit try-repo`` against this repo.

pre-commit builds guard from a snapshot of this checkout in its own virtualenv (so the hook definitions,
the packaging and the console script are all exercised), then runs the hooks on the file names it passes.
The snapshot is a git repository made from every tracked and untracked (not ignored) file, so the test sees
work in progress too. Installing the hook's environment downloads guard's dependencies from PyPI: slow.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from repo_snapshot import REPO_ROOT, git, snapshot

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
SCHEMA = "CREATE TABLE jobs (id bigserial, st_id bigint, created_at timestamptz DEFAULT now());\n"
FINDING = 'def push(cur, job):\n    cur.execute("INSERT INTO jobs (st_id) VALUES (%s)", (job["id"],))\n'
CLEAN = 'def push(cur, job):\n    cur.execute("INSERT INTO jobs (st_id, created_at) VALUES (%s, %s)", job)\n'


def test_hook_definitions() -> None:
    hooks = {hook["id"]: hook for hook in yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"guard-scan", "guard-patch"}
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["entry"].startswith("guard ")
        assert set(hook["types_or"]) == {"python", "sql"}
        assert hook.get("pass_filenames", True)  # the hooks work from the file names pre-commit passes
    assert "--check" in hooks["guard-patch"]["entry"]


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot(tmp_path_factory.mktemp("hooks") / "guard")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A user's repository: DDL at the root, guard.toml, the code in a subdirectory, all staged."""
    project = tmp_path / "project"
    (project / "app").mkdir(parents=True)
    (project / "db").mkdir()
    (project / "db" / "schema.sql").write_text(SCHEMA)
    (project / "guard.toml").write_text('fail_on = "medium"\n[tables."public.jobs"]\nseverity = "high"\n')
    (project / "app" / "sync.py").write_text(FINDING)
    (project / "app" / "clean.py").write_text(CLEAN)
    (project / "README.md").write_text("not code\n")
    git(project, "init", "-q")
    git(project, "add", ".")
    return project


def _try_repo(hook_repo: Path, project: Path, hook: str, *files: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(hook_repo.parent / "pre-commit-home"), "NO_COLOR": "1"}
    selection = ["--files", *files] if files else ["--all-files"]
    return subprocess.run(
        [str(PRE_COMMIT), "try-repo", str(hook_repo), hook, *selection, "--verbose"],
        cwd=project, env=env, capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip


@pytest.mark.slow
def test_guard_scan_hook(hook_repo: Path, project: Path) -> None:
    failing = _try_repo(hook_repo, project, "guard-scan")
    assert failing.returncode == 1, failing.stdout + failing.stderr
    # judged within the project: the DDL in db/ makes jobs guarded, so the staged file's write is HIGH
    assert "app/sync.py:2:" in failing.stdout and "GRD001 [high] public.jobs" in failing.stdout
    assert "clean.py" not in failing.stdout.split("- exit code")[1]

    passing = _try_repo(hook_repo, project, "guard-scan", "app/clean.py")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "Passed" in passing.stdout


@pytest.mark.slow
def test_guard_patch_hook(hook_repo: Path, project: Path) -> None:
    failing = _try_repo(hook_repo, project, "guard-patch", "app/sync.py", "app/clean.py")
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "+++ b/app/sync.py" in failing.stdout and "created_at" in failing.stdout
    assert (project / "app" / "sync.py").read_text() == FINDING  # a dry run: nothing written

    passing = _try_repo(hook_repo, project, "guard-patch", "app/clean.py")
    assert passing.returncode == 0, passing.stdout + passing.stderr
