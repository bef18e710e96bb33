"""The omission guard in each mode, for every way a row can reach the table without its created_at."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from .conftest import Session, protect

MODES = ["enforce", "quarantine", "audit"]


def single_values(s: Session) -> int:
    s.conn.execute("INSERT INTO titan.jobs (id, scheduled_at) VALUES (10, '2020-02-01')")
    return 1


def multi_values(s: Session) -> int:
    s.conn.execute(
        "INSERT INTO titan.jobs (id, scheduled_at) VALUES (10, '2020-02-01'), (11, '2021-02-01'), (12, '2022-02-01')"
    )
    return 3


def insert_select(s: Session) -> int:
    s.conn.execute(
        "INSERT INTO titan.jobs (id, scheduled_at) SELECT g, date '2024-01-01' + g FROM generate_series(10, 59) g"
    )
    return 50


def copy_from_stdin(s: Session) -> int:
    with s.conn.cursor() as cur, cur.copy("COPY titan.jobs (id, scheduled_at, amount) FROM STDIN") as copy:
        for i in range(10, 30):
            copy.write_row((i, f"2023-03-{i:02d}", i * 10))
    return 20


def explicit_default(s: Session) -> int:
    s.conn.execute("INSERT INTO titan.jobs (id, created_at, scheduled_at) VALUES (10, DEFAULT, '2020-02-01')")
    return 1


def on_conflict_do_nothing(s: Session) -> int:
    s.conn.execute("INSERT INTO titan.jobs (id, scheduled_at) VALUES (10, '2020-02-01') ON CONFLICT DO NOTHING")
    return 1


WRITES: dict[str, Callable[[Session], int]] = {
    "single VALUES": single_values,
    "multi-row VALUES": multi_values,
    "INSERT ... SELECT": insert_select,
    "COPY FROM STDIN": copy_from_stdin,
    "explicit DEFAULT": explicit_default,
    "ON CONFLICT DO NOTHING": on_conflict_do_nothing,
}


def stored_new_rows(s: Session) -> int:
    return int(s.scalar("SELECT count(*) FROM titan.jobs WHERE id <> 1"))


def quarantined(s: Session) -> int:
    return int(s.scalar("SELECT count(*) FROM guard.quarantine WHERE table_name = 'titan.jobs'"))


@pytest.mark.parametrize("write", list(WRITES), ids=list(WRITES))
def test_enforce_rejects_the_statement_with_guard_error(session: Session, write: str) -> None:
    protect(session, "enforce")
    with pytest.raises(psycopg.Error) as caught:
        WRITES[write](session)
    assert caught.value.sqlstate == "GD001"
    assert "titan.jobs.created_at was not given a value" in str(caught.value.diag.message_primary)
    assert "source system's creation time" in str(caught.value.diag.message_hint)
    assert stored_new_rows(session) == 0
    assert quarantined(session) == 0


@pytest.mark.parametrize("write", list(WRITES), ids=list(WRITES))
def test_quarantine_diverts_every_row_and_warns_once(session: Session, write: str) -> None:
    protect(session, "quarantine")
    sent = WRITES[write](session)
    assert stored_new_rows(session) == 0
    assert quarantined(session) == sent  # conservation: sent = stored + quarantined
    assert len(session.warnings) == 1
    assert session.warnings[0].startswith(f"guard: {sent} row(s) for titan.jobs were quarantined")
    row = session.conn.execute(
        "SELECT rule, row_data ->> 'created_at', session_user_name, role_name, txid FROM guard.quarantine LIMIT 1"
    ).fetchone()
    assert row is not None and row[0] == "omitted_timestamp" and row[1] == "-infinity"
    assert row[2] == row[3] == "postgres" and row[4] > 0


@pytest.mark.parametrize("write", list(WRITES), ids=list(WRITES))
def test_audit_stores_ingestion_time_logs_and_warns_once(session: Session, write: str) -> None:
    protect(session, "audit")
    sent = WRITES[write](session)
    assert stored_new_rows(session) == sent
    assert (
        session.scalar(
            "SELECT count(*) FROM titan.jobs WHERE id <> 1 AND created_at IS DISTINCT FROM warehouse_ingested_at"
        )
        == 0
    )
    assert session.scalar("SELECT sum(row_count) FROM guard.violations WHERE action = 'audit'") == sent
    assert (
        len(session.warnings) == 1
        and f"{sent} row(s) inserted into titan.jobs without created_at" in session.warnings[0]
    )


@pytest.mark.parametrize("mode", MODES)
def test_clean_rows_pass_silently_in_every_mode(session: Session, mode: str) -> None:
    protect(session, mode)
    session.conn.execute(
        "INSERT INTO titan.jobs SELECT g, timestamptz '2020-01-01' + g * interval '1 day', date '2020-01-01' + g, 1"
        " FROM generate_series(10, 509) g"
    )
    with (
        session.conn.cursor() as cur,
        cur.copy("COPY titan.jobs (id, created_at, scheduled_at, amount) FROM STDIN") as copy,
    ):
        copy.write_row((600, "2022-01-01 00:00+00", "2022-01-02", 5))
    assert stored_new_rows(session) == 501
    assert session.warnings == []
    assert quarantined(session) == 0
    assert session.scalar("SELECT count(*) FROM guard.violations") == 0


@pytest.mark.parametrize("mode", MODES)
def test_on_conflict_do_update_with_omitted_timestamp(session: Session, mode: str) -> None:
    """An upsert that omits created_at is judged on its INSERT path; the stored row keeps its history."""
    protect(session, mode)
    upsert = (
        "INSERT INTO titan.jobs (id, scheduled_at, amount) VALUES (1, '2021-05-03', 999)"
        " ON CONFLICT (id) DO UPDATE SET amount = EXCLUDED.amount"
    )
    if mode == "enforce":
        with pytest.raises(psycopg.Error) as caught:
            session.conn.execute(upsert)
        assert caught.value.sqlstate == "GD001"
        expected_amount = 100
    else:
        session.conn.execute(upsert)
        expected_amount = 100 if mode == "quarantine" else 999
    row = session.conn.execute("SELECT created_at::text, amount FROM titan.jobs WHERE id = 1").fetchone()
    assert row == ("2021-05-01 10:00:00+00", expected_amount)
    assert quarantined(session) == (1 if mode == "quarantine" else 0)


@pytest.mark.parametrize("mode", MODES)
def test_check_constraint_holds_with_triggers_disabled(session: Session, mode: str) -> None:
    """The backstop: with session_replication_role = replica (triggers off) a defaulted row still fails."""
    protect(session, mode)
    session.conn.execute("SET session_replication_role = replica")
    with pytest.raises(psycopg.Error) as caught:
        session.conn.execute("INSERT INTO titan.jobs (id, scheduled_at) VALUES (10, '2020-02-01')")
    assert caught.value.sqlstate == "GD001"
    assert caught.value.diag.column_name == "created_at"
    assert stored_new_rows(session) == 0


def test_enforce_mode_needs_no_row_trigger(session: Session) -> None:
    """Enforce is the constraint's job, so COPY keeps its multi-insert path (a BEFORE ROW trigger disables it)."""
    protect(session, "enforce")
    # the burst guard's row trigger fires AFTER the row (and only for rows far from their stamp): COPY still batches
    triggers = session.conn.execute(
        "SELECT tgname, (tgtype & 2) <> 0 FROM pg_trigger WHERE tgrelid = 'titan.jobs'::regclass ORDER BY 1"
    ).fetchall()
    assert triggers == [("zz_guard_burst", False), ("zz_guard_burst_row", False)]  # False: not BEFORE
    session.conn.execute("SELECT guard.set_mode('titan.jobs', 'audit', 'enforce')")
    assert session.scalar("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'titan.jobs'::regclass") == 4


