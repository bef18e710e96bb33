"""``guard init``: a first guard.toml proposed from the scan, never overwriting one that exists."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from guard.cli import cli
from guard.config import load_config
from guard.model import Severity
from guard.scan.engine import scan

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "titan"


@pytest.fixture
def bare_titan(tmp_path: Path) -> Path:
    """The example without its hand-written guard.toml: what a new user has on day one."""
    root = tmp_path / "titan"
    shutil.copytree(EXAMPLE, root)
    (root / "guard.toml").unlink()
    return root


def _ranking(root: Path) -> list[tuple[str, int, str, str]]:
    return [(f.relpath, f.line, f.rule, f.severity.value) for f in scan(root, load_config(root), jobs=1).findings]


def test_without_config_the_incident_writer_ranks_first_and_critical(bare_titan: Path) -> None:
    findings = scan(bare_titan, load_config(bare_titan), jobs=1).findings
    first = findings[0]
    assert (first.relpath, first.line, first.severity) == ("titan/nexus_titan_migration.py", 12, Severity.CRITICAL)
    assert {e.kind for e in first.evidence} >= {"bulk", "external-records", "batch-context", "business-date"}
    jobs = [f for f in findings if f.table == "titan.jobs"]
    assert jobs and all(f.evidence for f in jobs)


def test_init_writes_a_starter_config_that_ranks_like_the_hand_written_one(bare_titan: Path) -> None:
    result = CliRunner().invoke(cli, ["init", str(bare_titan)])
    assert result.exit_code == 0, result.output
    written = (bare_titan / "guard.toml").read_text()
    data = tomllib.loads(written)
    jobs = data["tables"]["titan.jobs"]
    assert jobs["business_column"] == "scheduled_at"
    assert jobs["severity"] == "critical"
    assert jobs["source_field"] == "createdOn"  # scheduledOn -> createdOn, marked for checking
    assert "check: named after the sibling key 'scheduledOn'" in written
    assert data["tables"]["titan.estimates"]["business_column"] == "sold_on"
    assert "titan.metric_history" not in data["tables"]  # no created_at: nothing to guard
    load_config(bare_titan)  # valid for every command

    hand_written = _ranking(EXAMPLE)
    assert _ranking(bare_titan) == hand_written


def test_init_never_overwrites_it_prints_a_diff(bare_titan: Path) -> None:
    mine = '# mine\ntimestamp_column = "created_at"\n'
    (bare_titan / "guard.toml").write_text(mine)
    result = CliRunner().invoke(cli, ["init", str(bare_titan)])
    assert result.exit_code == 1
    assert (bare_titan / "guard.toml").read_text() == mine
    assert result.stdout.startswith(f"--- {bare_titan / 'guard.toml'}")
    assert '+[tables."titan.jobs"]' in result.stdout
    assert "left untouched" in result.stderr


def test_init_to_stdout_and_bad_paths(bare_titan: Path, tmp_path: Path) -> None:
    printed = CliRunner().invoke(cli, ["init", str(bare_titan), "--print"])
    assert printed.exit_code == 0 and '[tables."titan.jobs"]' in printed.stdout
    assert not (bare_titan / "guard.toml").exists()
    missing = CliRunner().invoke(cli, ["init", str(tmp_path / "nope")])
    assert missing.exit_code == 2
    elsewhere = CliRunner().invoke(cli, ["init", str(bare_titan), "--file", str(tmp_path / "no" / "dir" / "g.toml")])
    assert elsewhere.exit_code == 2 and "not a directory" in elsewhere.stderr


def test_init_next_to_a_pyproject_config_says_which_one_wins(bare_titan: Path) -> None:
    (bare_titan / "pyproject.toml").write_text('[tool.guard]\nsearch_path = ["titan", "public"]\n')
    result = CliRunner().invoke(cli, ["init", str(bare_titan)])
    assert result.exit_code == 0, result.output
    assert (bare_titan / "guard.toml").is_file()
    assert "pyproject.toml [tool.guard] also configures guard" in result.stderr
