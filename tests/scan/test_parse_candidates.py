"""Candidates from application code: placeholders, holes, prose, positions through concatenation."""

from __future__ import annotations

import pytest

from guard.model import SqlCandidate
from guard.scan.sql.parse import parse_candidate


def candidate(text: str, **fields: object) -> SqlCandidate:
    values: dict[str, object] = {"relpath": "app/jobs.py", "line": 10, "column": 13, "origin": "literal"}
    values.update(fields)
    return SqlCandidate(text=text, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO titan.jobs (st_id, scheduled_at) VALUES (%s, %s)",
        "INSERT INTO titan.jobs (st_id, scheduled_at) VALUES (%(st)s, %(at)s)",
        "INSERT INTO titan.jobs (st_id, scheduled_at) VALUES (:st, :at)",
        "INSERT INTO titan.jobs (st_id, scheduled_at) VALUES (?, ?)",
        "INSERT INTO titan.jobs (st_id, scheduled_at) VALUES ($1, $2)",
    ],
)
def test_every_placeholder_style_parses_and_values_are_quoted_as_written(sql: str) -> None:
    parsed = parse_candidate(candidate(sql))
    assert parsed.statements == 1 and parsed.diagnostics == []
    (write,) = parsed.writes
    assert (write.table, write.columns, write.values_width) == ("titan.jobs", ("st_id", "scheduled_at"), 2)
    start = sql.index("(", sql.index("VALUES")) + 1
    assert write.value_of("st_id") == sql[start : sql.index(",", start)]
    assert write.sql == sql and (write.line, write.column) == (10, 13)


@pytest.mark.parametrize(
    "text",
    [
        "Insert into the queue failed",
        "INSERT INTO jobs",
        "insert into the database",
        "Select the rows from the table",
        "Update the job when done",
        "Delete from cache failed for key",
        "copy the file to the bucket",
        "Create a new job",
        "drop the connection",
        "created_at",
        "st_id, scheduled_at",
        "",
        "   ",
        "SELECT 'unterminated",
        "We could not INSERT INTO titan.jobs (see logs)",
        "With retries, the insert may still fail",
        "Select one of the options, then save",
        "Values must be positive",
    ],
)
def test_prose_and_fragments_are_not_sql(text: str) -> None:
    parsed = parse_candidate(candidate(text))
    assert (parsed.statements, parsed.writes, parsed.diagnostics, parsed.facts) == (0, [], [], [])


def test_reads_are_statements_without_writes() -> None:
    parsed = parse_candidate(candidate("SELECT id FROM titan.jobs WHERE created_at > %s"))
    assert parsed.statements == 1 and parsed.writes == [] and parsed.diagnostics == []


def test_holes_make_a_write_dynamic() -> None:
    parsed = parse_candidate(candidate("INSERT INTO guard_hole_0 (st_id) VALUES (%s)", origin="fstring", dynamic=True))
    (write,) = parsed.writes
    assert write.dynamic and write.table == "guard_hole_0" and write.columns == ("st_id",)
    columns_hole = parse_candidate(candidate("INSERT INTO titan.jobs (guard_hole_0) VALUES (guard_hole_1)"))
    (write,) = columns_hole.writes
    assert write.dynamic and write.values_width is None  # VALUES ({placeholders}) has no known width


def test_holes_that_break_the_grammar_still_give_a_dynamic_write() -> None:
    parsed = parse_candidate(candidate('INSERT INTO titan.guard_hole_0 (a, "B") guard_hole_1', origin="fstring"))
    assert parsed.diagnostics == []
    (write,) = parsed.writes
    assert (write.table, write.columns, write.dynamic, write.parser) == (
        "titan.guard_hole_0",
        ("a", "B"),
        True,
        "textual",
    )


def test_positions_follow_line_starts_of_concatenated_pieces() -> None:
    # "INSERT INTO titan.jobs (st_id) " on line 20 col 9, then "VALUES (%s)" on line 21 col 9.
    text = "SELECT 1; INSERT INTO titan.jobs (st_id) VALUES (%s)"
    parsed = parse_candidate(candidate(text, line=20, column=9, line_starts=((0, 20, 9), (10, 21, 9))))
    (write,) = parsed.writes
    assert (write.line, write.column) == (21, 9)


def test_upsert_kinds_and_default_keyword_in_python_sql() -> None:
    sql = (
        "\n        INSERT INTO titan.jobs (st_id, created_at)\n        VALUES (%s, DEFAULT)\n"
        "        ON CONFLICT (st_id) DO UPDATE SET created_at = EXCLUDED.created_at\n    "
    )
    parsed = parse_candidate(candidate(sql, line=40, column=16))
    (write,) = parsed.writes
    assert (write.kind, write.on_conflict, write.default_columns) == ("upsert", "update", ("created_at",))
    assert (write.line, write.column, write.end_line) == (41, 9, 43)
    select_upsert = parse_candidate(candidate("INSERT INTO t (a) SELECT b FROM u ON CONFLICT DO NOTHING"))
    assert (select_upsert.writes[0].kind, select_upsert.writes[0].on_conflict) == ("upsert", "nothing")


def test_non_ascii_text_keeps_positions_exact() -> None:
    text = "-- café ☕\nINSERT INTO jobs (note, created_at) VALUES ('naïve €', now());\nINSERT INTO t (x) VALUES ('ü')"
    parsed = parse_candidate(candidate(text, line=1, column=1))
    assert [(w.line, w.column, w.value_of("note")) for w in parsed.writes] == [(2, 1, "'naïve €'"), (3, 1, None)]
    assert parsed.writes[1].value_of("x") == "'ü'"


def test_unparsed_sql_names_the_line_of_the_error() -> None:
    text = "INSERT INTO jobs (a) VALUES (1);\nINSERT INTO jobs (a, b)\nVALUES (1, 2) RETURNING RETURNING;"
    parsed = parse_candidate(candidate(text, line=5, column=1))
    assert parsed.statements == 2
    assert [w.line for w in parsed.writes] == [5]
    assert [(d.path, d.line, d.kind) for d in parsed.diagnostics] == [("app/jobs.py", 7, "unparsed-sql")]


def test_best_effort_and_context_are_carried() -> None:
    parsed = parse_candidate(candidate("INSERT INTO t (a) VALUES (1)", best_effort=True, context="execute"))
    (write,) = parsed.writes
    assert write.best_effort and write.context == "execute" and write.origin == "literal"


def test_non_ascii_tokens_match_postgres_scanner() -> None:
    from pglast.parser import scan

    from guard.scan.sql.text import SqlText

    text = "SELECT \"naïve\", café, 'ü€' FROM données -- é\nWHERE x = $$ß$$"
    expected = [(t.start, t.end, t.name) for t in scan(text) if t.name != "SQL_COMMENT"]
    assert [(t.start, t.end, t.name) for t in SqlText(text).tokens] == expected
