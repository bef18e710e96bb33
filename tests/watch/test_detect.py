"""guard detect against the re-created incident, through the CLI and a real PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest

from guard.db.session import transaction

from .incident import BURST_MINUTE, BURST_MONEY, BURST_ROWS, BUSINESS_FIRST, BUSINESS_LAST, Guard

# 1,440 ordinary events (one a minute on 2026-04-10) plus 500 written in one statement at 12:00:30
EVENTS_SQL = """
CREATE TABLE public.events (id serial PRIMARY KEY, created_at timestamptz NOT NULL, kind text);
INSERT INTO public.events (created_at, kind)
SELECT timestamptz '2026-04-10 00:00:00+00' + g * interval '1 minute', 'click' FROM generate_series(0, 1439) AS g;
INSERT INTO public.events (created_at, kind)
SELECT timestamptz '2026-04-10 12:00:30+00', 'import' FROM generate_series(1, 500);
CREATE TABLE public.lookup (code text PRIMARY KEY, label text);
"""


def test_detects_the_incident_exactly(incident: Guard) -> None:
    report = incident.json("detect", "--table", "titan.jobs", expect_exit=1)
    assert report["command"] == "detect"
    assert report["format_version"] == 2
    assert report["bursts_found"] == 1
    (scan,) = report["tables"]
    assert scan["basis"] == "business_span"
    assert scan["note"] == ""
    (burst,) = scan["bursts"]
    assert burst["rows"] == BURST_ROWS
    assert burst["window_start"] == BURST_MINUTE
    assert burst["window_end"] == "2026-04-03T04:08:00Z"
    assert burst["distinct_timestamps"] == 1  # one statement's now()
    assert burst["business_column"] == "scheduled_at"
    assert burst["business_min"] == BUSINESS_FIRST
    assert burst["business_max"] == BUSINESS_LAST
    assert burst["business_span_days"] == 1949.0
    assert burst["money_column"] == "invoice_total"
    assert Decimal(burst["money_sum"]) == BURST_MONEY
    lead_source = {"column": "lead_source", "value": "Imported Default Campaign", "rows": BURST_ROWS, "share": 1.0}
    assert lead_source in burst["signature"]


def test_burst_id_is_stable_and_table_output_names_it(incident: Guard) -> None:
    first = incident.json("detect", "--table", "titan.jobs")["tables"][0]["bursts"][0]["id"]
    result = incident.run("detect", "--table", "jobs")  # resolved through search_path
    assert result.exit_code == 1
    assert first in result.stdout
    assert "10,461" in result.stdout
    assert 'lead_source = "Imported Default Campaign"' in result.stdout
    assert "6,451,383.00" in result.stdout


def test_normal_traffic_is_not_a_burst(incident: Guard) -> None:
    report = incident.json("detect", "--table", "titan.jobs", "--since", "2026-04-04", expect_exit=0)
    assert report["bursts_found"] == 0
    assert report["tables"][0]["typical_rows_per_window"] is None  # only size-only tables need the median


def test_cli_thresholds_override_config(incident: Guard) -> None:
    # the burst spans 1,949 days: a 2,000-day minimum span makes it ordinary
    assert incident.json("detect", "--table", "titan.jobs", "--min-span", "2000d", expect_exit=0)["bursts_found"] == 0
    assert incident.json("detect", "--table", "titan.jobs", "--min-rows", "20000", expect_exit=0)["bursts_found"] == 0
    hourly = incident.json("detect", "--table", "titan.jobs", "--window", "1h", expect_exit=1)
    (burst,) = hourly["tables"][0]["bursts"]
    assert burst["window_start"] == "2026-04-03T04:00:00Z"
    assert burst["rows"] >= BURST_ROWS


def test_table_without_business_column_is_judged_by_size_and_says_so(incident: Guard) -> None:
    incident.query_script(EVENTS_SQL)
    report = incident.json("detect", "--table", "public.events", expect_exit=1)
    (scan,) = report["tables"]
    assert scan["basis"] == "size_only"
    assert "judged by size alone" in scan["note"]
    assert scan["typical_rows_per_window"] == 1.0  # one event a minute: the burst is 501x that
    (burst,) = scan["bursts"]
    assert burst["rows"] == 501  # the 500 imported rows plus the ordinary 12:00 event
    assert burst["window_start"] == "2026-04-10T12:00:00Z"
    assert burst["business_column"] is None
    assert burst["signature"] == [{"column": "kind", "value": "import", "rows": 500, "share": 0.998}]
    text = incident.run("detect", "--table", "public.events")
    assert "judged by size alone" in text.stdout


def test_without_table_scans_every_table_with_the_timestamp_column(incident: Guard) -> None:
    incident.query_script(EVENTS_SQL)
    report = incident.json("detect", expect_exit=1)
    assert [scan["table"] for scan in report["tables"]] == ["public.events", "titan.jobs"]  # by schema, then name
    assert report["bursts_found"] == 2


def test_unknown_table_is_a_clear_error(incident: Guard) -> None:
    result = incident.run("detect", "--table", "titan.nope")
    assert result.exit_code == 2
    assert "table 'titan.nope' not found" in result.stderr


def test_misconfigured_business_column_is_a_clear_error(incident: Guard, tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('search_path = ["titan"]\n[tables."titan.jobs"]\nbusiness_column = "scheduled_on"\n')
    result = incident.run("detect", "--table", "titan.jobs", "--config", str(bad), config=False)
    assert result.exit_code == 2
    assert "titan.jobs has no column 'scheduled_on' (wanted as business_column)" in result.stderr


def test_detect_does_not_wait_for_or_block_writers(incident: Guard) -> None:
    with psycopg.connect(incident.dsn) as writer:
        writer.execute("INSERT INTO titan.jobs (created_at, scheduled_at) VALUES (now(), now())")  # left uncommitted
        result = incident.run("detect", "--table", "titan.jobs", "--statement-timeout", "20s")
        assert result.exit_code == 1
        writer.execute("INSERT INTO titan.jobs (created_at, scheduled_at) VALUES (now(), now())")
        writer.commit()


def test_watch_transactions_are_read_only(incident: Guard) -> None:
    with transaction(incident.dsn) as conn:
        assert conn.execute("SHOW transaction_read_only").fetchone() == ("on",)
        assert conn.execute("SHOW statement_timeout").fetchone() == ("5min",)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("DELETE FROM titan.jobs")


def test_naive_timestamps_date_business_column_and_configured_signature(incident: Guard, tmp_path) -> None:
    incident.query_script(
        """
        CREATE TABLE public.orders (id int PRIMARY KEY, created_at timestamp, ordered_on date, channel text, sku text);
        INSERT INTO public.orders
        SELECT g, timestamp '2026-04-03 04:07:30', date '2020-01-01' + g % 2000, 'backfill', 'sku-' || g % 7
          FROM generate_series(1, 300) AS g;
        INSERT INTO public.orders
        SELECT 1000 + g, timestamp '2026-04-01 00:00:00' + g * interval '1 hour', date '2026-04-01', 'web', 'sku-1'
          FROM generate_series(1, 48) AS g;
        """
    )
    config = tmp_path / "orders.toml"
    config.write_text('[tables."public.orders"]\nbusiness_column = "ordered_on"\nsignature_columns = ["sku"]\n')
    report = incident.json("detect", "--table", "orders", "--config", str(config), config=False, expect_exit=1)
    (burst,) = report["tables"][0]["bursts"]
    assert (burst["window_start"], burst["rows"]) == ("2026-04-03T04:07:00", 300)  # no zone: shown as stored
    assert (burst["business_min"], burst["business_max"]) == ("2020-01-02", "2020-10-27")
    assert burst["business_span_days"] == 299.0
    # a configured signature column is reported even when its top value covers only a seventh of the burst
    assert burst["signature"] == [{"column": "sku", "value": "sku-1", "rows": 43, "share": 0.1433}]
    dry = incident.json(
        "quarantine", "--table", "orders", "--burst", burst["id"], "--config", str(config), config=False
    )
    assert dry["matching_rows"] == 300


def test_since_accepts_a_duration_back_from_now(incident: Guard) -> None:
    assert incident.json("detect", "--table", "titan.jobs", "--since", "36500d", expect_exit=1)["bursts_found"] == 1
    bad = incident.run("detect", "--table", "titan.jobs", "--since", "last tuesday")
    assert bad.exit_code == 2
    assert "neither an ISO timestamp nor a duration" in bad.output


def test_rows_re_stamped_by_update_or_upsert_are_found(guard: Guard) -> None:
    """The burst guard's documented limitation (UPDATE/upsert) has this safety net: detect sees stored rows."""
    guard.query_script(
        """
        CREATE SCHEMA titan;
        CREATE TABLE titan.jobs (id bigint PRIMARY KEY, created_at timestamptz NOT NULL,
                                 scheduled_at timestamptz, invoice_total numeric(12, 2));
        INSERT INTO titan.jobs SELECT g, timestamptz '2019-01-01' + g * interval '1 hour',
                                      timestamptz '2010-01-01' + g * interval '1 day', 10
          FROM generate_series(1, 6000) AS g;
        UPDATE titan.jobs SET created_at = timestamptz '2026-11-02 10:00:30' WHERE id <= 3000;
        INSERT INTO titan.jobs SELECT g, timestamptz '2019-01-01', timestamptz '2019-01-01' + g * interval '1 hour', 10
          FROM generate_series(3001, 3100) AS g
        ON CONFLICT (id) DO UPDATE SET created_at = timestamptz '2026-11-02 10:00:45';
        """
    )
    report = guard.json("detect", "--table", "titan.jobs")
    [burst] = report["tables"][0]["bursts"]
    assert burst["rows"] == 3100
