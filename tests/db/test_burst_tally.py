"""The burst guard since schema 1.2: only rows whose business date is far from their stamp reach PL/pgSQL and the
tally; since 1.3, only if they were stamped no earlier than the margin before their write.

These pin what that costs nothing for (clean backfills and clean fresh ingests never call the row function), what
it narrows (rows of a burst near their own stamp are not counted; `guard detect` still sees the whole burst), that
the tally needs no TEMPORARY privilege and is private to its session and statement, and that 1.1 -> 1.2 -> 1.1
works on a guarded table and gives back 1.1's catalog exactly.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql
from psycopg.conninfo import make_conninfo

from guard.cli import cli
from guard.db import ddl, migrate
from guard.db.intervals import margin_literal

from .conftest import GUARD_HEAD, Session, protect
from .test_burst_and_bypass import INCIDENT_COUNTED, INCIDENT_ROWS, replay_with_insert_select, stored_new_rows
from .test_migrations_cli import snapshot

#: 60 rows stamped now() with business dates years apart: a burst's worth of rows only when two statements are
#: added up (min_rows is 100).
BELOW = (
    "INSERT INTO titan.jobs (id, created_at, scheduled_at) SELECT g, now(), date '2020-01-01' + g * 7"
    " FROM generate_series(%s::int, %s::int) g"
)


def tally_rows(s: Session) -> int:
    return int(s.scalar("SELECT count(*) FROM guard.burst_tally"))


def row_function_calls(s: Session) -> int:
    """Calls of guard.on_burst_row() in the current transaction (track_functions must be on)."""
    return int(
        s.scalar("SELECT coalesce(sum(calls), 0) FROM pg_stat_xact_user_functions WHERE funcname = 'on_burst_row'")
    )


def grant_insert(s: Session, role: str) -> None:
    s.conn.execute(
        sql.SQL("GRANT USAGE ON SCHEMA titan TO {0}; GRANT INSERT, SELECT ON titan.jobs TO {0}").format(
            sql.Identifier(role)
        )
    )


def test_margin_is_half_of_what_min_span_leaves_beyond_the_window(session: Session) -> None:
    margin = session.conn.execute(
        "SELECT guard.burst_margin('1 minute', '180 days'), guard.burst_margin('1 hour', '30 minutes'),"
        " guard.burst_margin('1 minute', '6 months'), guard.burst_margin('1 minute', '1 year')"
    ).fetchone()
    assert margin == (
        (dt.timedelta(days=180) - dt.timedelta(minutes=1)) / 2,
        dt.timedelta(0),  # min_span <= window: every row counts
        (dt.timedelta(days=180) - dt.timedelta(minutes=1)) / 2,  # a month is 30 days, as interval comparison has it
        (dt.timedelta(days=360) - dt.timedelta(minutes=1)) / 2,
    )


def test_python_computes_the_margin_the_schema_computes(session: Session) -> None:
    """guard.db.ddl writes the margin literal a migration's trigger gets; it must be guard.burst_margin()'s."""
    pairs = [
        ("1 minute", "180 days"),
        ("00:01:00", "180 days"),  # the registry's spelling of a window
        ("90 seconds", "3 days 04:05:06.5"),
        ("1.5 hours", "2 weeks"),
        ("@ 1 hour", "30 minutes"),  # min_span <= window: 0
        ("1 minute", "1 day -00:00:07"),
        ("1 minute", "7 days 00:00:00.000001"),
    ]
    for window, min_span in pairs:
        literal = margin_literal(window, min_span)
        assert literal is not None, (window, min_span)
        same = session.scalar(
            "SELECT %s::interval = guard.burst_margin(%s, %s)"
            " AND extract(epoch FROM %s::interval) = extract(epoch FROM guard.burst_margin(%s, %s))",
            (literal, window, min_span, literal, window, min_span),
        )
        assert same, (window, min_span, literal)
    # months and years have no fixed length in timestamp arithmetic: the migration calls the function instead
    assert margin_literal("1 minute", "6 months") is None and margin_literal("1 minute", "1 year") is None
    settings = ddl.GuardSettings(business_column="scheduled_at", mode="enforce", min_span="6 mons")
    [row_trigger] = [text for text in ddl.trigger_statements("titan.jobs", settings, replacing=False) if "_row" in text]
    assert "guard.burst_margin('1 minute', '6 mons')" in row_trigger


def test_clean_loads_never_call_the_row_function(session: Session) -> None:
    """Backfill (business date ~ created_at, years ago) and fresh ingest (both ~ now): the WHEN filter stops them."""
    protect(session, "quarantine")
    session.conn.execute("SET track_functions = 'pl'")
    session.conn.execute("BEGIN")
    session.conn.execute(
        "INSERT INTO titan.jobs (id, created_at, scheduled_at)"
        " SELECT g, timestamptz '2020-01-01' + g * interval '5 hours', date '2020-01-01' + g * 5 / 24 + g % 30"
        " FROM generate_series(2, 10462) g"
    )
    session.conn.execute(
        "INSERT INTO titan.jobs (id, created_at, scheduled_at)"
        " SELECT g, now() - (g % 3600) * interval '1 second', current_date FROM generate_series(20000, 30000) g"
    )
    assert row_function_calls(session) == 0
    explicit_now = "INSERT INTO titan.jobs (id, created_at, scheduled_at) SELECT g, now(), date '2020-01-01' + g * 3"
    session.conn.execute(f"{explicit_now} FROM generate_series(40000, 40199) g")
    assert row_function_calls(session) == 200  # the burst's rows do reach it
    session.conn.execute("COMMIT")
    assert len(session.warnings) == 1 and "removed and stored" in session.warnings[0]
    assert tally_rows(session) == 0


def test_burst_rows_near_their_stamp_are_left_to_detect(session: Session, jobs_dsn: str, tmp_path: Path) -> None:
    """The documented narrowing: a burst at now() over 7 years of business dates is rejected... in part.

    In quarantine mode the rows whose scheduled_at is within the margin (~90 days) of now() are stored, not
    diverted; `guard detect` reads every stored row and reports them as part of the burst they belong to.
    """
    protect(session, "quarantine")
    session.conn.execute(
        "INSERT INTO titan.jobs (id, created_at, scheduled_at, amount)"
        " SELECT g, date_bin('1 minute', now(), 'epoch') + (g % 50) * interval '1 second',"
        " current_date - (g % 2300), 100 FROM generate_series(2, 10462) g"
    )
    near = session.scalar("SELECT count(*) FROM titan.jobs WHERE id <> 1")
    assert 0 < near < 500  # ~90 of the 2,300 business dates, each ~4.5 rows; the rest were diverted
    assert session.scalar("SELECT count(*) FROM guard.quarantine WHERE rule = 'burst'") == INCIDENT_ROWS - near
    assert (
        session.scalar(
            "SELECT count(*) FROM titan.jobs"
            " WHERE id <> 1 AND scheduled_at < created_at - guard.burst_margin('1 minute', '180 days')"
        )
        == 0
    )
    # the same rows stamped a year and a half before their write (schema 1.3): not checked at write time at all;
    # detect reads the stored rows whatever their stamp and sees the whole burst, near rows included
    session.conn.execute("DELETE FROM guard.quarantine")
    session.conn.execute("SELECT guard.set_mode('titan.jobs', 'audit', 'quarantine')")
    session.conn.execute(
        "INSERT INTO titan.jobs (id, created_at, scheduled_at, amount)"
        " SELECT g, timestamptz '2025-06-01 10:00+00' + (g % 50) * interval '1 second',"
        " date '2025-06-01' - (g % 2300), 100 FROM generate_series(100002, 110462) g"
    )
    assert session.scalar("SELECT count(*) FROM guard.violations WHERE rule = 'burst'") == 0
    config = tmp_path / "guard.toml"
    config.write_text('[tables."titan.jobs"]\nbusiness_column = "scheduled_at"\n')
    result = CliRunner().invoke(
        cli, ["detect", "--table", "titan.jobs", "--format", "json", "--dsn", jobs_dsn, "--config", str(config)]
    )
    assert result.exit_code == 1, result.output  # 1: bursts found
    (scan,) = json.loads(result.stdout)["tables"]
    found = {burst["window_start"]: burst["rows"] for burst in scan["bursts"]}
    assert found["2025-06-01T10:00:00Z"] == INCIDENT_ROWS  # every stored row of the burst, near ones included


def test_a_burst_stamped_long_before_its_write_costs_nothing_and_is_left_to_detect(session: Session) -> None:
    """The horizon (schema 1.3): a row stamped more than the margin before its transaction began is not a phantom
    stamp of this write (those come from the write's own clock), so the row trigger's first comparison stops it.
    A writer that stamps history with one old constant is therefore stored, even in enforce mode; detect finds it
    (previous test). Rows stamped within the margin before the write, or after it, are still checked."""
    protect(session, "enforce")
    session.conn.execute("SET track_functions = 'pl'")
    with session.conn.transaction():
        session.conn.execute(
            "INSERT INTO titan.jobs (id, created_at, scheduled_at)"
            " SELECT g, now() - interval '91 days' + (g % 50) * interval '1 second', date '2020-01-01' + g % 2000"
            " FROM generate_series(2, 1001) g"
        )
        assert row_function_calls(session) == 0
    assert stored_new_rows(session) == 1000
    for stamp in ("now() - interval '89 days'", "now() + interval '1 day'", "clock_timestamp()"):
        with pytest.raises(psycopg.Error) as caught:
            session.conn.execute(
                f"INSERT INTO titan.jobs (id, created_at, scheduled_at) SELECT g, {stamp}, date '2020-01-01' + g"
                " FROM generate_series(5000, 5999) g"
            )
        assert caught.value.sqlstate == "GD002", stamp


def test_migrations_and_the_schema_build_the_same_burst_triggers(session: Session) -> None:
    """guard.db.ddl renders the triggers a migration creates; guard.install_triggers (used by the 1.2 upgrade for
    tables guarded before it) builds them in SQL. Both must be the same guard, and it must catch the burst."""

    def burst_triggers() -> list[tuple[str, str]]:
        return session.conn.execute(
            "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger"
            " WHERE tgrelid = 'titan.jobs'::regclass AND tgname LIKE 'zz_guard_burst%' ORDER BY 1"
        ).fetchall()

    protect(session, "quarantine")
    by_schema = burst_triggers()
    session.conn.execute("SELECT guard.unprotect_table('titan.jobs')")
    settings = ddl.GuardSettings(business_column="scheduled_at", mode="quarantine")
    with session.conn.transaction():
        for statement in ddl.protect_statements("titan.jobs", settings):
            session.conn.execute(statement.encode())  # bytes: run as written, no parameter placeholders
    by_migration = burst_triggers()
    assert [name for name, _ in by_migration] == ["zz_guard_burst", "zz_guard_burst_row"]
    # the same, but for the window's spelling: the registry prints '00:01:00' where the settings say '1 minute'
    assert [text.replace("'00:01:00'", "'1 minute'") for _, text in by_schema] == [
        text.replace("'00:01:00'", "'1 minute'") for _, text in by_migration
    ]
    replay_with_insert_select(session)
    assert session.scalar("SELECT count(*) FROM guard.quarantine WHERE rule = 'burst'") == INCIDENT_COUNTED


def test_two_sessions_never_mix_their_tallies(session: Session, jobs_dsn: str) -> None:
    """Two open transactions interleave statements of 60 far rows: 240 rows stored, no statement a burst."""
    protect(session, "enforce")
    with psycopg.connect(jobs_dsn) as first, psycopg.connect(jobs_dsn) as second:
        first.execute(BELOW, (2, 61))
        second.execute(BELOW, (1002, 1061))
        first.execute(BELOW, (62, 121))
        second.execute(BELOW, (1062, 1121))
        # each statement took its own rows away: nothing left for the next statement, or for anyone else
        for conn in (first, second):
            assert conn.execute("SELECT count(*) FROM guard.burst_tally").fetchone() == (0,)
    assert stored_new_rows(session) == 240
    assert session.scalar("SELECT count(*) FROM guard.violations") == 0


def test_writes_spread_below_min_rows_pass(session: Session) -> None:
    protect(session, "enforce")
    with pytest.raises(psycopg.Error) as caught:
        replay_with_insert_select(session)
    assert caught.value.sqlstate == "GD002"
    assert tally_rows(session) == 0  # rolled back with the statement
    with session.conn.transaction():
        for start in range(2, 602, 50):
            session.conn.execute(BELOW, (start, start + 49))
    assert stored_new_rows(session) == 600
    assert tally_rows(session) == 0


@pytest.mark.parametrize("mode", ["enforce", "quarantine"])
def test_no_temporary_privilege_needed(
    session: Session, jobs_dsn: str, make_role: Callable[..., str], mode: str
) -> None:
    """A hardened database (TEMPORARY revoked from PUBLIC): an enforce-mode writer with no guard role at all, and a
    quarantine-mode writer with only what that mode asks for (guard_writer, DELETE on the table)."""
    protect(session, mode)
    database = session.scalar("SELECT current_database()")
    session.conn.execute(sql.SQL("REVOKE TEMPORARY ON DATABASE {} FROM PUBLIC").format(sql.Identifier(database)))
    ingest = make_role() if mode == "enforce" else make_role("guard_writer")
    grant_insert(session, ingest)
    if mode == "quarantine":
        session.conn.execute(sql.SQL("GRANT DELETE ON titan.jobs TO {}").format(sql.Identifier(ingest)))
    with psycopg.connect(make_conninfo(jobs_dsn, user=ingest), autocommit=True) as conn:
        assert conn.execute("SELECT has_database_privilege(current_database(), 'TEMPORARY')").fetchone() == (False,)
        conn.execute(BELOW, (2, 61))  # far rows, below the threshold: tallied and taken without error
        incident = f"INSERT INTO titan.jobs (id, created_at, scheduled_at, amount) {_incident_at_now()}"
        if mode == "enforce":
            with pytest.raises(psycopg.Error) as caught:
                conn.execute(incident)
            assert caught.value.sqlstate == "GD002"
        else:
            conn.execute(incident)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM guard.burst_tally")
    diverted = session.scalar("SELECT count(*) FROM guard.quarantine WHERE rule = 'burst'")
    assert (diverted > 0) == (mode == "quarantine")
    assert stored_new_rows(session) == 60 + (INCIDENT_ROWS - diverted if mode == "quarantine" else 0)


def _incident_at_now() -> str:
    return (
        "SELECT g, date_bin('1 minute', now(), 'epoch') + (g % 50) * interval '1 second',"
        " date '2020-01-01' + (g % 2300), 100 FROM generate_series(100002, 110462) g"
    )


def test_a_guard_writer_cannot_reach_the_tally(session: Session, jobs_dsn: str, make_role: Callable[..., str]) -> None:
    """No direct access; the row function cannot be attached to a table of one's own; take_burst only ever reads
    and removes the caller's own rows of its current statement, so another session's tally is out of reach."""
    protect(session, "quarantine")
    writer = make_role("guard_writer")
    grant_insert(session, writer)
    session.conn.execute(sql.SQL("CREATE SCHEMA {0} AUTHORIZATION {0}").format(sql.Identifier(writer)))
    # another session's rows, left in the tally: a burst's rows written straight into the table's tally by its
    # owner in an open transaction (as a statement trigger mid-way would see them)
    owner = Session(jobs_dsn)
    try:
        owner.conn.execute("BEGIN")
        owner.conn.execute(
            "INSERT INTO guard.burst_tally SELECT pg_backend_pid(), 'titan.jobs'::regclass, 1, pg_current_xact_id(),"
            " now(), now() - interval '5 years', '{\"id\": 1}'"
        )
        with psycopg.connect(make_conninfo(jobs_dsn, user=writer), autocommit=True) as conn:
            for statement in (
                "SELECT * FROM guard.burst_tally",
                "DELETE FROM guard.burst_tally",
                "INSERT INTO guard.burst_tally VALUES (1, 1, 1, '1', now(), now(), NULL)",
                f"CREATE TABLE {writer}.mine (id int, created_at timestamptz, scheduled_at date);"
                f" CREATE TRIGGER forge AFTER INSERT ON {writer}.mine FOR EACH ROW"
                " EXECUTE FUNCTION guard.on_burst_row('created_at', 'scheduled_at', 'quarantine', 'titan.jobs')",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
            # called outside a trigger it returns nothing; called from a trigger of one's own it sees only one's own
            # (empty) tally
            assert (
                conn.execute(
                    "SELECT * FROM guard.take_burst('titan.jobs'::regclass, 1, '1 minute', '1 day', true)"
                ).fetchone()
                == (None,) * 6
            )
            conn.execute(
                f"CREATE TABLE {writer}.probe (seen text); CREATE TABLE {writer}.poke (id int);"
                f" CREATE FUNCTION {writer}.peek() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                f" INSERT INTO {writer}.probe SELECT b::text FROM guard.take_burst('titan.jobs'::regclass, 1,"
                " '1 minute', '1 day', true) AS b; RETURN NULL; END $$;"
                f" CREATE TRIGGER peek AFTER INSERT ON {writer}.poke FOR EACH STATEMENT"
                f" EXECUTE FUNCTION {writer}.peek()"
            )
            conn.execute(f"INSERT INTO {writer}.poke VALUES (1)")
            assert conn.execute(f"SELECT seen FROM {writer}.probe").fetchall() == [("(,,,,,)",)]
        assert owner.scalar("SELECT count(*) FROM guard.burst_tally") == 1  # untouched by the writer
        owner.conn.execute("ROLLBACK")
    finally:
        owner.close()
    assert (
        session.scalar("SELECT count(*) FROM guard.quarantine")
        + session.scalar("SELECT count(*) FROM guard.violations")
        == 0
    )


def test_partitioned_table_tallies_every_partition(session: Session) -> None:
    """Row triggers fire on the partitions (TG_RELID is the partition); the parent's check reads the whole tree."""
    session.conn.execute(
        "CREATE TABLE titan.parts (id bigint, created_at timestamptz NOT NULL, scheduled_at date NOT NULL,"
        " PRIMARY KEY (id, scheduled_at)) PARTITION BY RANGE (scheduled_at);"
        " CREATE TABLE titan.parts_old PARTITION OF titan.parts FOR VALUES FROM (MINVALUE) TO ('2023-01-01');"
        " CREATE TABLE titan.parts_new PARTITION OF titan.parts FOR VALUES FROM ('2023-01-01') TO (MAXVALUE)"
    )
    session.conn.execute("SELECT guard.protect_table('titan.parts', 'created_at', 'quarantine', 'scheduled_at')")
    session.conn.execute(
        "INSERT INTO titan.parts SELECT g, now(), date '2020-01-01' + g * 3 FROM generate_series(1, 600) g"
    )
    assert session.scalar("SELECT count(*) FROM titan.parts") == 0
    assert session.scalar("SELECT count(*) FROM guard.quarantine WHERE table_name = 'titan.parts'") == 600
    # straight into a partition: not checked (the parent's statement trigger does not fire, as under 1.1); the
    # tally it leaves is removed by the backend's next check on the table
    session.conn.execute(
        "INSERT INTO titan.parts_old SELECT g, now(), date '2020-01-01' + g FROM generate_series(1, 300) g"
    )
    assert tally_rows(session) == 300
    session.conn.execute("INSERT INTO titan.parts VALUES (1000, now(), '2021-01-01')")
    assert tally_rows(session) == 0
    assert session.scalar("SELECT count(*) FROM titan.parts") == 301


@contextmanager
def quarantined_jobs_at(pg_dsn: str, revision: str) -> Iterator[Session]:
    """A database at ``revision`` with titan.jobs (a ``date`` business column) guarded in quarantine mode. On a
    clean exit the table, its guard and guard's records go, and the catalog must be exactly what ``revision``
    alone built: whatever the body upgraded and downgraded in between came back whole."""
    migrate.upgrade(pg_dsn, revision)
    before = snapshot(pg_dsn)
    s = Session(pg_dsn)
    try:
        s.conn.execute(
            "CREATE SCHEMA titan; CREATE TABLE titan.jobs (id bigint PRIMARY KEY,"
            " created_at timestamptz NOT NULL DEFAULT now(), scheduled_at date NOT NULL, amount numeric)"
        )
        protect(s, "quarantine")
        yield s
        s.conn.execute("SELECT guard.unprotect_table('titan.jobs')")
        s.conn.execute("DROP SCHEMA titan CASCADE")
        s.conn.execute("TRUNCATE guard.quarantine, guard.violations, guard.quarantined_rows")
    finally:
        s.close()
    assert snapshot(pg_dsn) == before


def test_schema_1_1_upgrades_to_1_2_and_back(pg_dsn: str) -> None:
    """A 1.1 database with a burst-guarded table moves to 1.2 (the trigger pair) and back to 1.1 exactly."""

    def burst_triggers(s: Session) -> list[tuple[str, bool]]:
        return s.conn.execute(
            "SELECT tgname, tgnewtable IS NOT NULL FROM pg_trigger"
            " WHERE tgrelid = 'titan.jobs'::regclass AND tgname LIKE 'zz_guard_burst%' ORDER BY 1"
        ).fetchall()

    with quarantined_jobs_at(pg_dsn, "guard_0002") as s:
        assert burst_triggers(s) == [("zz_guard_burst", True)]  # 1.1: a transition table
        migrate.upgrade(pg_dsn, "guard_0003")
        assert burst_triggers(s) == [("zz_guard_burst", False), ("zz_guard_burst_row", False)]
        replay_with_insert_select(s)
        assert s.scalar("SELECT count(*) FROM guard.quarantine WHERE rule = 'burst'") == INCIDENT_COUNTED
        migrate.downgrade(pg_dsn, "guard_0002")
        assert burst_triggers(s) == [("zz_guard_burst", True)]
        s.conn.execute("TRUNCATE titan.jobs, guard.quarantine")
        replay_with_insert_select(s)  # 1.1's guard is back and diverts every row of the burst
        assert s.scalar("SELECT count(*) FROM guard.quarantine WHERE rule = 'burst'") == INCIDENT_ROWS


def test_schema_1_2_moves_to_1_3_and_back_exactly(pg_dsn: str) -> None:
    """A 1.2 database with a burst-guarded table gets 1.3's row trigger (the horizon) and gives 1.2's back exactly."""
    old_stamp_burst = (
        "INSERT INTO titan.jobs (id, created_at, scheduled_at, amount) SELECT g, now() - interval '1 year',"
        " date '2020-01-01' + g, 1 FROM generate_series(%s::int, %s::int) g"
    )

    def row_trigger(s: Session) -> str:
        return str(
            s.scalar(
                "SELECT pg_get_triggerdef(oid) FROM pg_trigger"
                " WHERE tgrelid = 'titan.jobs'::regclass AND tgname = 'zz_guard_burst_row'"
            )
        )

    with quarantined_jobs_at(pg_dsn, "guard_0003") as s:
        under_1_2 = row_trigger(s)
        assert "now()" not in under_1_2
        s.conn.execute(old_stamp_burst, (2, 301))  # 1.2 checks every stamp: a burst, diverted
        assert s.scalar("SELECT count(*) FROM guard.quarantine WHERE rule = 'burst'") == 300
        migrate.upgrade(pg_dsn, "guard_0004")
        assert "(new.created_at > (now() - " in row_trigger(s).lower()
        s.conn.execute(old_stamp_burst, (20002, 20301))  # 1.3: stamped a year before the write, not checked
        assert s.scalar("SELECT count(*) FROM titan.jobs") == 300
        replay_with_insert_select(s)  # stamped at the write: diverted as before
        assert s.scalar("SELECT count(*) FROM guard.quarantine WHERE rule = 'burst'") == 300 + INCIDENT_COUNTED
        migrate.downgrade(pg_dsn, "guard_0003")
        assert row_trigger(s) == under_1_2


def test_a_revision_written_under_1_1_migrates_a_new_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_dsn: str
) -> None:
    """A project's protect revision that follows guard_0002 (written before 1.2) is a sibling of guard_0003; on a new
    database guard's own revisions must run first, so the revision finds the 1.2 functions its triggers call."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "guard.toml").write_text('[tables."titan.jobs"]\nbusiness_column = "scheduled_at"\n')
    assert CliRunner().invoke(cli, ["protect", "titan.jobs", "--mode", "enforce"]).exit_code == 0
    [path] = (tmp_path / "guard_migrations").glob("*.py")
    path.write_text(path.read_text().replace(f"down_revision = '{GUARD_HEAD}'", "down_revision = 'guard_0002'"))
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE SCHEMA titan; CREATE TABLE titan.jobs (id bigint PRIMARY KEY,"
            " created_at timestamptz NOT NULL DEFAULT now(), scheduled_at date NOT NULL, amount numeric)"
        )
    result = CliRunner().invoke(cli, ["migrate", "--dsn", pg_dsn])
    assert result.exit_code == 0, result.output
    s = Session(pg_dsn)
    try:
        with pytest.raises(psycopg.Error) as caught:
            replay_with_insert_select(s)
        assert caught.value.sqlstate == "GD002"
    finally:
        s.close()
