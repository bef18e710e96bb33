"""Stale tables with their writers: freshness --scan/--repo names them, scan --dsn raises their findings a level."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
from click.testing import CliRunner, Result

from guard.cli import cli
from guard.db import migrate
from guard.db.operations import GuardSettings, GuardTableOp

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "titan"
CONFIG = str(EXAMPLE / "guard.toml")
CALL_LOG_WRITERS = ["titan/api/sms.py:5", "titan/api/threecx.py:9"]


def guard(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_freshness_scan_names_both_writers_of_the_stale_call_logs(warehouse: str, tmp_path: Path) -> None:
    report = tmp_path / "scan.json"
    guard("scan", str(EXAMPLE), "--format", "json", "-o", str(report))
    result = guard("freshness", "--dsn", warehouse, "--config", CONFIG, "--scan", str(report), "--format", "json")
    assert result.exit_code == 1, result.output
    [stale] = json.loads(result.stdout)["stale_writers"]
    assert stale["table"] == "titan.call_logs" and stale["status"] == "error"
    assert 437 <= stale["age_hours"] < 438
    assert [w["location"] for w in stale["writers"]] == CALL_LOG_WRITERS
    assert stale["writers_omitting_timestamp"] == CALL_LOG_WRITERS
    assert stale["writers"][0]["note"] == "omits created_at: a backfill here re-stamps the backlog"

    text = guard("freshness", "--dsn", warehouse, "--config", CONFIG, "--repo", str(EXAMPLE)).stdout
    assert "titan.call_logs is 437." in text and "2 writer(s) in code" in text
    for writer in CALL_LOG_WRITERS:
        assert f"{writer}" in text
    assert text.count("a backfill here re-stamps the backlog") == 2
    assert "titan.jobs is" not in text  # fresh: not listed


def test_scan_dsn_raises_findings_on_stale_tables_one_level(warehouse: str) -> None:
    plain = json.loads(guard("scan", str(EXAMPLE), "--format", "json").stdout)
    live = json.loads(guard("scan", str(EXAMPLE), "--format", "json", "--dsn", warehouse).stdout)
    before = {(f["path"], f["line"]): f for f in plain["findings"]}
    after = {(f["path"], f["line"]): f for f in live["findings"]}
    for key in [("titan/api/sms.py", 5), ("titan/api/threecx.py", 9)]:
        assert before[key]["severity"] == "high" and after[key]["severity"] == "critical"
        assert after[key]["fingerprint"] == before[key]["fingerprint"]  # baselines still match
        assert "severity raised one level: titan.call_logs is stale (437." in after[key]["why"]
        assert "stamping one ingestion minute on all of it" in after[key]["why"]
    jobs = ("titan/api/portal.py", 7)
    assert after[jobs]["severity"] == before[jobs]["severity"] and "stale" not in after[jobs]["why"]  # fresh table


def test_doctor_shows_stale_writers_and_rollout_verdicts(warehouse: str) -> None:
    migrate.upgrade(warehouse)
    with psycopg.connect(warehouse, autocommit=True) as conn:
        conn.execute(GuardTableOp("titan.invoices", GuardSettings(mode="audit")).to_sql())
        conn.execute("INSERT INTO titan.invoices (st_id, total) VALUES (1, 10)")  # omits created_at: logged
    report = json.loads(
        guard("doctor", "--dsn", warehouse, "--config", CONFIG, "--repo", str(EXAMPLE), "--format", "json").stdout
    )
    freshness = report["sections"]["freshness"]
    assert freshness["writers_omitting_timestamp"] == {"titan.call_logs": CALL_LOG_WRITERS}
    assert freshness["details"][0].endswith(f"; backfill re-stamps via {', '.join(CALL_LOG_WRITERS)}")
    rollout = report["sections"]["rollout"]
    assert rollout["exit_code"] == 1  # audit is letting a phantom in right now
    verdicts = {t["table"]: t for t in rollout["tables"]}
    assert verdicts["titan.invoices"]["verdict"] == "not ready"
    assert verdicts["titan.invoices"]["blockers"][0] == "1 unfixed writer(s): titan/api/estimates.py:8"
    assert verdicts["titan.invoices"]["blockers"][1].startswith("1 violation(s) in the window (last ")
    assert verdicts["titan.call_logs"]["verdict"] == "not protected"
    assert "1 table(s) logged violations in the window" in rollout["summary"]
    text = guard("doctor", "--dsn", warehouse, "--config", CONFIG, "--repo", str(EXAMPLE)).stdout
    assert "titan.invoices (audit): not ready: 1 unfixed writer(s): titan/api/estimates.py:8" in text
    assert len(text.splitlines()) <= 30