def test_existing_rows_keep_null_ingestion_time(session: Session) -> None:
    protect(session, "enforce")
    session.conn.execute("INSERT INTO titan.jobs (id, created_at, scheduled_at) VALUES (2, '2022-01-01', '2022-01-02')")
    rows = session.conn.execute("SELECT id, warehouse_ingested_at IS NULL FROM titan.jobs ORDER BY id").fetchall()
    assert rows == [(1, True), (2, False)]


def test_partitioned_table_reports_once_for_the_parent(session: Session) -> None:
    """Row triggers fire per partition, the statement trigger on the parent: counts must still meet."""
    session.conn.execute(
        "CREATE TABLE titan.visits (id bigint, created_at timestamptz NOT NULL DEFAULT now(), day date,"
        " PRIMARY KEY (id, day)) PARTITION BY RANGE (day);"
        " CREATE TABLE titan.visits_old PARTITION OF titan.visits FOR VALUES FROM ('2020-01-01') TO ('2023-01-01');"
        " CREATE TABLE titan.visits_new PARTITION OF titan.visits FOR VALUES FROM ('2023-01-01') TO ('2030-01-01');"
        " SELECT guard.protect_table('titan.visits', 'created_at', 'quarantine', 'day')"
    )
    session.conn.execute("INSERT INTO titan.visits (id, day) VALUES (1, '2021-01-01'), (2, '2024-01-01')")
    assert session.warnings == [
        "guard: 2 row(s) for titan.visits were quarantined, not inserted: created_at was not given a value"
    ]
    assert session.scalar("SELECT count(*) FROM guard.quarantine WHERE table_name = 'titan.visits'") == 2
    assert session.scalar("SELECT count(*) FROM titan.visits") == 0


@pytest.mark.parametrize("mode", MODES)
def test_row_conservation_on_a_mixed_statement(session: Session, mode: str) -> None:
    """Clean and defaulted rows in one statement: every row sent is stored or quarantined, none vanish."""
    protect(session, mode)
    mixed = (
        "INSERT INTO titan.jobs (id, created_at, scheduled_at)"
        " SELECT g, CASE WHEN g % 3 = 0 THEN '-infinity' ELSE timestamptz '2021-01-01' + g * interval '1 hour' END,"
        " date '2021-01-01' + g / 24 FROM generate_series(10, 309) g"
    )
    sent, defaulted = 300, 100  # an explicit '-infinity' is indistinguishable from the sentinel: treated as omitted
    if mode == "enforce":
        with pytest.raises(psycopg.Error):
            session.conn.execute(mixed)
        assert stored_new_rows(session) + quarantined(session) == 0
        return
    session.conn.execute(mixed)
    assert stored_new_rows(session) + quarantined(session) == sent
    assert quarantined(session) == (defaulted if mode == "quarantine" else 0)
    assert len(session.warnings) == 1 and session.warnings[0].startswith(f"guard: {defaulted} row(s)")
