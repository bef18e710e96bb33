"""guard quarantine / release on the re-created incident: reversible, nothing deleted, counts conserved."""

from __future__ import annotations

import json
import threading
import time
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from guard.db.session import session, transaction_on
from guard.watch.catalog import resolve_table
from guard.watch.quarantine import Applied, Selection, apply, where_selection

from .incident import BURST_MONEY, BURST_ROWS, NORMAL_MONEY, NORMAL_ROWS, Guard

TOTAL_ROWS = BURST_ROWS + NORMAL_ROWS


def _burst_id(guard: Guard) -> str:
    return guard.json("detect", "--table", "titan.jobs")["tables"][0]["bursts"][0]["id"]


def _counts(guard: Guard) -> tuple[int, Decimal, int, Decimal]:
    base_rows, base_sum = guard.query("SELECT count(*), sum(invoice_total) FROM titan.jobs")[0]
    clean_rows, clean_sum = guard.query("SELECT count(*), sum(invoice_total) FROM titan.jobs_clean")[0]
    return base_rows, base_sum, clean_rows, clean_sum


def _open_quarantine(guard: Guard) -> int:
    return guard.scalar("SELECT count(*) FROM guard.quarantined_rows WHERE released_at IS NULL")


def test_dry_run_counts_and_samples_without_writing(incident: Guard) -> None:
    report = incident.json("quarantine", "--table", "titan.jobs", "--burst", _burst_id(incident), expect_exit=0)
    assert report["mode"] == "dry_run"
    assert report["matching_rows"] == BURST_ROWS
    assert report["already_quarantined"] == 0
    assert len(report["sample"]) == 5
    assert set(report["sample"][0]) == {"id", "created_at", "scheduled_at", "invoice_total"}
    assert report["sample"][0]["created_at"] == "2026-04-03T04:07:12.345678Z"
    assert incident.scalar("SELECT count(*) FROM guard.quarantined_rows") == 0
    assert incident.scalar("SELECT to_regclass('titan.jobs_clean')") is None
    text = incident.run("quarantine", "--table", "titan.jobs", "--burst", _burst_id(incident))
    assert "Dry run: 10,461 row(s) of titan.jobs match phantom burst" in text.stdout
    assert "Nothing was written" in text.stdout


def test_apply_then_release_round_trip(incident: Guard) -> None:
    burst = _burst_id(incident)
    applied = incident.json("quarantine", "--table", "titan.jobs", "--burst", burst, "--apply", expect_exit=0)
    assert applied["mode"] == "apply"
    assert applied["recorded_rows"] == BURST_ROWS
    assert applied["clean_view"] == "titan.jobs_clean"
    assert applied["reason"].startswith(f"phantom burst {burst}")
    base_rows, base_sum, clean_rows, clean_sum = _counts(incident)
    assert (base_rows, base_sum) == (TOTAL_ROWS, BURST_MONEY + NORMAL_MONEY)  # base table untouched
    assert clean_sum == NORMAL_MONEY == base_sum - BURST_MONEY  # the phantom $6.4M is gone from the view
    assert clean_rows == NORMAL_ROWS
    assert base_rows == clean_rows + _open_quarantine(incident)  # conserved
    row = incident.query(
        "SELECT row_key, batch_id, quarantined_by FROM guard.quarantined_rows ORDER BY (row_key->>'id')::int LIMIT 1"
    )[0]
    assert row == ({"id": NORMAL_ROWS + 1}, applied["batch_id"], "postgres")

    again = incident.json("quarantine", "--table", "titan.jobs", "--burst", burst, "--apply")
    assert (again["recorded_rows"], again["already_quarantined"]) == (0, BURST_ROWS)

    released = incident.json("release", "--batch", applied["batch_id"], expect_exit=0, config=False)
    assert released == {
        "command": "release",
        "format_version": 2,
        "batch_id": applied["batch_id"],
        "tables": ["titan.jobs"],
        "released_rows": BURST_ROWS,
        "already_released": 0,
        "diagnostics": [],
    }
    base_rows, base_sum, clean_rows, clean_sum = _counts(incident)
    assert (clean_rows, clean_sum) == (base_rows, base_sum) == (TOTAL_ROWS, BURST_MONEY + NORMAL_MONEY)
    assert incident.scalar("SELECT count(*) FROM guard.quarantined_rows") == BURST_ROWS + 0  # history kept

    twice = incident.run("release", "--batch", applied["batch_id"], config=False)
    assert twice.exit_code == 0
    assert "already released" in twice.stdout


def test_release_list_and_unknown_batch(incident: Guard) -> None:
    applied = incident.json("quarantine", "--table", "titan.jobs", "--burst", _burst_id(incident), "--apply")
    listing = incident.json("release", "--list", config=False)
    (batch,) = listing["batches"]
    assert (batch["batch_id"], batch["table"], batch["rows"], batch["released_at"]) == (
        applied["batch_id"], "titan.jobs", BURST_ROWS, None,
    )  # fmt: skip
    unknown = incident.run("release", "--batch", "q-nope", config=False)
    assert unknown.exit_code == 2
    assert "no quarantine batch 'q-nope'" in unknown.stderr


