"""Writes read from real .sql files: kinds, targets, column lists, values, positions."""

from __future__ import annotations

from pathlib import Path

import pytest

from guard.model import WriteStatement
from guard.scan.frontends.sql.extract import extract_sql_file
from guard.scan.sql.parse import ParsedCandidate, parse_candidate

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sql"


def parse_fixture(name: str) -> ParsedCandidate:
    candidates, diagnostics = extract_sql_file((FIXTURES / name).read_text(), f"db/{name}")
    assert diagnostics == []
    assert len(candidates) == 1
    return parse_candidate(candidates[0])


@pytest.fixture(scope="module")
def writes() -> list[WriteStatement]:
    parsed = parse_fixture("writes.sql")
    assert parsed.diagnostics == []
    assert parsed.statements == 18
    return parsed.writes


def test_every_write_is_found_at_its_own_keyword(writes: list[WriteStatement]) -> None:
    assert [(w.line, w.column, w.end_line, w.kind, w.table) for w in writes] == [
        (2, 1, 3, "insert", "titan.jobs"),
        (5, 1, 7, "insert", "titan.jobs"),
        (9, 1, 9, "insert", "titan.jobs"),
        (11, 1, 14, "insert-select", "titan.jobs"),
        (16, 1, 16, "insert-select", "titan.jobs"),
        (18, 1, 19, "upsert", "titan.jobs"),
        (21, 1, 22, "upsert", "titan.jobs"),
        (27, 5, 29, "insert-select", "Audit.EventLog"),  # the data-modifying CTE
        (31, 1, 32, "insert-select", "titan.jobs"),  # WITH ... INSERT: at the INSERT, 7 lines below the WITH
        (34, 1, 34, "copy", "titan.jobs"),  # COPY ... TO and COPY (query) TO are reads
        (38, 1, 42, "insert", "titan.jobs"),  # MERGE ... WHEN NOT MATCHED THEN INSERT
        (44, 1, 44, "insert", "titan.settings"),
        (48, 57, 48, "insert", "titan.job_log"),  # CREATE RULE ... DO ALSO INSERT
        (49, 26, 49, "insert", "titan.jobs"),  # PREPARE ... AS INSERT
        (50, 17, 50, "insert", "titan.jobs"),  # EXPLAIN ANALYZE runs the INSERT
    ]
    assert all(w.relpath == "db/writes.sql" and w.origin == "sql-file" and w.parser == "pglast" for w in writes)


def test_named_columns_and_their_values(writes: list[WriteStatement]) -> None:
    first = writes[0]
    assert first.columns == ("st_id", "scheduled_at", "amount")
    assert first.values_width == 3
    assert first.column_values == (("st_id", "101"), ("scheduled_at", "'2020-03-01'"), ("amount", "9.50"))
    assert first.sql == "INSERT INTO titan.jobs (st_id, scheduled_at, amount)\nVALUES (101, '2020-03-01', 9.50)"
    assert first.on_conflict is None and not first.dynamic and first.default_columns == ()


def test_alias_case_folding_quoted_names_and_default_keyword(writes: list[WriteStatement]) -> None:
    aliased = writes[1]  # insert into Titan.Jobs AS m (st_id, "Scheduled_At") values (1, default), ...
    assert aliased.table == "titan.jobs"
    assert aliased.columns == ("st_id", "Scheduled_At")
    assert aliased.default_columns == ("Scheduled_At",)
    assert aliased.value_of("Scheduled_At") == "default"
    assert aliased.values_width == 2


def test_positional_insert_keys_values_by_position(writes: list[WriteStatement]) -> None:
    positional = writes[2]
    assert positional.columns is None
    assert positional.values_width == 5
    assert positional.value_of("#5") == "now()"


def test_insert_select_reads_the_select_list(writes: list[WriteStatement]) -> None:
    backfill = writes[3]
    assert backfill.columns == ("st_id", "created_at")
    assert backfill.values_width == 2
    assert backfill.column_values == (("st_id", "legacy.st"), ("created_at", "legacy.created_on"))
    star = writes[4]
    assert star.columns is None and star.values_width is None  # SELECT * has no known width


def test_on_conflict_variants(writes: list[WriteStatement]) -> None:
    assert (writes[5].on_conflict, writes[6].on_conflict) == ("nothing", "update")
    assert writes[6].columns == ("st_id", "amount")


def test_cte_writes(writes: list[WriteStatement]) -> None:
    inner, outer = writes[7], writes[8]
    assert outer.sql.startswith("WITH moved AS (") and outer.sql.endswith("SELECT st_id, scheduled_at FROM moved")
    assert inner.sql == (
        'INSERT INTO "Audit"."EventLog" (payload)\n    SELECT to_jsonb(moved) FROM moved\n    RETURNING id'
    )
    assert inner.columns == ("payload",)


def test_copy_merge_and_default_values(writes: list[WriteStatement]) -> None:
    copy, merge, defaults = writes[9], writes[10], writes[11]
    assert copy.columns == ("st_id", "scheduled_at") and copy.values_width is None
    assert merge.columns == ("st_id", "scheduled_at", "created_at")
    assert merge.value_of("created_at") == "s.created_at"
    assert defaults.columns == () and defaults.values_width == 0  # DEFAULT VALUES: every column defaulted


def test_recoverable_file_reports_bad_statements_and_keeps_the_good_ones() -> None:
    parsed = parse_fixture("broken.sql")
    assert [(w.line, w.table, w.columns, w.parser) for w in parsed.writes] == [
        (1, "titan.jobs", ("st_id",), "pglast"),
        (7, "titan.jobs", ("st_id", "scheduled_at"), "sqlglot"),  # MySQL upsert: sqlglot still reads it
        (10, "titan.jobs", ("st_id",), "pglast"),
    ]
    sqlglot_write = parsed.writes[1]
    assert sqlglot_write.kind == "upsert" and sqlglot_write.on_conflict == "update"
    assert sqlglot_write.end_line == 8
    assert [(d.line, d.kind) for d in parsed.diagnostics] == [(3, "unparsed-sql")]
    assert "syntax error" in parsed.diagnostics[0].message


def test_pg_dump_output_with_psql_commands_and_copy_data() -> None:
    parsed = parse_fixture("pg_dump.sql")
    assert parsed.diagnostics == []
    assert [(w.line, w.kind, w.table, w.columns) for w in parsed.writes] == [
        (13, "copy", "public.jobs", ("id", "created_at")),
        (18, "insert", "public.jobs", ("id",)),  # the "insert into" inside the COPY data is data, not SQL
    ]
    assert [(f.line, f.action, f.table) for f in parsed.facts] == [(8, "create", "public.jobs")]
