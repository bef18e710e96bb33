"""The audit trail is closed (schema 1.1): guard.violations / guard.quarantine are written only by guard's own
triggers firing on the guarded table, and guard.bypass is honoured only when the login itself is a member."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from guard.db import migrate

from .conftest import Session, protect
from .test_burst_and_bypass import INCIDENT_ROWS, INCIDENT_SELECT, replay_with_insert_select, stored_new_rows
from .test_migrations_cli import snapshot


@pytest.fixture
def ingest(session: Session, make_role: Callable[..., str], jobs_dsn: str) -> Iterator[tuple[str, psycopg.Connection]]:
    """A guard_writer member (as every ingest role in audit/quarantine mode is), logged in as itself."""
    name = make_role("guard_writer")
    session.conn.execute(
        sql.SQL(
            "GRANT USAGE ON SCHEMA titan TO {0}; GRANT INSERT, SELECT ON titan.jobs TO {0};"
            " CREATE SCHEMA {0} AUTHORIZATION {0}"
        ).format(sql.Identifier(name))
    )
    with psycopg.connect(make_conninfo(jobs_dsn, user=name), autocommit=True) as conn:
        yield name, conn


def audit_entries(session: Session) -> int:
    return int(
        session.scalar("SELECT (SELECT count(*) FROM guard.violations) + (SELECT count(*) FROM guard.quarantine)")
    )


FORGED_CALLS = {
    "record_violation": "SELECT guard.record_violation('titan.jobs'::regclass::oid, 'titan.jobs', 'burst', 'bypass',"
    " 'forged', 1, NULL, 'postgres')",
    "record_quarantine": "SELECT guard.record_quarantine('titan.jobs'::regclass::oid, 'titan.jobs', 'burst', 'forged',"
    " '[{}]', 'postgres')",
    "log_violation": "SELECT guard.log_violation('titan.jobs'::regclass::oid, 'titan.jobs', 'burst', 'bypass',"
    " 'forged', 1, NULL)",
    "log_quarantine": "SELECT guard.log_quarantine('titan.jobs'::regclass::oid, 'no.such_table', 'burst', 'forged',"
    " (SELECT jsonb_agg('{}'::jsonb) FROM generate_series(1, 100000)))",
}


@pytest.mark.parametrize("call", sorted(FORGED_CALLS))
def test_a_guard_writer_cannot_call_the_audit_functions(
    session: Session, ingest: tuple[str, psycopg.Connection], call: str
) -> None:
    protect(session, "audit")
    _, conn = ingest
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="written only by guard's triggers"):
        conn.execute(FORGED_CALLS[call])
    assert audit_entries(session) == 0


def test_a_trigger_of_ones_own_cannot_forge_entries(session: Session, ingest: tuple[str, psycopg.Connection]) -> None:
    """Inside a trigger (pg_trigger_depth() > 0) but not guard's: its own function, or guard's on its own table."""
    protect(session, "audit")
    name, conn = ingest
    own = sql.Identifier(name)
    conn.execute(sql.SQL("CREATE TABLE {}.t (id int, created_at timestamptz DEFAULT '-infinity')").format(own))
    conn.execute(
        sql.SQL(
            "CREATE FUNCTION {0}.forge() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " PERFORM guard.log_violation('titan.jobs'::regclass::oid, 'titan.jobs', 'burst', 'bypass', 'forged', 1,"
            " NULL); RETURN NULL; END $$"
        ).format(own)
    )
    conn.execute(sql.SQL("CREATE TRIGGER forge AFTER INSERT ON {0}.t EXECUTE FUNCTION {0}.forge()").format(own))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(sql.SQL("INSERT INTO {}.t VALUES (1, now())").format(own))
    conn.execute(sql.SQL("DROP TRIGGER forge ON {}.t").format(own))
    # guard's own trigger function, told it guards titan.jobs, on a table of the attacker's
    conn.execute(
        sql.SQL(
            "CREATE TRIGGER borrowed BEFORE INSERT ON {0}.t FOR EACH ROW"
            " EXECUTE FUNCTION guard.on_omitted_timestamp('created_at', 'audit', 'titan.jobs')"
        ).format(own)
    )
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(sql.SQL("INSERT INTO {}.t (id) VALUES (1)").format(own))
    assert audit_entries(session) == 0


def test_real_violations_are_still_logged_with_the_writers_role(
    session: Session, ingest: tuple[str, psycopg.Connection]
) -> None:
    protect(session, "audit")
    name, conn = ingest
    conn.execute("INSERT INTO titan.jobs (id, scheduled_at) VALUES (10, '2020-01-01')")
    rows = session.conn.execute("SELECT rule, action, role_name, session_user_name FROM guard.violations").fetchall()
    assert rows == [("omitted_timestamp", "audit", name, name)]


def test_a_definer_loader_does_not_lend_its_owners_bypass(
    session: Session, make_role: Callable[..., str], jobs_dsn: str
) -> None:
    """A SECURITY DEFINER loader owned by a superuser: a non-member calling it is refused, a member is logged."""
    protect(session, "enforce")
    session.conn.execute(
        "CREATE FUNCTION public.loader() RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN"
        " PERFORM set_config('guard.bypass', 'nightly replay', true);"
        f" INSERT INTO titan.jobs (id, created_at, scheduled_at, amount) {INCIDENT_SELECT}; END $$"
    )
    outsider = make_role()
    member = make_role("guard_bypass")
    for role in (outsider, member):
        session.conn.execute(sql.SQL("GRANT EXECUTE ON FUNCTION public.loader() TO {}").format(sql.Identifier(role)))
    with (
        psycopg.connect(make_conninfo(jobs_dsn, user=outsider), autocommit=True) as conn,
        pytest.raises(psycopg.Error) as caught,
    ):
        conn.execute("SELECT public.loader()")
    assert caught.value.sqlstate == "GD003"
    assert f"role {outsider} is not a member of guard_bypass" in str(caught.value.diag.message_primary)
    assert stored_new_rows(session) == 0
    with psycopg.connect(make_conninfo(jobs_dsn, user=member), autocommit=True) as conn:
        conn.execute("SELECT public.loader()")
    assert stored_new_rows(session) == INCIDENT_ROWS
    [(session_user, reason)] = session.conn.execute("SELECT session_user_name, reason FROM guard.violations")
    assert session_user == member and f"session user {member} as role" in reason


def test_schema_1_0_upgrades_in_place_and_downgrades_exactly(pg_dsn: str) -> None:
    """A database already at 1.0, with a guarded table, moves to 1.1 and back; 1.0's catalog comes back whole."""
    migrate.upgrade(pg_dsn, "guard_0001")
    before = snapshot(pg_dsn)
    s = Session(pg_dsn)
    try:
        s.conn.execute("CREATE SCHEMA titan; CREATE TABLE titan.jobs (id bigint PRIMARY KEY,"
                       " created_at timestamptz NOT NULL DEFAULT now(), scheduled_at date NOT NULL, amount numeric)")
        protect(s, "audit")
        s.conn.execute("INSERT INTO titan.jobs (id, scheduled_at) VALUES (20001, '2020-01-01')")
        # what two concurrent 1.0 applies could leave: one key active in two batches
        s.conn.execute(
            "INSERT INTO guard.quarantined_rows (table_name, row_key, batch_id, reason)"
            " VALUES ('titan.jobs', '{\"id\": 1}', 'first', 'x'), ('titan.jobs', '{\"id\": 1}', 'second', 'x')"
        )
        migrate.upgrade(pg_dsn, "guard_0002")
        assert s.conn.execute(
            "SELECT batch_id, released_by FROM guard.quarantined_rows ORDER BY id"
        ).fetchall() == [("first", None), ("second", "guard 1.1 upgrade: duplicate of an older active batch")]
        s.conn.execute("INSERT INTO titan.jobs (id, scheduled_at) VALUES (20002, '2020-01-01')")
        replay_with_insert_select(s)
        assert s.conn.execute("SELECT rule, count(*) FROM guard.violations GROUP BY 1 ORDER BY 1").fetchall() == [
            ("burst", 1), ("omitted_timestamp", 2)
        ]
        with pytest.raises(psycopg.errors.InsufficientPrivilege), s.conn.transaction():
            s.conn.execute(FORGED_CALLS["record_violation"])
        migrate.downgrade(pg_dsn, "guard_0001")
        s.conn.execute("INSERT INTO titan.jobs (id, scheduled_at) VALUES (20003, '2020-01-01')")
        assert s.scalar("SELECT count(*) FROM guard.violations WHERE rule = 'omitted_timestamp'") == 3
        s.conn.execute("SELECT guard.unprotect_table('titan.jobs')")
        s.conn.execute("DROP SCHEMA titan CASCADE")
    finally:
        s.close()
    assert snapshot(pg_dsn) == before
