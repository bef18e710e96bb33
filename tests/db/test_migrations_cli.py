"""Migrations and the CLI as users run them: guard protect -> guard migrate -> guard status, and back down."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result

from guard.cli import cli
from guard.db import migrate
from guard.db.locks import LockPolicy
from guard.errors import GuardError

from .conftest import GUARD_HEAD, JOBS_DDL

CATALOG_SNAPSHOT = """
SELECT 'function', p.oid::regprocedure::text, pg_get_functiondef(p.oid) || p.proowner::regrole::text
       || coalesce(p.proacl::text, '')
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname IN ('guard', 'titan')
UNION ALL
SELECT 'trigger', t.tgrelid::regclass || '.' || t.tgname, pg_get_triggerdef(t.oid) || t.tgenabled::text
FROM pg_trigger t WHERE NOT t.tgisinternal
UNION ALL
SELECT 'constraint', c.conrelid::regclass || '.' || c.conname, pg_get_constraintdef(c.oid) || c.convalidated
FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname IN ('guard', 'titan')
UNION ALL
SELECT 'column', a.attrelid::regclass || '.' || a.attname,
       format_type(a.atttypid, a.atttypmod) || a.attnotnull || coalesce(pg_get_expr(d.adbin, d.adrelid), '<none>')
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname IN ('guard', 'titan') AND a.attnum > 0 AND NOT a.attisdropped AND c.relname <> 'alembic_version'
UNION ALL
SELECT 'relation', c.oid::regclass::text, c.relkind::text || c.relowner::regrole::text || coalesce(c.relacl::text, '')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname IN ('guard', 'titan') AND c.relname NOT LIKE 'alembic_version%'
UNION ALL
SELECT 'schema', nspname, coalesce(nspacl::text, '') FROM pg_namespace WHERE nspname IN ('guard', 'titan')
ORDER BY 1, 2
"""


def snapshot(dsn: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(dsn) as conn:
        return [tuple(row) for row in conn.execute(CATALOG_SNAPSHOT)]


def run(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "guard.toml").write_text('[tables."titan.jobs"]\nbusiness_column = "scheduled_at"\n')
    return tmp_path


@pytest.fixture
def jobs_only_dsn(pg_dsn: str) -> str:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(JOBS_DDL)
        conn.execute("INSERT INTO titan.jobs VALUES (1, '2021-05-01 10:00+00', '2021-05-03', 100)")
    return pg_dsn


def test_protect_writes_a_reviewable_revision(project: Path) -> None:
    result = run("protect", "titan.jobs", "--mode", "enforce")
    assert result.exit_code == 0, result.output
    [path] = (project / "guard_migrations").glob("*.py")
    text = path.read_text()
    assert f"down_revision = '{GUARD_HEAD}'" in text
    assert (
        "op.guard_table(\n        'titan.jobs',\n        column='created_at',\n        business_column='scheduled_at'"
        in text
    )
    assert "mode='enforce'" in text and "op.unguard_table('titan.jobs')" in text
    run("protect", "titan.jobs", "--mode", "quarantine", "--from-mode", "enforce")
    second = [p for p in (project / "guard_migrations").glob("*.py") if p != path]
    assert f"down_revision = '{path.name.split('_')[0]}'" in second[0].read_text()


def test_up_down_up_leaves_an_identical_catalog(project: Path, jobs_only_dsn: str) -> None:
    before = snapshot(jobs_only_dsn)
    run("protect", "titan.jobs", "--mode", "audit")
    run("protect", "titan.jobs", "--mode", "enforce", "--from-mode", "audit")
    result = run("migrate", "--dsn", jobs_only_dsn)
    assert result.exit_code == 0, result.output
    installed = snapshot(jobs_only_dsn)
    assert ("trigger", "titan.jobs.zz_guard_burst") in [(k, n) for k, n, _ in installed]
    with psycopg.connect(jobs_only_dsn) as conn:
        assert conn.execute("SELECT mode FROM guard.protected_tables").fetchone() == ("enforce",)
    assert run("migrate", "--dsn", jobs_only_dsn, "--downgrade", "base").exit_code == 0
    titan_only = [row for row in snapshot(jobs_only_dsn) if "titan" in row[1]]
    assert titan_only == [row for row in before if "titan" in row[1]]
    with psycopg.connect(jobs_only_dsn) as conn:
        default = conn.execute(
            "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'titan.jobs'::regclass"
        )
        assert default.fetchall() == [("now()",)]
    again = run("migrate", "--dsn", jobs_only_dsn)
    assert again.exit_code == 0, again.output
    assert snapshot(jobs_only_dsn) == installed


def test_a_quoted_table_name_is_guarded_exactly(project: Path, pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute('CREATE SCHEMA titan; CREATE TABLE titan."Big""""""Jobs" (id int, created_at timestamptz)')
        conn.execute('CREATE TABLE titan."big""""""jobs" (id int, created_at timestamptz)')  # the name folded
    written = run("protect", 'titan."Big""""""Jobs"', "--mode", "enforce")
    assert written.exit_code == 0, written.output
    [path] = (project / "guard_migrations").glob("*.py")
    compile(path.read_text(), str(path), "exec")  # the quotes in the name do not break the revision file
    assert run("migrate", "--dsn", pg_dsn).exit_code == 0
    with psycopg.connect(pg_dsn) as conn:
        guarded = conn.execute("SELECT table_name FROM guard.protected_tables").fetchall()
    assert guarded == [('titan.Big"""Jobs',)]
    assert run("migrate", "--dsn", pg_dsn, "--downgrade", "guard_0001").exit_code == 0
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM guard.protected_tables").fetchone() == (0,)


