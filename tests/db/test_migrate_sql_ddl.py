"""``guard migrate --sql`` prints the DDL the migration runs, and that script, run by hand, builds the same guard.

Issue 12 point 8: 0.1 printed ``SELECT guard.protect_table(...)``, so a DBA or a migration linter could not see
which locks were taken. The proof that the printed statements are the real ones: a database migrated by
running the printed script by hand ends up with the same catalog as one migrated by ``guard migrate``.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from guard.db import ddl
from guard.db.operations import GuardTableOp
from guard.testing import PostgresServer

from .conftest import GUARD_HEAD, JOBS_DDL
from .test_migrations_cli import run, snapshot


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose config names titan.jobs' business column, run from its directory."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "guard.toml").write_text('[tables."titan.jobs"]\nbusiness_column = "scheduled_at"\n')
    return tmp_path


def with_jobs(dsn: str) -> str:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(JOBS_DDL)
        conn.execute("INSERT INTO titan.jobs VALUES (1, '2021-05-01 10:00+00', '2021-05-03', 100)")
    return dsn


def same_guard(dsn: str) -> list[tuple[str, str, str]]:
    """The catalog snapshot, with the burst trigger's window argument in one spelling.

    A mode change re-creates the burst trigger with the settings the registry holds, and Postgres prints a
    stored interval its own way ('00:01:00' for '1 minute'); the trigger function casts the argument back to
    an interval, so the two spellings are the same guard.
    """
    return [(kind, name, text.replace("'00:01:00'", "'1 minute'")) for kind, name, text in snapshot(dsn)]


def built_by_hand_as_by_migrate(
    script: str, pg_dsn: str, postgres_server: PostgresServer, query: str
) -> list[tuple[object, ...]]:
    """``guard migrate`` on ``pg_dsn`` and ``script`` run by hand on a fresh database build the same guard;
    returns ``query``'s rows on the database built by hand."""
    migrated = with_jobs(pg_dsn)
    assert run("migrate", "--dsn", migrated).exit_code == 0
    with postgres_server.fresh_database() as by_hand:
        run_by_hand(with_jobs(by_hand), script)
        assert same_guard(by_hand) == same_guard(migrated)
        with psycopg.connect(by_hand) as conn:
            return conn.execute(query).fetchall()


