"""The issue's key check: patch the bundled example repo, then run its ingest code against PostgreSQL.

The payloads' creation times are years old. After ``guard patch --apply`` every stored ``created_at``
must equal the payload's time, and with the database guard in enforce mode the original code is
rejected while the patched code goes through.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

# The example repo's drivers are test dependencies (pyproject [test]): a missing one fails, never skips.
import asyncpg  # noqa: F401
import psycopg
import psycopg2  # noqa: F401
import pytest
from click.testing import CliRunner
from psycopg import sql

from guard.cli import cli
from guard.db import migrate
from guard.db.operations import GuardSettings, GuardTableOp

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "titan"
DRIVER = Path(__file__).resolve().parent / "titan_ingest_driver.py"
GUARDED = [
    "titan.jobs",
    "titan.estimates",
    "titan.invoices",
    "titan.call_logs",
    "titan.voice_calls",
    "titan.gclid_captures",
]


def utc(year: int, month: int, day: int, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=timezone.utc)


#: (table, key column, key, expected created_at) for every payload the driver writes
EXPECTED = [
    ("titan.jobs", "st_id", 1001, utc(2020, 2, 27)),
    ("titan.jobs", "st_id", 1002, utc(2021, 5, 30)),
    ("titan.jobs", "st_id", 1003, utc(2022, 1, 3)),
    ("titan.jobs", "st_id", 1004, utc(2021, 1, 15)),
    ("titan.estimates", "st_id", 2001, utc(2020, 2, 28)),
    ("titan.invoices", "st_id", 3001, utc(2020, 3, 3)),
    ("titan.call_logs", "caller", "+15550100", utc(2019, 11, 5)),
    ("titan.call_logs", "caller", "+15550101", utc(2019, 12, 24)),
    ("titan.voice_calls", "call_id", "vapi-1", utc(2022, 8, 8)),
]


@pytest.fixture
def titan_db(pg_dsn: str) -> str:
    """The example's schema with guard installed and every ingested table guarded in enforce mode."""
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA staging")
        for script in sorted((EXAMPLE / "schema").glob("*.sql")):
            conn.execute(script.read_text(encoding="utf-8"))
    migrate.upgrade(pg_dsn)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        for table in GUARDED:
            conn.execute(GuardTableOp(table, GuardSettings(mode="enforce")).to_sql())
    return pg_dsn


def run_ingest(root: Path, dsn: str) -> dict[str, str]:
    env = {**os.environ, "PGTZ": "UTC"}
    proc = subprocess.run(
        [sys.executable, str(DRIVER), str(root), dsn], capture_output=True, text=True, env=env, check=True, timeout=120
    )
    return json.loads(proc.stdout)


def test_patched_example_stores_source_times_and_passes_enforce_mode(tmp_path: Path, titan_db: str) -> None:
    original = run_ingest(EXAMPLE, titan_db)
    assert original and all("was not given a value" in outcome for outcome in original.values()), original

    root = tmp_path / "titan"
    shutil.copytree(EXAMPLE, root)
    result = CliRunner().invoke(cli, ["patch", str(root), "--apply"])
    assert result.exit_code in (0, 1), result.output
    assert "wrote" in result.stderr

    patched = run_ingest(root, titan_db)
    assert patched == {name: "ok" for name in original}

    with psycopg.connect(titan_db) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        for table, key, value, expected in EXPECTED:
            query = sql.SQL("SELECT created_at FROM {} WHERE {} = %s").format(
                sql.Identifier(*table.split(".")), sql.Identifier(key)
            )
            row = conn.execute(query, (value,)).fetchone()
            assert row is not None and row[0] == expected, (table, value, row)
        (gclid_time,) = conn.execute("SELECT created_at FROM titan.gclid_captures WHERE gclid = 'gclid-1'").fetchone()
        assert gclid_time == utc(2020, 2, 20).replace(tzinfo=None)  # a timestamp without time zone column
