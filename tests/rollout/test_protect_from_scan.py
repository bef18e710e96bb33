"""guard protect --from-scan / --repo: one revision for the blast radius; guarded tables change mode only on request."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result

from guard.cli import cli
from guard.db import migrate
from guard.db.history import planned_modes
from guard.db.operations import GuardSettings, GuardTableOp

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "titan"
FOUND = [
    "titan.call_logs", "titan.estimates", "titan.gclid_captures", "titan.invoice_events", "titan.invoices",
    "titan.jobs", "titan.trust_audit", "titan.voice_calls",
]  # fmt: skip


def guard(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "scan.json"
    assert guard("scan", str(EXAMPLE), "--format", "json", "-o", str(path)).exit_code == 1
    return path


def protect(report: Path, migrations: Path, *extra: str) -> Result:
    config = str(EXAMPLE / "guard.toml")
    return guard("protect", "--from-scan", str(report), "--config", config, "--migrations-dir", str(migrations), *extra)


def test_one_revision_guards_every_table_with_findings_with_config_business_columns(
    report: Path, tmp_path: Path
) -> None:
    migrations = tmp_path / "migrations"
    result = protect(report, migrations)
    assert result.exit_code == 0, result.output
    [revision] = migrations.glob("*.py")
    text = revision.read_text()
    assert planned_modes(migrations) == {table: "audit" for table in FOUND}
    assert "business_column='scheduled_at'" in text and "business_column='sold_on'" in text  # from guard.toml
    assert "titan.metric_history" not in text  # written, but no created_at: not guarded, no finding
    assert "titan.call_logs                  2 unfixed writer(s)  guard in audit mode" in result.stdout
    compile(text, str(revision), "exec")  # a valid Python revision


def test_second_run_changes_mode_only_when_asked(report: Path, tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    assert protect(report, migrations).exit_code == 0
    again = protect(report, migrations)
    assert again.exit_code == 0
    assert "already guarded in audit mode" in again.stdout and "no revision written" in again.stdout
    assert len(list(migrations.glob("*.py"))) == 1
    same = protect(report, migrations, "--mode", "audit")
    assert "no revision written" in same.stdout
    changed = protect(report, migrations, "--mode", "quarantine")
    assert changed.exit_code == 0 and "audit -> quarantine" in changed.stdout
    assert planned_modes(migrations) == {table: "quarantine" for table in FOUND}


def test_repo_scans_now(tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    result = guard("protect", "--repo", str(EXAMPLE), "--migrations-dir", str(migrations))
    assert result.exit_code == 0, result.output
    assert planned_modes(migrations) == {table: "audit" for table in FOUND}


def test_bad_reports_and_usage(tmp_path: Path, report: Path) -> None:
    missing = guard("protect", "--from-scan", str(tmp_path / "nope.json"))
    assert missing.exit_code == 2 and "no such file; write one with `guard scan --format json" in missing.stderr
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    assert "not JSON" in guard("protect", "--from-scan", str(garbage)).stderr
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"command": "detect", "tables": []}))
    assert "not a guard scan report" in guard("protect", "--from-scan", str(other)).stderr
    future = tmp_path / "future.json"
    future.write_text(json.dumps({"command": "scan", "format_version": 99, "findings": [], "writes": []}))
    assert "scan report format_version 99" in guard("protect", "--from-scan", str(future)).stderr
    both = guard("protect", "titan.jobs", "--from-scan", str(report))
    assert both.exit_code == 2 and "drop TABLE" in both.output
    neither = guard("protect")
    assert neither.exit_code == 2 and "--from-scan REPORT.json" in neither.output
    assert "Traceback" not in missing.output + garbage.name


def test_a_clean_scan_writes_nothing(tmp_path: Path) -> None:
    clean = tmp_path / "clean.json"
    clean.write_text(json.dumps({"command": "scan", "format_version": 2, "findings": [], "writes": [], "tables": []}))
    result = guard("protect", "--from-scan", str(clean), "--migrations-dir", str(tmp_path / "m"))
    assert result.exit_code == 0 and "nothing to protect" in result.stdout
    assert not (tmp_path / "m").exists()


def test_dsn_adds_the_database_guard_state_and_refuses_missing_tables(warehouse: str, tmp_path: Path) -> None:
    # the warehouse lacks titan.trust_audit (created by the example's Alembic migration) and already guards invoices
    migrate.upgrade(warehouse)
    with psycopg.connect(warehouse, autocommit=True) as conn:
        conn.execute(GuardTableOp("titan.invoices", GuardSettings(mode="audit")).to_sql())
    migrations = tmp_path / "migrations"
    args = ["protect", "--repo", str(EXAMPLE), "--migrations-dir", str(migrations), "--dsn", warehouse]
    result = guard(*args)
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith("  titan.")}
    assert "refused: table 'titan.trust_audit' not found" in lines["titan.trust_audit"]
    assert lines["titan.invoices"].endswith("already guarded in audit mode")  # by the database: no second guard
    assert planned_modes(migrations) == {t: "audit" for t in FOUND if t not in ("titan.trust_audit", "titan.invoices")}
    changed = guard(*args, "--mode", "enforce")
    assert "audit -> enforce" in changed.stdout.split("titan.invoices", 1)[1].splitlines()[0]
    assert planned_modes(migrations)["titan.invoices"] == "enforce"
