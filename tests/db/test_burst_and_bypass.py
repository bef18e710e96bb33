"""The burst guard (history re-stamped in one minute), the bypass, and the security of the guard code."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import psycopg
import pytest
from psycopg import sql

from .conftest import Session, protect

INCIDENT_ROWS = 10_461
#: The incident as it happens: six years of history stamped within one minute, the minute this test run started
#: (a phantom stamp is written by the write itself; since schema 1.3 the burst guard checks only rows stamped no
#: earlier than the margin before their write, so a fixed date here would age out of it).
INCIDENT_STAMP = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)
INCIDENT_SELECT = (
    f"SELECT g, timestamptz '{INCIDENT_STAMP.isoformat()}' + (g % 50) * interval '1 second',"
    f" date '{INCIDENT_STAMP.date().isoformat()}' - (g % 2300), 100"
    " FROM generate_series(2, 10462) g"
)


def incident_row(g: int) -> tuple[int, dt.datetime, dt.date, int]:
    """Row ``g`` of INCIDENT_SELECT, computed in Python (for COPY and for the expected counts)."""
    return g, INCIDENT_STAMP + dt.timedelta(seconds=g % 50), INCIDENT_STAMP.date() - dt.timedelta(g % 2300), 100


#: What the burst guard counts (schema 1.2): only a row whose business date is more than the margin,
#: (min_span - window) / 2 = (180 days - 1 minute) / 2, from its created_at can make a window a burst, so only
#: those rows are tallied, counted and diverted. Of the incident's rows, those whose scheduled_at lies within ~90
#: days of their stamp (INCIDENT_ROWS - INCIDENT_COUNTED) are stored in every mode; `guard detect` sees them.
INCIDENT_MARGIN = (dt.timedelta(days=180) - dt.timedelta(minutes=1)) / 2
INCIDENT_COUNTED = sum(
    1
    for _, created, scheduled, _ in map(incident_row, range(2, 10463))
    if abs(dt.datetime.combine(scheduled, dt.time(), dt.timezone.utc) - created) > INCIDENT_MARGIN
)


def replay_with_insert_select(s: Session) -> None:
    s.conn.execute(f"INSERT INTO titan.jobs (id, created_at, scheduled_at, amount) {INCIDENT_SELECT}")


def replay_with_copy(s: Session) -> None:
    with s.conn.cursor() as cur, cur.copy("COPY titan.jobs (id, created_at, scheduled_at, amount) FROM STDIN") as copy:
        for g in range(2, 10463):
            copy.write_row(incident_row(g))


def explicit_now_with_old_dates(s: Session) -> None:
    s.conn.execute(
        "INSERT INTO titan.jobs (id, created_at, scheduled_at) SELECT g, now(), date '2020-01-01' + g * 3"
        " FROM generate_series(2, 201) g"
    )


#: replay -> (write, rows written, rows the burst guard counts)
REPLAYS: dict[str, tuple[Callable[[Session], None], int, int]] = {
    "incident via INSERT ... SELECT": (replay_with_insert_select, INCIDENT_ROWS, INCIDENT_COUNTED),
    "incident via COPY": (replay_with_copy, INCIDENT_ROWS, INCIDENT_COUNTED),
    "explicit now() with old business dates": (explicit_now_with_old_dates, 200, 200),
}


def stored_new_rows(s: Session) -> int:
    return int(s.scalar("SELECT count(*) FROM titan.jobs WHERE id <> 1"))


@pytest.mark.parametrize("replay", list(REPLAYS))
def test_enforce_rejects_the_burst(session: Session, replay: str) -> None:
    protect(session, "enforce")
    write, _, _ = REPLAYS[replay]
    with pytest.raises(psycopg.Error) as caught:
        write(session)
    assert caught.value.sqlstate == "GD002"
    assert "INSERT into titan.jobs rejected: burst" in str(caught.value.diag.message_primary)
    assert "guard.bypass" in str(caught.value.diag.message_hint)
    assert stored_new_rows(session) == 0


@pytest.mark.parametrize("replay", list(REPLAYS))
def test_quarantine_diverts_the_burst(session: Session, replay: str) -> None:
    protect(session, "quarantine")
    write, sent, counted = REPLAYS[replay]
    write(session)
    assert stored_new_rows(session) == sent - counted  # rows near their stamp are not diverted (schema 1.2)
    assert session.scalar("SELECT count(*) FROM guard.quarantine WHERE rule = 'burst'") == counted
    assert len(session.warnings) == 1 and "removed and stored in guard.quarantine" in session.warnings[0]
    # the quarantined payload is the full row, ready to be replayed with the right timestamp
    keys = session.scalar(
        "SELECT array_agg(DISTINCT k ORDER BY k) FROM guard.quarantine, jsonb_object_keys(row_data) k"
    )
    assert keys == ["amount", "created_at", "id", "scheduled_at", "warehouse_ingested_at"]


@pytest.mark.parametrize("replay", list(REPLAYS))
def test_audit_keeps_and_logs_the_burst(session: Session, replay: str) -> None:
    protect(session, "audit")
    write, sent, counted = REPLAYS[replay]
    write(session)
    assert stored_new_rows(session) == sent
    assert session.conn.execute("SELECT rule, action, row_count FROM guard.violations").fetchall() == [
        ("burst", "audit", counted)
    ]
    assert len(session.warnings) == 1


@pytest.mark.parametrize("mode", ["enforce", "quarantine", "audit"])
def test_legitimate_backfill_with_real_timestamps_passes(session: Session, mode: str) -> None:
    protect(session, mode)
    session.conn.execute(
        "INSERT INTO titan.jobs (id, created_at, scheduled_at)"
        " SELECT g, timestamptz '2020-01-01' + g * interval '5 hours', date '2020-01-01' + g / 4"
        " FROM generate_series(2, 10462) g"
    )
    assert stored_new_rows(session) == INCIDENT_ROWS
    assert session.warnings == []


def test_small_same_minute_batches_are_below_the_threshold(session: Session) -> None:
    protect(session, "enforce")
    session.conn.execute(
        "INSERT INTO titan.jobs (id, created_at, scheduled_at) SELECT g, now(), date '2020-01-01' + g * 30"
        " FROM generate_series(2, 100) g"
    )
    assert stored_new_rows(session) == 99


def test_bypass_by_member_is_allowed_and_logged(session: Session, make_role: Callable[..., str]) -> None:
    protect(session, "enforce")
    member = make_role("guard_bypass")
    session.conn.execute(
        sql.SQL("GRANT USAGE ON SCHEMA titan TO {0}; GRANT INSERT ON titan.jobs TO {0}").format(sql.Identifier(member))
    )
    with session.conn.transaction():
        session.conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(member)))
        session.conn.execute("SET LOCAL guard.bypass = 'replaying ST export with planning dates'")
        replay_with_insert_select(session)
    assert stored_new_rows(session) == INCIDENT_ROWS
    rows = session.conn.execute("SELECT rule, action, role_name, row_count, reason FROM guard.violations").fetchall()
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [("burst", "bypass", member, INCIDENT_COUNTED)]
    assert "replaying ST export" in rows[0][4]
    assert len(session.warnings) == 1 and session.warnings[0].startswith("guard: bypass on titan.jobs")


def test_bypass_does_not_cover_an_omitted_timestamp(session: Session) -> None:
    """A missing created_at is never a legitimate load: the bypass is for the burst guard only."""
    protect(session, "enforce")
    with pytest.raises(psycopg.Error) as caught, session.conn.transaction():
        session.conn.execute("SET LOCAL guard.bypass = 'backfill'")
        session.conn.execute("INSERT INTO titan.jobs (id, scheduled_at) VALUES (10, '2020-01-01')")
    assert caught.value.sqlstate == "GD001"


def test_bypass_by_non_member_is_refused(session: Session, make_role: Callable[..., str]) -> None:
    protect(session, "enforce")
    outsider = make_role("guard_writer")
    session.conn.execute(
        sql.SQL("GRANT USAGE ON SCHEMA titan TO {0}; GRANT INSERT ON titan.jobs TO {0}").format(
            sql.Identifier(outsider)
        )
    )
    with pytest.raises(psycopg.Error) as caught, session.conn.transaction():
        session.conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(outsider)))
        session.conn.execute("SET LOCAL guard.bypass = 'trust me'")
        replay_with_insert_select(session)
    assert caught.value.sqlstate == "GD003"
    assert f"role {outsider} is not a member of guard_bypass" in str(caught.value.diag.message_primary)
    assert stored_new_rows(session) == 0


def test_operator_and_function_hijack_from_unprivileged_role_fails(
    session: Session, jobs_dsn: str, make_role: Callable[..., str]
) -> None:
    """An attacker's search_path puts look-alike functions, operators and types first; guard code must not use them.

    The attack runs on a fresh connection so guard's functions are compiled under the attacker's search_path.
    """
    protect(session, "quarantine")
    attacker = make_role("guard_writer")
    ident = sql.Identifier(attacker)
    session.conn.execute(
        sql.SQL(
            "GRANT USAGE ON SCHEMA titan TO {0}; GRANT INSERT, SELECT, DELETE ON titan.jobs TO {0};"
            " CREATE SCHEMA evil AUTHORIZATION {0}"
        ).format(ident)
    )
    session.conn.execute(sql.SQL("SET ROLE {}").format(ident))
    session.conn.execute("""
        CREATE TABLE evil.calls (what text);
        GRANT ALL ON SCHEMA evil TO PUBLIC; GRANT ALL ON evil.calls TO PUBLIC;
        CREATE FUNCTION evil.pg_has_role(name, text, text) RETURNS boolean LANGUAGE sql
            AS $$ INSERT INTO evil.calls VALUES ('pg_has_role') RETURNING true $$;
        CREATE FUNCTION evil.jsonb_build_array(VARIADIC text[]) RETURNS jsonb LANGUAGE sql
            AS $$ INSERT INTO evil.calls VALUES ('jsonb_build_array') RETURNING '[]'::jsonb $$;
        CREATE FUNCTION evil.count(anyelement) RETURNS bigint LANGUAGE sql
            AS $$ INSERT INTO evil.calls VALUES ('count') RETURNING 0::bigint $$;
        CREATE FUNCTION evil.texteq_hijack(text, text) RETURNS boolean LANGUAGE sql
            AS $$ INSERT INTO evil.calls VALUES ('=') RETURNING true $$;
        CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.texteq_hijack);
        CREATE FUNCTION evil.int8lt_hijack(bigint, bigint) RETURNS boolean LANGUAGE sql
            AS $$ INSERT INTO evil.calls VALUES ('<') RETURNING true $$;
        CREATE OPERATOR evil.< (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.int8lt_hijack);
        CREATE TYPE evil.text AS (hijacked int);
        CREATE TYPE evil.timestamptz AS (hijacked int);
    """)
    session.conn.execute("RESET ROLE")
    attack = Session(jobs_dsn)
    try:
        attack.conn.execute(sql.SQL("SET ROLE {}").format(ident))
        attack.conn.execute("SET search_path = evil, pg_catalog")
        with pytest.raises(psycopg.Error) as caught, attack.conn.transaction():
            attack.conn.execute("SET LOCAL guard.bypass = 'hijacked'")
            explicit_now_with_old_dates(attack)
        assert caught.value.sqlstate == "GD003"  # the real pg_has_role said no
        attack.conn.execute("INSERT INTO titan.jobs (id, scheduled_at) VALUES (11, '2020-01-01')")
        explicit_now_with_old_dates(attack)  # 200 rows: the burst guard's slow path runs too
        attack.conn.execute("SHOW search_path")
        assert attack.scalar("SHOW search_path") == "evil, pg_catalog"  # restored after the burst check
        assert len(attack.warnings) == 2
    finally:
        attack.close()
    assert session.scalar("SELECT count(*) FROM evil.calls") == 0
    assert session.conn.execute("SELECT rule, count(*) FROM guard.quarantine GROUP BY 1 ORDER BY 1").fetchall() == [
        ("burst", 200),
        ("omitted_timestamp", 1),
    ]


def test_guard_tables_are_private(session: Session, make_role: Callable[..., str]) -> None:
    protect(session, "quarantine")
    stranger = make_role()
    session.conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(stranger)))
    for statement in (
        "SELECT * FROM guard.quarantine",
        "SELECT * FROM guard.violations",
        "INSERT INTO guard.violations (table_name, rule, action, reason, row_count, session_user_name, role_name,"
        " txid) VALUES ('x', 'burst', 'audit', 'x', 1, 'x', 'x', 1)",
        "SELECT guard.record_quarantine('titan.jobs'::regclass::oid, 'titan.jobs', 'burst', 'fake', '[{}]', 'someone')",
        "SELECT guard.protect_table('titan.jobs', 'created_at', 'audit')",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), session.conn.transaction():
            session.conn.execute(statement)


def test_writer_without_guard_writer_gets_a_clear_error(session: Session, make_role: Callable[..., str]) -> None:
    protect(session, "quarantine")
    ingest = make_role()
    session.conn.execute(
        sql.SQL("GRANT USAGE ON SCHEMA titan TO {0}; GRANT INSERT ON titan.jobs TO {0}").format(sql.Identifier(ingest))
    )
    session.conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(ingest)))
    with pytest.raises(psycopg.Error) as caught:
        session.conn.execute("INSERT INTO titan.jobs (id, scheduled_at) VALUES (10, '2020-01-01')")
    assert caught.value.sqlstate == "GD004"
    assert "GRANT guard_writer TO" in str(caught.value.diag.message_hint)


def test_burst_quarantine_without_delete_privilege_explains(session: Session, make_role: Callable[..., str]) -> None:
    protect(session, "quarantine")
    ingest = make_role("guard_writer")
    session.conn.execute(
        sql.SQL("GRANT USAGE ON SCHEMA titan TO {0}; GRANT INSERT ON titan.jobs TO {0}").format(sql.Identifier(ingest))
    )
    session.conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(ingest)))
    with pytest.raises(psycopg.Error) as caught:
        explicit_now_with_old_dates(session)
    assert caught.value.sqlstate == "GD004"
    assert f"GRANT SELECT, DELETE ON titan.jobs TO {ingest}" in str(caught.value.diag.message_hint)
