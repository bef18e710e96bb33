"""guard migrate is restartable: a failed check, a lock queue, Ctrl-C or a state an older guard left all end in a
plain re-run that succeeds (the kill-test with SIGKILL at random points is in test_migrate_kill.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result

from guard.cli import cli
from guard.db import migrate

from .conftest import GUARD_HEAD, JOBS_DDL

GUARD = [sys.executable, "-c", "from guard.cli import main; main()"]


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "guard.toml").write_text('[tables."titan.jobs"]\nbusiness_column = "scheduled_at"\n')
    return tmp_path


@pytest.fixture
def pending_dsn(project: Path, pg_dsn: str) -> str:
    """titan.jobs unguarded with one historical row, guard installed, and a protect revision pending."""
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(JOBS_DDL)
        conn.execute("INSERT INTO titan.jobs VALUES (1, '2021-05-01 10:00+00', '2021-05-03', 100)")
    migrate.upgrade(pg_dsn, "guard_0001")
    assert run("protect", "titan.jobs", "--mode", "enforce").exit_code == 0
    return pg_dsn


def head(project: Path) -> str:
    [path] = (project / "guard_migrations").glob("*.py")
    return path.name.split("_", 1)[0]


def constraint_validated(dsn: str) -> bool | None:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT convalidated FROM pg_constraint WHERE conname = 'jobs_created_at_must_be_explicit'"
        ).fetchone()
    return None if row is None else bool(row[0])


def test_a_failed_validate_is_finished_by_a_plain_rerun(project: Path, pending_dsn: str) -> None:
    """The issue's deterministic repro: a stored '-infinity' row fails VALIDATE; delete it and re-run."""
    with psycopg.connect(pending_dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO titan.jobs (id, scheduled_at, created_at) VALUES (-1, '2021-01-01', '-infinity')")
    failed = run("migrate", "--dsn", pending_dsn)
    assert failed.exit_code == 2
    assert "1 stored row(s) hold '-infinity' in created_at" in failed.output
    assert "run guard migrate again" in failed.output
    # The guard and its version row committed together: new rows are checked already.
    assert migrate.current_revisions(pending_dsn) == [head(project)]
    assert constraint_validated(pending_dsn) is False
    with psycopg.connect(pending_dsn, autocommit=True) as conn:
        with pytest.raises(psycopg.DatabaseError, match="was not given a value"):
            conn.execute("INSERT INTO titan.jobs (id, scheduled_at) VALUES (2, '2021-01-01')")
        conn.execute("DELETE FROM titan.jobs WHERE id = -1")
    rerun = run("migrate", "--dsn", pending_dsn)
    assert rerun.exit_code == 0, rerun.output
    assert constraint_validated(pending_dsn) is True
    assert run("status", "--dsn", pending_dsn).exit_code == 0


def test_the_state_an_older_guard_left_is_finished(project: Path, pending_dsn: str) -> None:
    """Older guards committed protect_table before the version row: registered, NOT VALID, revision behind."""
    with psycopg.connect(pending_dsn, autocommit=True) as conn:
        conn.execute(
            "SELECT guard.protect_table('titan.jobs', 'created_at', 'enforce', 'scheduled_at', 100,"
            " '1 minute', '180 days', 'warehouse_ingested_at', false)"
        )
    assert migrate.current_revisions(pending_dsn) == ["guard_0001"]
    result = run("migrate", "--dsn", pending_dsn)
    assert result.exit_code == 0, result.output
    assert migrate.current_revisions(pending_dsn) == [head(project)]
    assert constraint_validated(pending_dsn) is True
    with psycopg.connect(pending_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM guard.protected_tables").fetchone() == (1,)


def test_a_table_guarded_with_other_settings_is_refused_with_a_way_out(project: Path, pending_dsn: str) -> None:
    with psycopg.connect(pending_dsn, autocommit=True) as conn:
        conn.execute("SELECT guard.protect_table('titan.jobs', 'created_at', 'audit')")
    result = run("migrate", "--dsn", pending_dsn)
    assert result.exit_code == 2
    assert "already guarded with other settings (column created_at, mode audit" in result.output
    assert "op.guard_set_mode()" in result.output and "Traceback" not in result.output


def test_validate_waits_only_as_long_as_the_lock_policy_allows(project: Path, pending_dsn: str) -> None:
    """A SHARE UPDATE EXCLUSIVE holder (VACUUM, CREATE INDEX CONCURRENTLY) no longer makes VALIDATE wait forever."""
    with psycopg.connect(pending_dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO titan.jobs (id, scheduled_at, created_at) VALUES (-1, '2021-01-01', '-infinity')")
    assert run("migrate", "--dsn", pending_dsn).exit_code == 2
    with psycopg.connect(pending_dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM titan.jobs WHERE id = -1")
    with psycopg.connect(pending_dsn) as holder:
        holder.execute("LOCK TABLE titan.jobs IN SHARE UPDATE EXCLUSIVE MODE")
        started = time.monotonic()
        blocked = run("migrate", "--dsn", pending_dsn, "--lock-timeout", "200ms", "--lock-tries", "3")
        elapsed = time.monotonic() - started
    assert blocked.exit_code == 2
    assert "VALIDATE CONSTRAINT) could not get a lock after 3 tries of 0.2s" in blocked.output
    assert elapsed < 15
    assert run("migrate", "--dsn", pending_dsn).exit_code == 0
    assert constraint_validated(pending_dsn) is True


def test_ctrl_c_exits_130_and_says_what_state_it_left(project: Path, pending_dsn: str) -> None:
    with psycopg.connect(pending_dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO titan.jobs (id, scheduled_at, created_at) VALUES (-1, '2021-01-01', '-infinity')")
    assert run("migrate", "--dsn", pending_dsn).exit_code == 2
    with psycopg.connect(pending_dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM titan.jobs WHERE id = -1")
    with psycopg.connect(pending_dsn) as holder:
        holder.execute("LOCK TABLE titan.jobs IN SHARE UPDATE EXCLUSIVE MODE")
        proc = subprocess.Popen(
            [*GUARD, "migrate", "--dsn", pending_dsn, "--lock-timeout", "60s"],
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _wait_for_lock_wait(pending_dsn)
        os.kill(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err + out and "PendingRollbackError" not in err
    assert "guard: interrupted; the database is at revision" in err
    assert "stored rows not checked yet: titan.jobs" in err and "run guard migrate again" in err
    assert run("migrate", "--dsn", pending_dsn).exit_code == 0
    assert constraint_validated(pending_dsn) is True


def _wait_for_lock_wait(dsn: str) -> None:
    """Until a `guard migrate` session waits for a lock (so the interrupt lands inside the database call)."""
    deadline = time.monotonic() + 60
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'guard migrate'"
                " AND wait_event_type = 'Lock'"
            ).fetchone()
            if row and row[0]:
                return
            time.sleep(0.1)
    raise AssertionError("guard migrate never waited for the lock")


def test_a_schema_upgrade_waits_for_a_guarded_table_only_as_long_as_the_lock_policy_allows(
    project: Path, pg_dsn: str
) -> None:
    """Upgrading guard's schema re-creates the triggers of every guarded table. Behind an open write on one of them
    it gives up after the lock policy's tries (so writers arriving meanwhile wait a try, not the whole write),
    leaves the schema where it was, and a plain re-run after the write finishes the upgrade."""

    def row_trigger() -> str:
        with psycopg.connect(pg_dsn) as conn:
            row = conn.execute(
                "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'zz_guard_burst_row'"
            ).fetchone()
        assert row is not None
        return str(row[0])

    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(JOBS_DDL)
    migrate.upgrade(pg_dsn, "guard_0003")
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("SELECT guard.protect_table('titan.jobs', 'created_at', 'enforce', 'scheduled_at')")
    before = row_trigger()
    with psycopg.connect(pg_dsn) as writer:
        writer.execute("INSERT INTO titan.jobs VALUES (1, '2021-05-01 10:00+00', '2021-05-03', 100)")
        started = time.monotonic()
        blocked = run("migrate", "--dsn", pg_dsn, "--lock-timeout", "200ms", "--lock-tries", "3")
        elapsed = time.monotonic() - started
    assert blocked.exit_code == 2, blocked.output
    assert "could not get a lock on a guarded table (guard's schema upgrade re-creates its triggers)" in blocked.output
    assert "after 3 tries of 0.2s" in blocked.output and "Traceback" not in blocked.output
    assert elapsed < 15
    assert migrate.current_revisions(pg_dsn) == ["guard_0003"] and row_trigger() == before
    rerun = run("migrate", "--dsn", pg_dsn)
    assert rerun.exit_code == 0, rerun.output
    assert migrate.current_revisions(pg_dsn) == [GUARD_HEAD] and "now()" in row_trigger()
