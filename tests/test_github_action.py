"""``action.yml``: a valid composite action whose shell steps, run here as the runner would run them, work.

The ``uses:`` steps (setup-python, upload-sarif) are GitHub's own and only checked for their wiring; every
``run:`` step is executed with bash in order, with the step's ``env`` evaluated from the inputs and
``GITHUB_OUTPUT``/``GITHUB_ACTION_PATH`` set like the runner does, against a temporary repository: guard is
installed from a snapshot of this checkout into a fresh virtualenv, the scan writes SARIF, the failing step
fails. Installing pulls guard's dependencies from PyPI (or pip's cache): slow.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from repo_snapshot import REPO_ROOT, git, snapshot

ACTION = yaml.safe_load((REPO_ROOT / "action.yml").read_text())
_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _steps() -> dict[str, dict[str, Any]]:
    return {step["name"]: step for step in ACTION["runs"]["steps"]}


def test_action_is_a_valid_composite_action() -> None:
    assert ACTION["name"] and ACTION["description"]
    assert ACTION["runs"]["using"] == "composite"
    inputs = ACTION["inputs"]
    assert set(inputs) == {"path", "config", "fail-on", "diff-base", "sarif-file", "upload", "python-version"}
    for name, spec in inputs.items():
        assert spec["description"] and "default" in spec and spec["required"] is False, name
    assert inputs["diff-base"]["default"] == "" and inputs["fail-on"]["default"] == "high"
    steps = _steps()
    for step in steps.values():
        assert ("uses" in step) != ("run" in step)
        if "run" in step:
            assert step["shell"] == "bash"  # composite run steps must name their shell
            assert "${{" not in step["run"]  # inputs come through env, never spliced into the script
    assert steps["Set up Python"]["uses"].startswith("actions/setup-python@")
    upload = steps["Upload SARIF to code scanning"]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif-file }}"
    assert "always()" in upload["if"] and "exit-code != '2'" in upload["if"]
    assert ACTION["outputs"]["exit-code"]["value"] == "${{ steps.scan.outputs.exit-code }}"


def test_readme_documents_every_input() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    for name in ACTION["inputs"]:
        assert f"`{name}`" in readme, name
    assert "uses: " in readme and "diff-base:" in readme


def _evaluate(text: str, inputs: dict[str, str], outputs: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        expression = match.group(1)
        if expression.startswith("inputs."):
            return inputs[expression.removeprefix("inputs.")]
        if expression.startswith("steps.scan.outputs."):
            return outputs.get(expression.removeprefix("steps.scan.outputs."), "")
        raise AssertionError(f"unexpected expression {expression}")

    return _EXPRESSION.sub(value, text)


def _run_steps(workspace: Path, action_path: Path, venv: Path, given: dict[str, str]) -> tuple[list[int], dict]:
    """Run the action's shell steps in order like the runner (conditions evaluated by hand: none of them
    is taken here except the failure step's). Returns each step's exit code and the scan's outputs."""
    inputs = {name: spec["default"] for name, spec in ACTION["inputs"].items()} | given
    outputs: dict[str, str] = {}
    codes = []
    for step in ACTION["runs"]["steps"]:
        if "run" not in step:
            continue
        if step.get("if") and "exit-code != '0'" in step["if"] and outputs.get("exit-code") == "0":
            continue
        output_file = workspace.parent / f"output-{len(codes)}"
        output_file.write_text("")
        env = {
            **os.environ,
            "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
            "GITHUB_ACTION_PATH": str(action_path),
            "GITHUB_OUTPUT": str(output_file),
            "GITHUB_WORKSPACE": str(workspace),
            "NO_COLOR": "1",
        }
        env.pop("VIRTUAL_ENV", None)
        env |= {key: _evaluate(str(value), inputs, outputs) for key, value in step.get("env", {}).items()}
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=workspace, env=env, capture_output=True, text=True, timeout=1200, check=False,
        )  # fmt: skip
        codes.append(done.returncode)
        for line in output_file.read_text().splitlines():
            key, _, value = line.partition("=")
            outputs[key] = value
        outputs[f"stdout-{step['name']}"] = done.stdout + done.stderr
    return codes, outputs


@pytest.mark.slow
def test_action_steps_run_locally(tmp_path: Path) -> None:
    action_path = snapshot(tmp_path / "action")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    workspace = tmp_path / "workspace"
    (workspace / "app").mkdir(parents=True)
    (workspace / "schema.sql").write_text(
        "CREATE TABLE jobs (id bigserial, st_id bigint, created_at timestamptz DEFAULT now());\n"
    )
    (workspace / "app" / "old.py").write_text('def a(cur):\n    cur.execute("INSERT INTO jobs (st_id) VALUES (1)")\n')
    git(workspace, "init", "-q", "-b", "main")
    git(workspace, "add", ".")
    git(workspace, "commit", "-qm", "base")
    git(workspace, "checkout", "-qb", "pr")
    (workspace / "app" / "new.py").write_text('def b(cur):\n    cur.execute("INSERT INTO jobs (st_id) VALUES (2)")\n')
    git(workspace, "add", ".")
    git(workspace, "commit", "-qm", "pr")

    codes, outputs = _run_steps(workspace, action_path, venv, {"fail-on": "medium"})
    assert codes[0] == 0, outputs["stdout-Install guard"]  # install
    assert codes[1] == 0, outputs["stdout-Run guard scan"]  # the scan step records the code, never fails
    assert outputs["exit-code"] == "1"
    assert codes[2] == 1  # the failure step fails the job
    sarif = json.loads((workspace / "guard.sarif").read_text())
    assert sorted(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]
    ) == [
        "app/new.py",
        "app/old.py",
    ]
    assert "::warning file=app/new.py,line=2" in outputs["stdout-Run guard scan"]

    codes, outputs = _run_steps(workspace, action_path, venv, {"fail-on": "medium", "diff-base": "main"})
    assert outputs["exit-code"] == "1"
    results = json.loads((workspace / "guard.sarif").read_text())["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results] == ["app/new.py"]

    (workspace / "app" / "new.py").unlink()
    codes, outputs = _run_steps(workspace, action_path, venv, {"fail-on": "medium", "diff-base": "main"})
    assert outputs["exit-code"] == "0" and codes == [0, 0]  # nothing new: the failure step is skipped
