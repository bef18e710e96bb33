"""The issue's path on the bundled example and a real PostgreSQL: scan -> protect --from-scan (audit) -> migrate
-> writers produce violations -> rollout "not ready" naming the writer -> patch --apply -> violations stop ->
rollout "ready" -> --apply-ready -> enforce.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# the example's drivers are test dependencies: a missing one fails, never skips
import asyncpg  # noqa: F401
import psycopg
import psycopg2  # noqa: F401
from click.testing import CliRunner, Result

from guard.cli import cli
from guard.db import migrate

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "titan"
DRIVER = ROOT / "tests" / "patch" / "titan_ingest_driver.py"
#: the example's Alembic migration creates this one (examples/titan/migrations); the schema files hold the rest
TRUST_AUDIT = """CREATE TABLE titan.trust_audit (
    id bigserial PRIMARY KEY, actor text NOT NULL, action text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now())"""
CALL_LOG_WRITERS = ["titan/api/sms.py:5", "titan/api/threecx.py:9"]


def guard(*args: str, expect: int | None = None) -> Result:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    if expect is not None:
        assert result.exit_code == expect, result.output
    return result


def rollout(dsn: str, repo: Path, *extra: str, expect: int) -> dict[str, dict[str, Any]]:
    result = guard("rollout", "--dsn", dsn, "--repo", str(repo), "--format", "json", *extra, expect=expect)
    document = json.loads(result.stdout)
    return {row["table"]: row for row in document["tables"]} | {"": document}


def run_ingest(root: Path, dsn: str) -> dict[str, str]:
    env = {**os.environ, "PGTZ": "UTC"}
    proc = subprocess.run(
        [sys.executable, str(DRIVER), str(root), dsn], capture_output=True, text=True, env=env, check=True, timeout=120
    )
    return json.loads(proc.stdout)


def violations(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT count(*) FROM guard.violations").fetchone()[0]  # type: ignore[index]


def modes(dsn: str) -> dict[str, str]:
    with psycopg.connect(dsn) as conn:
        return dict(conn.execute("SELECT table_name, mode FROM guard.protected_tables").fetchall())  # type: ignore[arg-type]


def test_scan_protect_rollout_patch_enforce(tmp_path: Path, pg_dsn: str) -> None:
    repo = tmp_path / "titan"
    shutil.copytree(EXAMPLE, repo)
    migrations = tmp_path / "guard_migrations"
    config = repo / "guard.toml"
    config.write_text(f'migrations_dir = "{migrations}"\n' + config.read_text(encoding="utf-8"), encoding="utf-8")
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA staging")
        for script in sorted((EXAMPLE / "schema").glob("*.sql")):
            conn.execute(script.read_text(encoding="utf-8"))
        conn.execute(TRUST_AUDIT)
    migrate.upgrade(pg_dsn)

    # scan -> protect --from-scan: one revision, every guarded table with findings, audit mode
    report = tmp_path / "scan.json"
    guard("scan", str(repo), "--format", "json", "-o", str(report), expect=1)
    protected = guard("protect", "--from-scan", str(report), "--config", str(config), expect=0)
    [revision] = migrations.glob("*.py")
    assert f"wrote {revision}" in protected.stdout
    assert revision.read_text().count("op.guard_table(") == 8
    guard("migrate", "--dsn", pg_dsn, "--config", str(config), expect=0)
    assert set(modes(pg_dsn).values()) == {"audit"}
    assert "titan.call_logs" in modes(pg_dsn) and "titan.metric_history" not in modes(pg_dsn)

    # the example's writers run: audit lets every row through and logs it
    assert set(run_ingest(EXAMPLE, pg_dsn).values()) == {"ok"}
    assert violations(pg_dsn) > 0
    rows = rollout(pg_dsn, repo, expect=1)
    call_logs = rows["titan.call_logs"]
    assert call_logs["verdict"] == "not ready"
    assert call_logs["mode"] == "audit"
    assert call_logs["violations"] == 2  # one call, one SMS
    assert sorted(u["location"] for u in call_logs["unfixed"]) == CALL_LOG_WRITERS
    assert call_logs["blockers"][0] == f"2 unfixed writer(s): {', '.join(CALL_LOG_WRITERS)}"
    assert call_logs["blockers"][1].startswith("2 violation(s) in the window (last 20")
    assert call_logs["bursts"] == 0
    text = guard("rollout", "--dsn", pg_dsn, "--repo", str(repo), expect=1).stdout
    assert "titan/api/threecx.py:9" in text and "not ready" in text

    # patch the code; the rows the unpatched run let in are cleaned up (their keys would collide)
    patched = guard("patch", str(repo), "--apply")
    assert patched.exit_code in (0, 1), patched.output
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE titan.jobs, titan.estimates, titan.invoices, titan.call_logs, titan.voice_calls, "
                     "titan.gclid_captures")  # fmt: skip
    before = violations(pg_dsn)
    assert set(run_ingest(repo, pg_dsn).values()) == {"ok"}
    assert violations(pg_dsn) == before  # the patched writers name the timestamp: violations stop

    rows = rollout(pg_dsn, repo, expect=1)
    assert rows["titan.call_logs"]["unfixed"] == []
    assert rows["titan.call_logs"]["blockers"] == [call_logs["blockers"][1]]  # only the logged violations remain

    # once the window holds no violation, the fixed tables are ready; titan.jobs still has unfixable writers
    time.sleep(2.5)
    rows = rollout(pg_dsn, repo, "--window", "2s", expect=1)
    assert rows["titan.call_logs"]["verdict"] == "ready for enforce" and rows["titan.call_logs"]["blockers"] == []
    assert rows["titan.jobs"]["verdict"] == "not ready"
    assert "legacy/old_sync_py2.py:7" in rows["titan.jobs"]["blockers"][0]
    ready = rows[""]["ready"]
    assert "titan.call_logs" in ready and "titan.jobs" not in ready

    applied = rollout(pg_dsn, repo, "--window", "2s", "--apply-ready", expect=1)[""]["apply_ready"]
    assert sorted(applied["tables"]) == sorted(ready)
    written = Path(applied["path"])
    assert written.read_text().count("'enforce', from_mode='audit')") == len(ready)  # upgrade: audit -> enforce
    guard("migrate", "--dsn", pg_dsn, "--config", str(config), expect=0)
    now = modes(pg_dsn)
    assert {t for t, m in now.items() if m == "enforce"} == set(ready)
    assert now["titan.jobs"] == "audit"
    rows = rollout(pg_dsn, repo, "--window", "2s", expect=1)
    assert rows["titan.call_logs"]["verdict"] == "enforced"

    # enforce: the unpatched 3CX writer now fails loudly, the patched one goes through
    assert "was not given a value" in run_ingest(EXAMPLE, pg_dsn)["record_calls"]
    # a second --apply-ready finds nothing new to write (enforced tables are done)
    again = rollout(pg_dsn, repo, "--window", "2s", "--apply-ready", expect=1)[""]["apply_ready"]
    assert again["path"] is None
