"""Writes inside function, procedure and DO bodies, reported on their own line of the file."""

from __future__ import annotations

from pathlib import Path

from guard.model import SqlCandidate
from guard.scan.frontends.sql.extract import extract_sql_file
from guard.scan.sql.parse import parse_candidate

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sql"


def test_bodies_of_every_language_are_searched() -> None:
    candidates, _ = extract_sql_file((FIXTURES / "routines.sql").read_text(), "db/routines.sql")
    parsed = parse_candidate(candidates[0])
    assert parsed.diagnostics == []
    assert parsed.statements == 7
    rows = [(w.line, w.column, w.table, w.columns, w.dynamic, w.origin, w.context) for w in parsed.writes]
    sync = "function titan.sync_jobs()"
    assert rows == [
        (9, 9, "titan.jobs", ("st_id", "scheduled_at"), False, "plpgsql", sync),
        (13, 13, "titan.job_events", ("job_id",), False, "plpgsql", sync),
        (16, 14, "titan.audit", ("note",), False, "plpgsql", f"{sync} EXECUTE"),
        (17, 21, "guard_hole_0.guard_hole_1", ("st_id",), True, "plpgsql", f"{sync} EXECUTE"),
        (18, 14, "guard_hole_0", ("st_id", "created_at"), True, "plpgsql", f"{sync} EXECUTE"),
        (25, 5, "titan.jobs", ("st_id",), False, "sql-file", "procedure titan.backfill()"),
        (26, 5, "titan.job_events", ("job_id", "created_at"), False, "sql-file", "procedure titan.backfill()"),
        (32, 5, "titan.jobs", ("st_id",), False, "sql-file", "function titan.add_job()"),  # BEGIN ATOMIC
        (37, 5, "titan.notes", ("body",), False, "sql-file", "function titan.quoted()"),  # '...' body
        (42, 5, "titan.jobs", ("st_id",), False, "plpgsql", "DO block"),
    ]
    by_line = {w.line: w for w in parsed.writes}
    assert by_line[9].end_line == 10
    assert by_line[9].column_values == (("st_id", "p_station"), ("scheduled_at", "now()"))
    assert by_line[9].sql == "INSERT INTO titan.jobs (st_id, scheduled_at)\n        VALUES (p_station, now())"
    assert by_line[17].sql == "INSERT INTO %I.%I (st_id) VALUES (%L)"
    assert by_line[18].value_of("created_at") == "now()"
    assert by_line[25].kind == "insert-select"


def test_body_that_plpgsql_rejects_is_a_diagnostic_not_a_crash() -> None:
    text = "\n\nCREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN INSERT INTO t VALUES (1) END $$;\n"
    candidates, _ = extract_sql_file(text, "f.sql")
    parsed = parse_candidate(candidates[0])
    assert [(d.line, d.kind) for d in parsed.diagnostics] == [(3, "unparsed-sql")]
    assert "function f()" in parsed.diagnostics[0].message


def test_bodies_in_python_strings_with_placeholders_map_to_the_python_file() -> None:
    text = "SELECT set_config('app.user', :user, false);\nDO $$\nBEGIN\n    INSERT INTO t (a) VALUES (1);\nEND $$"
    candidate = SqlCandidate("migrations/0003.py", 50, 17, text, "literal", context="op.execute")
    (write,) = parse_candidate(candidate).writes
    assert (write.line, write.column, write.context, write.sql) == (53, 5, "DO block", "INSERT INTO t (a) VALUES (1)")
