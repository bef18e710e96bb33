"""guard inside a project's own Alembic environment, and the custom operations' reverses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from guard.db.ddl import GuardState
from guard.db.operations import GuardSetModeOp, GuardSettings, GuardTableOp, UnguardTableOp

from .conftest import GUARD_HEAD, JOBS_DDL

USER_REVISION = """
from alembic import op

import guard.db.operations  # noqa: F401

revision = "app_0001"
down_revision = "guard_0001"
branch_labels = None
depends_on = None


def upgrade():
    op.guard_table("titan.jobs", column="created_at", business_column="scheduled_at", mode="quarantine")


def downgrade():
    op.unguard_table("titan.jobs")
"""


def alembic(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "alembic", "-c", str(project / "alembic.ini"), *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=project, check=False)


def test_guard_lineage_in_a_users_alembic_environment(tmp_path: Path, pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(JOBS_DDL)
    init = alembic(tmp_path, "init", str(tmp_path / "alembic"))
    assert init.returncode == 0, init.stderr
    ini = (tmp_path / "alembic.ini").read_text()
    url = pg_dsn.replace("postgresql://", "postgresql+psycopg://", 1)
    ini = ini.replace("driver://user:pass@localhost/dbname", url)
    ini = ini.replace("path_separator = os", "path_separator = space")
    ini = ini.replace(
        "[alembic]", "[alembic]\nversion_locations = %(here)s/alembic/versions guard.migrations:versions", 1
    )
    (tmp_path / "alembic.ini").write_text(ini)
    (tmp_path / "alembic" / "versions" / "app_0001_guard_jobs.py").write_text(USER_REVISION)

    up = alembic(tmp_path, "upgrade", "heads")
    assert up.returncode == 0, up.stderr
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        # app_0001 follows guard_0001, so guard's later revisions (schema 1.1 and on) are a second head.
        heads = conn.execute("SELECT version_num FROM public.alembic_version ORDER BY 1").fetchall()
        assert heads == [("app_0001",), (GUARD_HEAD,)]
        assert conn.execute("SELECT table_name, mode FROM guard.protected_tables").fetchall() == [
            ("titan.jobs", "quarantine")
        ]
    down = alembic(tmp_path, "downgrade", "base")
    assert down.returncode == 0, down.stderr
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        assert conn.execute("SELECT to_regclass('guard.protected_tables')").fetchone() == (None,)
        default = conn.execute(
            "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'titan.jobs'::regclass"
        )
        assert default.fetchall() == [("now()",)]


def test_operations_reverse_into_each_other() -> None:
    settings = GuardSettings(business_column="scheduled_at", mode="enforce")
    guard = GuardTableOp("Titan.Jobs", settings)
    unguard = guard.reverse()
    assert isinstance(unguard, UnguardTableOp) and unguard.table == "titan.jobs"
    again = unguard.reverse()
    assert again.to_sql() == guard.to_sql()
    assert "guard.on_insert_burst('created_at', 'scheduled_at', 'enforce', '100', '1 minute'" in guard.to_sql()

    change = GuardSetModeOp("titan.jobs", "enforce", from_mode="quarantine")
    state = GuardState(settings, original_default="now()", ingested_column_added=True)
    back = change.reverse().statements(state)
    assert "UPDATE guard.protected_tables SET mode = 'quarantine', mode_changed_at = now()" in back[2]
    assert back[2].endswith("AND mode = 'enforce'")
    assert "guard.on_omitted_timestamp('created_at', 'quarantine', 'titan.jobs')" in back[3]
    assert 'ALTER TABLE "titan"."jobs" ALTER COLUMN "created_at" SET DEFAULT now()' in unguard.statements(state)
    with pytest.raises(ValueError, match="needs from_mode"):
        GuardSetModeOp("titan.jobs", "enforce").reverse()
    with pytest.raises(ValueError, match="unknown guard mode"):
        GuardSetModeOp("titan.jobs", "block")
    with pytest.raises(ValueError, match="cannot be reversed"):
        UnguardTableOp("titan.jobs").reverse()
