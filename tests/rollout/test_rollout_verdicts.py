"""guard rollout's verdict rules beyond the end-to-end path: quarantine mode, broken guards, bad input."""

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


def guard(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def rows(dsn: str, *extra: str) -> dict[str, dict]:
    result = guard("rollout", "--dsn", dsn, "--config", CONFIG, "--repo", str(EXAMPLE), "--format", "json", *extra)
    return {row["table"]: row for row in json.loads(result.stdout)["tables"]}


def test_rows_diverted_in_quarantine_mode_and_broken_guards_block_enforce(warehouse: str) -> None:
    migrate.upgrade(warehouse)
    with psycopg.connect(warehouse, autocommit=True) as conn:
        conn.execute(GuardTableOp("titan.voice_calls", GuardSettings(mode="quarantine")).to_sql())
        conn.execute("INSERT INTO titan.voice_calls (call_id) VALUES ('c1')")  # omits created_at: diverted
        conn.execute(GuardTableOp("titan.invoices", GuardSettings(mode="audit")).to_sql())
        conn.execute("ALTER TABLE titan.invoices DISABLE TRIGGER zz_guard_omitted_timestamp")
    verdicts = rows(warehouse)
    voice = verdicts["titan.voice_calls"]
    assert voice["mode"] == "quarantine" and voice["quarantined"] == 1 and voice["violations"] == 0
    assert "1 row(s) quarantined by the trigger in the window" in voice["blockers"]
    invoices = verdicts["titan.invoices"]
    assert "guard problem: trigger zz_guard_omitted_timestamp is disabled" in invoices["blockers"]
    assert verdicts["titan.jobs"]["verdict"] == "not protected"
    assert verdicts["titan.jobs"]["writers_omitting_timestamp"]  # the unguarded table still lists its writers


def test_missing_guard_schema_and_missing_blast_radius_are_clear_errors(warehouse: str, tmp_path: Path) -> None:
    result = guard("rollout", "--dsn", warehouse, "--repo", str(EXAMPLE))
    assert result.exit_code == 2 and "guard migrate" in result.stderr
    result = guard("rollout", "--dsn", warehouse)
    assert result.exit_code == 2 and "--scan REPORT.json" in result.stderr
    result = guard("rollout", "--dsn", warehouse, "--scan", str(tmp_path / "none.json"))
    assert result.exit_code == 2 and "no such file" in result.stderr
    assert "Traceback" not in result.output


def test_html_report_holds_every_verdict_and_names_the_writers(warehouse: str, tmp_path: Path) -> None:
    migrate.upgrade(warehouse)
    with psycopg.connect(warehouse, autocommit=True) as conn:
        conn.execute(GuardTableOp("titan.call_logs", GuardSettings(mode="audit")).to_sql())
    page = tmp_path / "rollout.html"
    args = ["rollout", "--dsn", warehouse, "--config", CONFIG, "--repo", str(EXAMPLE), "--format", "html"]
    result = guard(*args, "-o", str(page))
    assert result.exit_code == 1, result.output
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and 'data-command="rollout"' in html
    expected = set(rows(warehouse))
    assert html.count("<tr data-verdict=") == len(expected)
    assert '<tr data-verdict="not ready"><td class="mono">titan.call_logs</td>' in html
    assert "2 unfixed writer(s): titan/api/sms.py:5, titan/api/threecx.py:9" in html
    assert "titan/api/threecx.py:9 (GRD001, high)" in html
    assert "http://" not in html and "https://" not in html  # self-contained