def test_where_predicate_quarantines_the_same_rows(incident: Guard) -> None:
    predicate = "lead_source = 'Imported Default Campaign' -- the import's signature"
    dry = incident.json("quarantine", "--table", "titan.jobs", "--where", predicate)
    assert dry["matching_rows"] == BURST_ROWS
    assert dry["selection"] == "where lead_source = 'Imported Default Campaign'"
    applied = incident.json("quarantine", "--table", "titan.jobs", "--where", predicate, "--apply", "--reason", "Apr 3")
    assert applied["recorded_rows"] == BURST_ROWS
    assert incident.scalar("SELECT DISTINCT reason FROM guard.quarantined_rows") == "Apr 3"
    assert incident.scalar("SELECT sum(invoice_total) FROM titan.jobs_clean") == NORMAL_MONEY


def test_from_detect_report(incident: Guard, tmp_path: Path) -> None:
    report = tmp_path / "bursts.json"
    report.write_text(incident.run("detect", "--format", "json").stdout)
    dry = incident.json("quarantine", "--table", "titan.jobs", "--from-detect", str(report))
    assert (dry["matching_rows"], dry["expected_rows"]) == (BURST_ROWS, BURST_ROWS)
    applied = incident.json("quarantine", "--table", "titan.jobs", "--from-detect", str(report), "--apply")
    assert applied["recorded_rows"] == BURST_ROWS

    not_a_report = tmp_path / "other.json"
    not_a_report.write_text(json.dumps({"tables": []}))
    result = incident.run("quarantine", "--table", "titan.jobs", "--from-detect", str(not_a_report))
    assert result.exit_code == 2
    assert "is not a `guard detect --format json` report" in result.stderr


def test_table_without_primary_key_is_refused(incident: Guard) -> None:
    incident.query_script("CREATE TABLE public.raw_events (created_at timestamptz, kind text)")
    result = incident.run("quarantine", "--table", "public.raw_events", "--where", "kind = 'x'", "--apply")
    assert result.exit_code == 2
    assert "public.raw_events has no primary key" in result.stderr


@pytest.mark.parametrize(
    ("predicate", "message"),
    [
        ("lead_source = ", "not a valid SQL boolean expression"),
        ("true; DELETE FROM titan.jobs", "single expression"),
        ("id IN (WITH d AS (DELETE FROM titan.jobs RETURNING id) SELECT id FROM d)", "data-modifying WITH"),
        ("true FOR UPDATE", "FOR UPDATE"),
        ("pg_sleep(1) IS NOT NULL", "pg_sleep(), a volatile function"),
        ("nextval('titan.jobs_id_seq') > 0", "nextval(), a volatile function"),
        ("true) OR (true", "not a valid SQL boolean expression"),
        ("no_such_function(id)", "does not exist"),
    ],
)
def test_bad_or_writing_predicates_are_refused(incident: Guard, predicate: str, message: str) -> None:
    result = incident.run("quarantine", "--table", "titan.jobs", "--where", predicate, "--apply")
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert incident.scalar("SELECT count(*) FROM titan.jobs") == TOTAL_ROWS
    assert incident.scalar("SELECT count(*) FROM guard.quarantined_rows") == 0


def test_predicate_on_unknown_column_is_a_database_error(incident: Guard) -> None:
    result = incident.run("quarantine", "--table", "titan.jobs", "--where", "nope = 1")
    assert result.exit_code == 2
    assert 'column "nope" does not exist' in result.stderr


def test_usage_errors(incident: Guard) -> None:
    neither = incident.run("quarantine", "--table", "titan.jobs")
    assert neither.exit_code == 2
    assert "exactly one of --burst, --where or --from-detect" in neither.output
    unknown_table = incident.run("quarantine", "--table", "titan.nope", "--where", "true")
    assert unknown_table.exit_code == 2
    assert "table 'titan.nope' not found" in unknown_table.stderr
    unknown_burst = incident.run("quarantine", "--table", "titan.jobs", "--burst", "b000000000000")
    assert unknown_burst.exit_code == 2
    assert "no burst b000000000000 in titan.jobs" in unknown_burst.stderr


def test_refuses_to_replace_a_relation_it_did_not_create(incident: Guard) -> None:
    incident.query_script("CREATE VIEW titan.jobs_clean AS SELECT * FROM titan.jobs")
    result = incident.run("quarantine", "--table", "titan.jobs", "--where", "id = 1", "--apply")
    assert result.exit_code == 2
    assert "titan.jobs_clean already exists and was not created by guard" in result.stderr
    assert incident.scalar("SELECT count(*) FROM guard.quarantined_rows") == 0  # the whole batch rolled back