def test_migrate_sql_prints_the_script_offline(project: Path) -> None:
    run("protect", "titan.jobs", "--mode", "enforce")
    result = run("migrate", "--sql")
    assert result.exit_code == 0
    out = result.output
    assert "CREATE FUNCTION guard.on_omitted_timestamp()" in out
    assert "SET LOCAL lock_timeout = '5000ms';" in out
    assert "ALTER TABLE \"titan\".\"jobs\" ALTER COLUMN \"created_at\" SET DEFAULT '-infinity';" in out
    assert "INSERT INTO guard.alembic_version" in out


def test_status_shows_guarded_tables_and_counts(project: Path, jobs_only_dsn: str) -> None:
    run("protect", "titan.jobs", "--mode", "quarantine")
    run("migrate", "--dsn", jobs_only_dsn)
    with psycopg.connect(jobs_only_dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO titan.jobs (id, scheduled_at) VALUES (2, '2020-01-01'), (3, '2020-01-02')")
    result = run("status", "--dsn", jobs_only_dsn, "--format", "json")
    assert result.exit_code == 0, result.output
    [table] = json.loads(result.output)["tables"]
    assert (table["table"], table["mode"], table["quarantined"], table["problems"]) == (
        "titan.jobs",
        "quarantine",
        2,
        [],
    )
    with psycopg.connect(jobs_only_dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE titan.jobs DISABLE TRIGGER zz_guard_omitted_timestamp")
    broken = run("status", "--dsn", jobs_only_dsn)
    assert broken.exit_code == 1 and "zz_guard_omitted_timestamp is disabled" in broken.output


def test_status_names_every_kind_of_broken_guard(jobs_dsn: str) -> None:
    with psycopg.connect(jobs_dsn, autocommit=True) as conn:
        for table in ("calls", "leads", "gone"):
            conn.execute(f"CREATE TABLE titan.{table} (id int PRIMARY KEY, created_at timestamptz DEFAULT now())")
        conn.execute("SELECT guard.protect_table('titan.jobs', 'created_at', 'quarantine', 'scheduled_at')")
        conn.execute("SELECT guard.protect_table('titan.calls', 'created_at', 'enforce')")
        conn.execute("SELECT guard.protect_table('titan.leads', 'created_at', 'audit', p_validate => false)")
        conn.execute("SELECT guard.protect_table('titan.gone', 'created_at', 'audit')")
        conn.execute("DROP TRIGGER zz_guard_burst ON titan.jobs")
        conn.execute("ALTER TABLE titan.jobs DISABLE TRIGGER zz_guard_burst_row")
        conn.execute("ALTER TABLE titan.jobs DROP CONSTRAINT jobs_created_at_must_be_explicit")
        conn.execute("DROP TABLE titan.gone")
    result = run("status", "--dsn", jobs_dsn, "--format", "json")
    assert result.exit_code == 1, result.output
    problems = {t["table"]: t["problems"] for t in json.loads(result.output)["tables"]}
    assert problems == {
        "titan.calls": [],
        "titan.gone": ["table no longer exists"],
        "titan.jobs": [
            "trigger zz_guard_burst is missing",
            "trigger zz_guard_burst_row is disabled",
            "CHECK constraint on created_at is missing",
        ],
        "titan.leads": ["CHECK constraint on created_at is not validated"],
    }


def test_errors_are_clear(project: Path, pg_dsn: str) -> None:
    assert run("status", "--dsn", pg_dsn).exit_code == 2
    missing = run("migrate")
    assert missing.exit_code == 2 and "pass --dsn" in missing.output
    run("protect", "titan.nope", "--mode", "enforce")
    failed = run("migrate", "--dsn", pg_dsn)
    assert failed.exit_code == 2 and 'schema "titan" does not exist' in failed.output
    unreachable = run("migrate", "--dsn", "postgresql://guard@127.0.0.1:1/nowhere")
    assert unreachable.exit_code == 2 and "cannot connect to the database" in unreachable.output
    assert "check --dsn (or GUARD_DSN)" in unreachable.output
    malformed = run("migrate", "--dsn", "not a dsn")
    assert malformed.exit_code == 2 and "invalid DSN" in malformed.output


def test_lock_timeout_retries_then_explains(project: Path, jobs_only_dsn: str) -> None:
    run("protect", "titan.jobs", "--mode", "enforce")
    migrate.upgrade(jobs_only_dsn, "guard_0001")
    with psycopg.connect(jobs_only_dsn) as holder:
        holder.execute("LOCK TABLE titan.jobs IN ACCESS SHARE MODE")
        policy = LockPolicy(timeout_seconds=0.1, tries=3, backoff_seconds=0.05)
        with pytest.raises(GuardError, match=r"could not get a lock on titan.jobs after 3 tries.*raise --lock-timeout"):
            migrate.upgrade(jobs_only_dsn, "heads", "guard_migrations", policy)
    migrate.upgrade(jobs_only_dsn, "heads", "guard_migrations")
    assert migrate.current_revisions(jobs_only_dsn) != ["guard_0001"]


def test_concurrent_writer_loses_nothing_while_guard_installs(project: Path, jobs_only_dsn: str) -> None:
    run("protect", "titan.jobs", "--mode", "enforce")
    sent: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer() -> None:
        with psycopg.connect(jobs_only_dsn, autocommit=True) as conn:
            key = 100
            while not stop.is_set():
                try:
                    conn.execute(
                        "INSERT INTO titan.jobs (id, created_at, scheduled_at) VALUES (%s, now(), current_date)",
                        (key,),
                    )
                    sent.append(key)
                except psycopg.Error as exc:
                    errors.append(exc)
                key += 1

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(0.3)
    migrate.upgrade(jobs_only_dsn, "heads", "guard_migrations")
    time.sleep(0.3)
    stop.set()
    thread.join()
    assert errors == []
    with psycopg.connect(jobs_only_dsn) as conn:
        stored = [r[0] for r in conn.execute("SELECT id FROM titan.jobs WHERE id >= 100 ORDER BY id")]
        assert conn.execute("SELECT count(*) FROM guard.protected_tables").fetchone() == (1,)
    assert stored == sent and len(sent) > 10
