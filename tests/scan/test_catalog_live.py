"""load_live_catalog against a real PostgreSQL: ordered columns, defaults, read-only, clear errors."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from guard.errors import GuardError
from guard.scan.catalog import Catalog, is_now_like
from guard.scan.live_catalog import load_live_catalog

SCHEMA = """
CREATE SCHEMA titan;
CREATE TABLE titan.jobs (
    id bigserial PRIMARY KEY,
    st_id integer NOT NULL,
    dropped_soon text,
    scheduled_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE titan.jobs DROP COLUMN dropped_soon;
ALTER TABLE titan.jobs ADD COLUMN updated_at timestamp DEFAULT (now() AT TIME ZONE 'utc');
CREATE TABLE titan.events (
    id int GENERATED ALWAYS AS IDENTITY,
    logged_at timestamp DEFAULT CURRENT_TIMESTAMP,
    day date GENERATED ALWAYS AS (CAST(logged_at AS date)) STORED
);
CREATE TABLE titan.plain (id int, note text);
CREATE TABLE public."MixedCase" ("Id" int, made timestamptz DEFAULT clock_timestamp());
CREATE TABLE titan.by_year (id int, created_at timestamptz DEFAULT now()) PARTITION BY RANGE (created_at);
CREATE VIEW titan.jobs_view AS SELECT * FROM titan.jobs;
"""


@pytest.fixture
def warehouse_dsn(pg_dsn: str) -> str:
    with psycopg.connect(pg_dsn, autocommit=True) as connection:
        connection.execute(SCHEMA)
    return pg_dsn


def test_ordered_columns_and_defaults(warehouse_dsn: str) -> None:
    tables = {info.name: info for info in load_live_catalog(warehouse_dsn)}
    assert sorted(tables) == ["public.MixedCase", "titan.by_year", "titan.events", "titan.jobs", "titan.plain"]
    jobs = tables["titan.jobs"]
    assert jobs.columns == ["id", "st_id", "scheduled_at", "created_at", "updated_at"]  # dropped column skipped
    assert jobs.complete and jobs.sources == ["database"]
    assert jobs.defaults["created_at"] == "now()"
    assert jobs.defaults["id"].startswith("nextval(")
    assert is_now_like(jobs.defaults["updated_at"])  # Postgres prints it as timezone('utc'::text, now())
    events = tables["titan.events"]
    assert events.columns == ["id", "logged_at", "day"]
    assert events.defaults == {"logged_at": "CURRENT_TIMESTAMP"}  # generated expressions are not defaults
    assert tables["titan.plain"].defaults == {}
    assert tables["public.MixedCase"].columns == ["Id", "made"]
    assert is_now_like(tables["titan.by_year"].defaults["created_at"])


def test_schema_filter_and_catalog_merge(warehouse_dsn: str) -> None:
    tables = load_live_catalog(warehouse_dsn, schemas=["public"])
    assert [info.name for info in tables] == ["public.MixedCase"]
    catalog = Catalog.build([], load_live_catalog(warehouse_dsn), search_path=["titan", "public"])
    jobs = catalog.lookup("jobs")
    assert jobs is not None and jobs.name == "titan.jobs"


class _ObservedConnection(psycopg.Connection[Any]):
    """A real connection that notes, after each statement, the settings of the transaction it ran in."""

    observed: list[tuple[str, str]] = []

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        cursor = super().execute(query, params, **kwargs)
        with self.cursor() as probe:
            read_only = probe.execute("SHOW transaction_read_only").fetchone()
            timeout = probe.execute("SHOW statement_timeout").fetchone()
        assert read_only is not None and timeout is not None
        self.observed.append((read_only[0], timeout[0]))
        return cursor


def test_reads_in_a_read_only_transaction_with_a_timeout(warehouse_dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import guard.db.connect

    def observed_connect(dsn: str, **_: object) -> psycopg.Connection[Any]:
        return _ObservedConnection.connect(dsn)

    _ObservedConnection.observed = []
    monkeypatch.setattr(guard.db.connect, "connect", observed_connect)
    assert load_live_catalog(warehouse_dsn)
    # every statement (settings, columns, guard protection lookup) ran read-only with the timeout
    assert len(_ObservedConnection.observed) >= 2 and set(_ObservedConnection.observed) == {("on", "30s")}


@pytest.mark.parametrize(
    "dsn",
    ["postgresql://nobody:wrong@127.0.0.1:1/none", "this is not a dsn at all ==="],
)
def test_bad_dsn_is_a_guard_error_that_says_what_to_do(dsn: str) -> None:
    with pytest.raises(GuardError) as caught:
        load_live_catalog(dsn)
    message = str(caught.value)
    assert "dsn" in message.lower()