def test_apply_without_guard_schema_says_how_to_install_it(guard: Guard) -> None:
    guard.query_script("CREATE TABLE public.t (id int PRIMARY KEY, created_at timestamptz)")
    dry = guard.run("quarantine", "--table", "t", "--where", "id = 1")
    assert dry.exit_code == 0
    assert "the guard schema is not installed" in dry.stdout
    result = guard.run("quarantine", "--table", "t", "--where", "id = 1", "--apply")
    assert result.exit_code == 2
    assert "the guard schema is not installed in this database; run `guard migrate --dsn ...`" in result.stderr
    released = guard.run("release", "--batch", "q1", config=False)
    assert released.exit_code == 2
    assert "guard migrate" in released.stderr


def test_composite_primary_key(incident: Guard) -> None:
    incident.query_script(
        """
        CREATE TABLE titan.line_items (job_id int, line int, created_at timestamptz, amount numeric,
                                       PRIMARY KEY (job_id, line));
        INSERT INTO titan.line_items SELECT g / 3, g % 3, now(), g FROM generate_series(0, 29) AS g;
        """
    )
    applied = incident.json("quarantine", "--table", "titan.line_items", "--where", "amount >= 20", "--apply")
    assert applied["recorded_rows"] == 10
    assert incident.scalar("SELECT count(*) FROM titan.line_items_clean") == 20
    assert incident.scalar(
        "SELECT row_key FROM guard.quarantined_rows WHERE table_name = 'titan.line_items' ORDER BY id LIMIT 1"
    ) == {"job_id": 6, "line": 2}


def _apply_where(dsn: str, where: str, reason: str) -> Applied:
    with session(dsn) as conn:
        with transaction_on(conn, read_only=True):
            target = resolve_table(conn, "titan.jobs", ["public"])
            selection = where_selection(conn, target, where)
        return apply(conn, target, selection, reason, 60.0)


def test_concurrent_applies_never_record_a_row_twice(incident: Guard) -> None:
    """Both runs select the same rows; batches are serialised per table, so the second records none of them."""
    where = "invoice_total > 0"
    expected = incident.scalar(f"SELECT count(*) FROM titan.jobs WHERE {where}")
    results: list[Applied] = []
    with psycopg.connect(incident.dsn, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(hashtext('guard.quarantine'), hashtext('titan.jobs'))")
        threads = [
            threading.Thread(target=lambda n=n: results.append(_apply_where(incident.dsn, where, f"run {n}")))
            for n in (1, 2)
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # both have captured their keys and wait for the batch lock
            waiting = holder.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            ).fetchone()
            if waiting == (2,):
                break
            time.sleep(0.05)
        holder.execute("SELECT pg_advisory_unlock(hashtext('guard.quarantine'), hashtext('titan.jobs'))")
        for thread in threads:
            thread.join(timeout=60)
    assert sorted(r.matching_rows for r in results) == [expected, expected]
    assert sorted(r.recorded_rows for r in results) == [0, expected]
    assert incident.scalar(
        "SELECT count(*) - count(DISTINCT row_key) FROM guard.quarantined_rows WHERE released_at IS NULL"
    ) == 0
    first = next(r for r in results if r.recorded_rows)
    clean_before = incident.scalar("SELECT count(*) FROM titan.jobs_clean")
    released = incident.json("release", "--batch", first.batch_id)
    assert released["released_rows"] == expected
    assert incident.scalar("SELECT count(*) FROM titan.jobs_clean") == clean_before + expected


def test_active_keys_are_unique_whatever_writes_the_table(incident: Guard) -> None:
    incident.query_script(
        "INSERT INTO guard.quarantined_rows (table_name, row_key, batch_id, reason)"
        " VALUES ('titan.jobs', '{\"id\": 1}', 'a', 'x');"
    )
    with pytest.raises(psycopg.errors.UniqueViolation):
        incident.query_script(
            "INSERT INTO guard.quarantined_rows (table_name, row_key, batch_id, reason)"
            " VALUES ('titan.jobs', '{\"id\": 1}', 'b', 'x');"
        )


def test_the_selection_runs_read_only_until_the_keys_are_captured(incident: Guard) -> None:
    """Defence in depth behind the --where allowlist: a selection that did call a writing function cannot write."""
    incident.query_script(
        """
        CREATE TABLE public.side_effects (n int);
        CREATE FUNCTION public.noisy(bigint) RETURNS boolean LANGUAGE sql VOLATILE
            AS 'INSERT INTO public.side_effects VALUES (1) RETURNING true';
        """
    )
    with session(incident.dsn) as conn:
        with transaction_on(conn, read_only=True):
            target = resolve_table(conn, "titan.jobs", ["public"])
        smuggled = Selection("smuggled", sql.SQL("public.noisy(id)"))
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            apply(conn, target, smuggled, "test", 60.0)
    assert incident.scalar("SELECT count(*) FROM public.side_effects") == 0
    assert _open_quarantine(incident) == 0
