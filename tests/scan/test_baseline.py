"""Baselines: fingerprints survive line shifts and formatting; new findings still fail."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from guard.cli import cli
from guard.scan.baseline import normalize_statement

SCHEMA = "CREATE TABLE jobs (id serial, st_id int, total numeric, created_at timestamptz DEFAULT now());\n"
WRITES = (
    "def push(cur):\n"
    '    cur.execute("INSERT INTO jobs (st_id) VALUES (%s)", (1,))\n'
    '    cur.execute("INSERT INTO jobs (st_id) VALUES (%s)", (2,))\n'
)


def test_normalization_ignores_layout_case_and_comments_but_not_literals() -> None:
    a = normalize_statement("INSERT INTO jobs (st_id) VALUES ('Abc')")
    assert a == normalize_statement("insert  into JOBS\n  (st_id) -- note\n values ('Abc')")
    assert a != normalize_statement("INSERT INTO jobs (st_id) VALUES ('abc')")
    assert normalize_statement('INSERT INTO "Jobs" (a) VALUES (1)') != normalize_statement(
        "INSERT INTO jobs (a) VALUES (1)"
    )
    assert normalize_statement("INSERT 'unterminated") == "insert 'unterminated"


def _scan(root: Path, *args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["scan", str(root), "--format", "json", "--no-progress", *args])
    return result.exit_code, json.loads(result.output) if result.output.startswith("{") else {}


def test_baseline_survives_line_shifts_and_catches_new_findings(tmp_path: Path) -> None:
    repo, baseline = tmp_path / "repo", tmp_path / "guard-baseline.json"
    repo.mkdir()
    (repo / "schema.sql").write_text(SCHEMA)
    (repo / "app.py").write_text(WRITES)
    code, before = _scan(repo, "--fail-on", "low")
    assert code == 1 and len(before["findings"]) == 2
    assert len({f["fingerprint"] for f in before["findings"]}) == 2  # identical statements: distinct occurrences

    code, _ = _scan(repo, "--baseline", str(baseline), "--write-baseline")
    assert code == 0
    recorded = json.loads(baseline.read_text())
    assert recorded["version"] == 1 and len(recorded["findings"]) == 2

    # shift every line and reformat: still known
    (repo / "app.py").write_text(
        '"""Pushes jobs."""\n\nimport os\n\n\n' + WRITES.replace("INSERT INTO", "INSERT  INTO")
    )
    code, after = _scan(repo, "--baseline", str(baseline), "--fail-on", "low")
    assert code == 0 and after["findings"] == []

    # a third identical write and a different one are new
    (repo / "app.py").write_text(
        WRITES
        + '    cur.execute("INSERT INTO jobs (st_id) VALUES (%s)", (3,))\n'
        + '    cur.execute("INSERT INTO jobs (total) VALUES (%s)", (4,))\n'
    )
    code, new = _scan(repo, "--baseline", str(baseline), "--fail-on", "low")
    assert code == 1 and [f["line"] for f in new["findings"]] == [4, 5]


def test_bad_or_missing_baseline_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "schema.sql").write_text(SCHEMA)
    runner = CliRunner()
    missing = runner.invoke(cli, ["scan", str(tmp_path), "--baseline", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and "baseline not found" in missing.output
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 99}')
    wrong = runner.invoke(cli, ["scan", str(tmp_path), "--baseline", str(bad)])
    assert wrong.exit_code == 2 and "not a guard baseline" in wrong.output
    flag_only = runner.invoke(cli, ["scan", str(tmp_path), "--write-baseline"])
    assert flag_only.exit_code == 2 and "--baseline" in flag_only.output
