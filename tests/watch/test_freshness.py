"""guard freshness: ages computed by Postgres, per-table thresholds, the stale-table inventory."""

from __future__ import annotations

from pathlib import Path

import psycopg

from .incident import Guard

TABLES_SQL = """
CREATE SCHEMA ops;
CREATE TABLE ops.fresh (id int PRIMARY KEY, updated_at timestamptz);
INSERT INTO ops.fresh VALUES (1, now() - interval '1 hour'), (2, now() - interval '5 days');
CREATE TABLE ops.warm (id int PRIMARY KEY, created_at timestamp);   -- without time zone
INSERT INTO ops.warm VALUES (1, localtimestamp - interval '50 hours');
-- warehouse_ingested_at wins over created_at, even though created_at is newer
CREATE TABLE ops.call_logs (id int PRIMARY KEY, created_at timestamptz, warehouse_ingested_at timestamptz);
CREATE INDEX ON ops.call_logs (warehouse_ingested_at);
INSERT INTO ops.call_logs VALUES (1, now(), now() - interval '437.9 hours');
CREATE TABLE ops.strict (id int PRIMARY KEY, created_at date);
INSERT INTO ops.strict VALUES (1, current_date - 1);
CREATE TABLE ops.price_book (code text PRIMARY KEY, price numeric);  -- no timestamp column
CREATE TABLE ops.empty (id int PRIMARY KEY, created_at timestamptz);
CREATE TABLE other.ignored (id int, created_at timestamptz);
"""

CONFIG = """
search_path = ["ops"]

[freshness]
warn_after = "24h"
error_after = "72h"

[tables."ops.strict"]
error_after = "6h"

[tables."ops.call_logs"]
why = "3CX call ingestion broken. Demand signal lost."
"""


def _seed(guard: Guard, tmp_path: Path) -> Path:
    guard.query_script("CREATE SCHEMA other;" + TABLES_SQL)
    config = tmp_path / "fresh.toml"
    config.write_text(CONFIG)
    return config


def test_inventory_statuses_and_order(guard: Guard, tmp_path: Path) -> None:
    config = _seed(guard, tmp_path)
    report = guard.json("freshness", "--config", str(config), config=False, expect_exit=1)
    assert report["command"] == "freshness"
    rows = {t["table"]: t for t in report["tables"]}
    assert [t["table"] for t in report["tables"]] == [
        "ops.call_logs", "ops.warm", "ops.strict", "ops.fresh", "ops.empty", "ops.price_book",
    ]  # fmt: skip
    assert (rows["ops.call_logs"]["column"], rows["ops.call_logs"]["status"]) == ("warehouse_ingested_at", "error")
    assert rows["ops.call_logs"]["age_hours"] == 437.9
    assert rows["ops.call_logs"]["indexed"] is True
    assert rows["ops.call_logs"]["why"] == "3CX call ingestion broken. Demand signal lost."
    assert (rows["ops.warm"]["status"], rows["ops.warm"]["age_hours"]) == ("warn", 50.0)
    assert rows["ops.strict"]["status"] == "error"  # its own 6h error_after; the global one would say warn
    assert rows["ops.strict"]["error_after_seconds"] == 6 * 3600
    assert (rows["ops.fresh"]["status"], rows["ops.fresh"]["age_hours"]) == ("ok", 1.0)
    assert rows["ops.empty"]["status"] == "empty"
    assert rows["ops.price_book"]["status"] == "no_timestamp_column"
    assert rows["ops.price_book"]["age_seconds"] is None
    assert report["counts"]["error"] == 2


def test_fail_on_and_schema_selection(guard: Guard, tmp_path: Path) -> None:
    config = _seed(guard, tmp_path)
    guard.query_script(
        "CREATE SCHEMA calm; CREATE TABLE calm.t (updated_at timestamptz);"
        "INSERT INTO calm.t VALUES (now() - interval '30 hours')"
    )
    calm = guard.json("freshness", "--config", str(config), "--schema", "calm", config=False, expect_exit=0)
    assert [t["status"] for t in calm["tables"]] == ["warn"]
    strict = guard.json(
        "freshness", "--config", str(config), "--schema", "calm", "--fail-on", "warn", config=False, expect_exit=1
    )
    assert strict["fail_on"] == "warn"


def test_table_output_reads_like_the_seed_inventory(guard: Guard, tmp_path: Path) -> None:
    config = _seed(guard, tmp_path)
    result = guard.run("freshness", "--config", str(config), config=False)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert any("ops.call_logs" in line and "437.9" in line and "error" in line for line in lines)
    assert "no timestamp column" in result.stdout
    assert "Demand signal lost." in result.stdout
    assert "2 of 6 table(s) stale" not in result.stdout  # warm (warn) + call_logs + strict (error) = 3
    assert "3 of 6 table(s) stale (2 at error)" in result.stdout


def test_configured_freshness_column_must_exist(guard: Guard, tmp_path: Path) -> None:
    _seed(guard, tmp_path)
    config = tmp_path / "bad.toml"
    config.write_text('search_path = ["ops"]\n[tables."ops.fresh"]\nfreshness_column = "synced_at"\n')
    result = guard.run("freshness", "--config", str(config), config=False)
    assert result.exit_code == 2
    assert "ops.fresh has no column 'synced_at' (wanted as freshness_column)" in result.stderr


def test_a_table_that_cannot_be_read_in_time_is_reported_not_fatal(guard: Guard) -> None:
    guard.query_script(
        """
        CREATE SCHEMA busy;
        CREATE TABLE busy.locked (id int, created_at timestamptz);
        CREATE TABLE busy.open (id int, created_at timestamptz);
        INSERT INTO busy.open VALUES (1, now());
        """
    )
    with psycopg.connect(guard.dsn) as locker:
        locker.execute("LOCK TABLE busy.locked IN ACCESS EXCLUSIVE MODE")  # like a long ALTER TABLE
        report = guard.json("freshness", "--schema", "busy", "--statement-timeout", "1s", config=False)
    rows = {t["table"]: t for t in report["tables"]}
    assert rows["busy.locked"]["status"] == "timed_out"
    assert "statement timeout" in rows["busy.locked"]["note"]
    assert rows["busy.open"]["status"] == "ok"


def test_an_unknown_schema_is_an_error_not_an_empty_inventory(guard: Guard, tmp_path: Path) -> None:
    config = _seed(guard, tmp_path)
    result = guard.run("freshness", "--config", str(config), "--schema", "ops", "--schema", "opz", config=False)
    assert result.exit_code == 2
    assert "no schema opz in this database; check --schema" in result.stderr
    assert "Traceback" not in result.output
