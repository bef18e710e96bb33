"""The example warehouse for the rollout tests: examples/titan/schema in a fresh real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "titan"


@pytest.fixture
def warehouse(pg_dsn: str) -> str:
    """The example's schema; call_logs stopped 437 hours ago (the seed's inventory), jobs is fresh."""
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        for script in sorted((EXAMPLE / "schema").glob("*.sql")):
            conn.execute(script.read_text(encoding="utf-8"))
        conn.execute(
            "INSERT INTO titan.call_logs (caller, direction, duration_s, created_at) "
            "SELECT '+1555' || g, 'inbound', g, now() - interval '437 hours' - g * interval '1 minute' "
            "FROM generate_series(1, 352) g"
        )
        conn.execute(
            "INSERT INTO titan.jobs (st_id, job_status, created_at) VALUES (1, 'completed', now() - interval '1 hour')"
        )
    return pg_dsn
