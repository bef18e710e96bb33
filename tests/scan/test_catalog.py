"""The catalog: facts replayed in file order, the live database on top, search_path resolution."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from guard.model import SchemaFact, TableInfo
from guard.scan.catalog import Catalog, is_now_like
from guard.scan.frontends.sql.extract import extract_sql_file
from guard.scan.rollback import down_section_line, is_rollback_path
from guard.scan.sql.parse import parse_candidate

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sql"


@pytest.mark.parametrize(
    "expression",
    [
        "now()",
        "NOW()",
        "pg_catalog.now()",
        "CURRENT_TIMESTAMP",
        "current_timestamp(3)",
        "transaction_timestamp()",
        "statement_timestamp()",
        "clock_timestamp()",
        "LOCALTIMESTAMP",
        "localtimestamp(0)",
        "CURRENT_DATE",
        "'now'::text::timestamptz",
        "('now'::text)::timestamp without time zone",
        "now()::timestamp",
        "CAST(now() AS timestamp)",
        "(now() AT TIME ZONE 'utc')",
        "(now() AT TIME ZONE 'utc'::text)",
        "timezone('utc', now())",
        "date_trunc('second', now())",
        "func.now()",
        "sa.func.now()",
        "func.current_timestamp()",
        "text('now()')",
        # the same instant as an epoch number, as real schemas store it
        "(EXTRACT(epoch FROM now()) * 1000)::bigint",
        "((date_part('epoch'::text, now()) * (1000)::double precision))::bigint",
        "extract(epoch from clock_timestamp())::integer",
        "floor(extract(epoch from statement_timestamp()) * 1000)",
        "round(EXTRACT(EPOCH FROM CURRENT_TIMESTAMP))",
        "1000 * extract(epoch from now())",
        "to_timestamp(extract(epoch from now()))",
        "(now() at time zone 'utc')::timestamp",
        "timezone('utc'::text, transaction_timestamp())",
        "CURRENT_TIMESTAMP(3)",
        "LOCALTIMESTAMP(0)",
        "((now()))",
    ],
)
def test_now_like_defaults(expression: str) -> None:
    assert is_now_like(expression)


@pytest.mark.parametrize(
    "expression",
    [
        None,
        "",
        "now() - interval '1 day'",  # arithmetic: an expiry or a window, not the time of the insert
        "now() + '30 days'::interval",
        "'now'",  # a bare string is a constant (Postgres freezes it when the table is created)
        "'2020-01-01'::timestamptz",
        "0",
        "nextval('jobs_id_seq'::regclass)",
        "CURRENT_TIME",
        "LOCALTIME",
        "foo.now()",
        "coalesce(now(), now())",
        "now(",
        "now(); DROP TABLE jobs",
        "gen_random_uuid()",
        "extract(epoch from now()) + 3600",  # an hour from now: an expiry
        "extract(hour from now())",
        "extract(epoch from now()) * ttl",
        "1000 / extract(epoch from now())",
        "round(extract(epoch from now()), digits)",
    ],
)
def test_not_now_like(expression: str | None) -> None:
    assert not is_now_like(expression)


def facts_from(name: str, relpath: str) -> list[SchemaFact]:
    candidates, _ = extract_sql_file((FIXTURES / name).read_text(), relpath)
    return parse_candidate(candidates[0]).facts


def test_schema_file_replayed_into_tables() -> None:
    catalog = Catalog.build(facts_from("schema_titan.sql", "schema/001_titan.sql"))
    jobs = catalog.lookup("titan.jobs")
    assert jobs is not None and jobs.complete
    assert jobs.columns == ["id", "station_id", "scheduled_at", "amount", "created_at", "updated_at"]
    assert jobs.defaults == {
        "created_at": "now()",
        "updated_at": "CURRENT_TIMESTAMP",
        "scheduled_at": "clock_timestamp()",
    }
    assert jobs.sources == ["ddl:schema/001_titan.sql:6", "ddl:schema/001_titan.sql:25", "ddl:schema/001_titan.sql:31"]
    runs = catalog.lookup("titan.runs")  # CREATE TABLE IF NOT EXISTS: creates what is missing, keeps what exists
    assert runs is not None and runs.complete and is_now_like(runs.defaults["started_at"])
    log = catalog.lookup("Audit.EventLog")
    assert log is not None and is_now_like(log.defaults["logged_at"])
    customers = catalog.lookup("customers")
    assert customers is not None and not customers.complete and customers.columns == ["email"]
    assert catalog.lookup("scratch") is None and catalog.lookup("titan.old_jobs") is None
    assert catalog.lookup("jobs_archive") is not None and catalog.lookup("legacy_jobs") is None
    assert catalog.lookup("archive.tmp") is not None and catalog.lookup("titan.tmp") is None
    snapshot = catalog.lookup("report_snapshot")
    assert snapshot is not None and snapshot.columns == ["id", "made_at"] and snapshot.defaults == {}
    names = [info.name for info in catalog.tables()]
    assert names == sorted(names) and "public.report_snapshot" in names


def test_add_column_sorted_before_the_create_is_merged_not_lost() -> None:
    facts = [
        SchemaFact("titan.jobs", "create", ("id", "st_id"), relpath="b/0002.sql", line=3),
        SchemaFact(
            "titan.jobs",
            "add_column",
            ("created_at",),
            (("created_at", "now()"),),
            relpath="a/0001.py",
            line=20,
            origin="alembic",
        ),
    ]
    jobs = Catalog.build(facts).lookup("titan.jobs")
    assert jobs is not None
    assert jobs.columns == ["id", "st_id", "created_at"] and jobs.complete
    assert jobs.defaults == {"created_at": "now()"}
    assert jobs.sources == ["alembic:a/0001.py:20", "ddl:b/0002.sql:3"]


def test_partitions_take_their_parents_columns() -> None:
    facts = [
        SchemaFact("titan.jobs_by_year", "create", ("id", "created_at"), (("created_at", "now()"),), "", "a.sql", 1),
        SchemaFact("titan.jobs_2024", "partition_of", new_name="titan.jobs_by_year", relpath="a.sql", line=5),
    ]
    partition = Catalog.build(facts).lookup("titan.jobs_2024")
    assert partition is not None and partition.complete
    assert partition.columns == ["id", "created_at"] and partition.defaults == {"created_at": "now()"}


def test_search_path_resolution_and_qualify() -> None:
    facts = [
        SchemaFact("jobs", "create", ("id",), relpath="a.sql", line=1),  # unqualified: first schema of the path
        SchemaFact("titan.jobs", "create", ("id", "created_at"), relpath="a.sql", line=2),
        SchemaFact("titan.runs", "create", ("id",), relpath="a.sql", line=3),
    ]
    catalog = Catalog.build(facts, search_path=["public", "titan"])
    public_jobs = catalog.lookup("jobs")
    assert public_jobs is not None and public_jobs.name == "public.jobs"
    assert catalog.qualify("jobs") == "public.jobs"
    assert catalog.qualify("runs") == "titan.runs"
    assert catalog.qualify("unknown") == "public.unknown"
    assert catalog.qualify("titan.jobs") == "titan.jobs"
    assert catalog.lookup("warehouse.titan.jobs") is catalog.lookup("titan.jobs")
    titan_first = Catalog.build(facts[1:], search_path=["$user", "titan", "public"])
    assert titan_first.qualify("jobs") == "titan.jobs"
    assert titan_first.search_path == ("titan", "public")


def test_the_live_database_wins() -> None:
    facts = [
        SchemaFact(
            "titan.jobs", "create", ("id", "created_at", "gone"), (("created_at", "now()"),), relpath="a.sql", line=1
        ),
    ]
    live = [
        TableInfo("titan.jobs", ["id", "st_id", "created_at"], {"created_at": "CURRENT_TIMESTAMP"}, True, ["database"]),
        TableInfo("titan.only_live", ["id"], {}, True, ["database"]),
    ]
    catalog = Catalog.build(facts, live)
    jobs = catalog.lookup("titan.jobs")
    assert jobs is not None
    assert jobs.columns == ["id", "st_id", "created_at"]
    assert jobs.defaults == {"created_at": "CURRENT_TIMESTAMP"}
    assert jobs.sources == ["ddl:a.sql:1", "database"]
    only_live = catalog.lookup("titan.only_live")
    assert only_live is not None and only_live.complete and only_live.sources == ["database"]
    assert live[0].columns == ["id", "st_id", "created_at"]  # inputs are not modified


@pytest.mark.parametrize(
    "relpath",
    [
        "migrations/0001_jobs.down.sql",
        "db/migrate/0002_add_index_down.sql",
        "rollback/0003.sql",
        "rollbacks/2024/0003.sql",
        "Rollback_scripts/drop.sql",
        "db/down/0003.sql",
        "sqitch/revert/jobs.sql",
        "sql/U2__drop_ledger.sql",
        "migrations/down.sql",
    ],
)
def test_rollback_scripts_are_recognised(relpath: str) -> None:
    assert is_rollback_path(relpath)


@pytest.mark.parametrize(
    "relpath",
    ["migrations/0001_jobs.up.sql", "schema/downtime_log.sql", "app/download.py", "sql/V2__create.sql", "undone.sql"],
)
def test_other_scripts_are_not_rollbacks(relpath: str) -> None:
    assert not is_rollback_path(relpath)


def test_rollback_facts_never_remove_tables_from_the_catalog() -> None:
    create = SchemaFact("jobs", "create", ("id", "created_at"), (("created_at", "now()"),), relpath="m/0001.up.sql")
    drop = SchemaFact("jobs", "drop_table", relpath="m/0001.down.sql")
    catalog = Catalog.build([create, drop])
    assert catalog.lookup("jobs") is not None
    assert Catalog.build([create, replace(drop, relpath="m/0002_drop_jobs.sql")]).lookup("jobs") is None


def test_dbmate_down_section_is_found() -> None:
    text = "-- migrate:up\nCREATE TABLE t (a int);\n\n-- migrate:down\nDROP TABLE t;\n"
    assert down_section_line(text) == 4
    assert down_section_line("SELECT '-- migrate:down';\n") is None