def run_by_hand(dsn: str, script: str) -> None:
    """What a DBA does with the printed script: psql -f, i.e. every statement in order, its BEGIN/COMMITs."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(script)  # no parameters: sent as one simple query, statements run in order


def test_the_printed_script_is_the_ddl_and_builds_what_migrate_builds(
    project: Path, pg_dsn: str, postgres_server: PostgresServer
) -> None:
    assert run("protect", "titan.jobs", "--mode", "audit").exit_code == 0
    assert run("protect", "titan.jobs", "--mode", "enforce").exit_code == 0  # a mode change revision
    printed = run("migrate", "--sql")
    assert printed.exit_code == 0, printed.output
    script = printed.output
    table = '"titan"."jobs"'
    for statement in (
        f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE;",
        f'ALTER TABLE {table} ADD COLUMN IF NOT EXISTS "warehouse_ingested_at" timestamptz;',
        f"ALTER TABLE {table} ALTER COLUMN \"created_at\" SET DEFAULT '-infinity';",
        f'ALTER TABLE {table} ADD CONSTRAINT "jobs_created_at_must_be_explicit" CHECK (',
        f"CREATE OR REPLACE TRIGGER zz_guard_omitted_timestamp BEFORE INSERT ON {table} FOR EACH ROW",
        f"CREATE OR REPLACE TRIGGER zz_guard_burst_row AFTER INSERT ON {table} FOR EACH ROW WHEN (",
        f"CREATE OR REPLACE TRIGGER zz_guard_burst AFTER INSERT ON {table} FOR EACH STATEMENT",
        f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE;",
        f'DROP TRIGGER IF EXISTS "zz_guard_omitted_timestamp" ON {table};',
        f'ALTER TABLE {table} VALIDATE CONSTRAINT "jobs_created_at_must_be_explicit";',
    ):
        assert statement in script, statement
    assert ") NOT VALID;" in script
    # guard's operations print their DDL; only guard's schema upgrades (1.2, 1.3) re-install the burst triggers of
    # tables already guarded before them, through a call, since which tables those are is known only at run time
    operations = script[script.index(f"{GUARD_HEAD} -> ") :]
    for hidden in ("protect_table(", "set_mode(", "install_triggers(", "validate_table("):
        hidden = f"SELECT guard.{hidden}"
        assert hidden not in operations
    # every guard statement is preceded by the lock timeout a DBA's session needs too
    assert script.index("SET LOCAL lock_timeout") < script.index(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")

    modes = built_by_hand_as_by_migrate(script, pg_dsn, postgres_server, "SELECT mode FROM guard.protected_tables")
    assert modes == [("enforce",)]


def test_from_the_database_revision_a_mode_change_is_written_in_full(project: Path, pg_dsn: str) -> None:
    dsn = with_jobs(pg_dsn)
    assert run("protect", "titan.jobs", "--mode", "quarantine").exit_code == 0
    assert run("migrate", "--dsn", dsn).exit_code == 0
    assert run("protect", "titan.jobs", "--mode", "enforce").exit_code == 0
    printed = run("migrate", "--sql", "--dsn", dsn)
    assert printed.exit_code == 0, printed.output
    script = printed.output
    assert "CREATE FUNCTION" not in script  # guard is installed there: only what the database still needs
    assert "UPDATE guard.protected_tables SET mode = 'enforce'" in script and "AND mode = 'quarantine'" in script
    # the burst trigger is re-created with the business column the database has registered
    assert "guard.on_insert_burst('created_at', 'scheduled_at', 'enforce'" in script
    run_by_hand(dsn, "\n".join(line for line in script.splitlines() if not line.startswith("--")))
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT mode FROM guard.protected_tables").fetchall() == [("enforce",)]
        triggers = conn.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'titan.jobs'::regclass AND NOT tgisinternal ORDER BY 1"
        ).fetchall()
    assert triggers == [("zz_guard_burst",), ("zz_guard_burst_row",)]
    assert run("migrate", "--sql", "--dsn", dsn).output.startswith("-- guard: the database is at revision")


def test_a_mode_change_with_no_known_settings_says_what_to_do(project: Path) -> None:
    versions = project / "guard_migrations"
    versions.mkdir()
    (versions / "m1_switch.py").write_text(
        "from alembic import op\nimport guard.db.operations  # noqa: F401\n"
        "revision = 'm1'\ndown_revision = 'guard_0002'\nbranch_labels = None\ndepends_on = None\n\n"
        "def upgrade():\n    op.guard_set_mode('titan.jobs', 'enforce', from_mode='audit')\n\n"
        "def downgrade():\n    op.guard_set_mode('titan.jobs', 'audit', from_mode='enforce')\n"
    )
    result = run("migrate", "--sql")
    assert result.exit_code == 2
    assert "titan.jobs" in result.output and "pass --dsn" in result.output
    assert "Traceback" not in result.output


def test_the_schema_functions_build_the_same_guard_as_the_migration(
    jobs_dsn: str, postgres_server: PostgresServer
) -> None:
    """``guard.protect_table`` (kept for SQL callers) and ``op.guard_table`` must not drift apart."""
    settings = ddl.GuardSettings(business_column="scheduled_at", mode="quarantine", window="00:01:00")
    with psycopg.connect(jobs_dsn, autocommit=True) as conn:
        conn.execute("SELECT guard.protect_table('titan.jobs', 'created_at', 'quarantine', 'scheduled_at')")
        conn.execute("SELECT guard.validate_table('titan.jobs')")
    with postgres_server.fresh_database() as other:
        assert run("migrate", "--dsn", other).exit_code == 0
        with_jobs(other)
        with psycopg.connect(other, autocommit=True) as conn:
            op = GuardTableOp("titan.jobs", settings)
            conn.execute(op.to_sql())
            conn.execute(op.validate_sql())
        assert snapshot(other) == snapshot(jobs_dsn)


@pytest.mark.parametrize("table", ["titan.jobs", "titan." + "x" * 60, "titan.Überstunden_" + "ä" * 25])
def test_the_constraint_name_rule_is_the_schemas(guard_dsn: str, table: str) -> None:
    schema, _, name = table.partition(".")
    with psycopg.connect(guard_dsn, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(psycopg.sql.Identifier(schema)))
        relation = psycopg.sql.Identifier(schema, name)
        conn.execute(psycopg.sql.SQL("CREATE TABLE {} (created_at timestamptz)").format(relation))
        [(expected,)] = conn.execute(
            "SELECT guard.check_name(%s::regclass, 'created_at')", (relation.as_string(conn),)
        ).fetchall()
    assert ddl.check_name(table, "created_at") == expected


def test_a_revision_written_under_an_older_schema_is_printed_after_guards_lineage(
    project: Path, pg_dsn: str, postgres_server: PostgresServer
) -> None:
    """A protect revision that follows guard_0002 is a sibling of guard's later revisions; the script must still put
    guard's lineage first (its triggers call 1.2's functions), as ``guard migrate`` does online."""
    assert run("protect", "titan.jobs", "--mode", "audit").exit_code == 0
    [path] = (project / "guard_migrations").glob("*.py")
    path.write_text(path.read_text().replace(f"down_revision = '{GUARD_HEAD}'", "down_revision = 'guard_0002'"))
    printed = run("migrate", "--sql")
    assert printed.exit_code == 0, printed.output
    script = printed.output
    assert script.index("Running upgrade guard_0002 -> guard_0003") < script.index('ADD CONSTRAINT "jobs_created')
    query = "SELECT version_num FROM guard.alembic_version ORDER BY 1"
    versions = built_by_hand_as_by_migrate(script, pg_dsn, postgres_server, query)
    assert (GUARD_HEAD,) in versions and len(versions) == 2
