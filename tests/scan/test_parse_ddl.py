"""Schema facts from DDL, with defaults quoted as written."""

from __future__ import annotations

from pathlib import Path

from guard.model import SchemaFact, SqlCandidate
from guard.scan.frontends.sql.extract import extract_sql_file
from guard.scan.sql.parse import parse_candidate

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sql"


def facts_of(name: str) -> list[SchemaFact]:
    candidates, _ = extract_sql_file((FIXTURES / name).read_text(), f"schema/{name}")
    parsed = parse_candidate(candidates[0])
    assert parsed.diagnostics == [] and parsed.writes == []
    return parsed.facts


def test_schema_file_facts() -> None:
    facts = facts_of("schema_titan.sql")
    assert [(f.line, f.action, f.table, f.columns, f.defaults, f.new_name) for f in facts] == [
        (
            6,
            "create",
            "titan.jobs",
            ("id", "st_id", "scheduled_at", "amount", "created_at", "Source"),
            (("amount", "0"), ("created_at", "now()"), ("Source", "'portal'::text")),
            None,
        ),
        (
            15,
            "create",
            "Audit.EventLog",
            ("id", "payload", "logged_at"),
            (("logged_at", "(now() AT TIME ZONE 'utc')"),),
            None,
        ),
        (21, "add_column", "public.customers", ("email",), (), None),  # LIKE: only part of the columns
        (23, "partition_of", "titan.jobs_2024", (), (), "titan.jobs_by_year"),
        (25, "add_column", "titan.jobs", ("updated_at",), (("updated_at", "CURRENT_TIMESTAMP"),), None),
        (25, "drop_default", "titan.jobs", ("amount",), (), None),
        (25, "set_default", "titan.jobs", ("scheduled_at",), (("scheduled_at", "clock_timestamp()"),), None),
        (25, "drop_column", "titan.jobs", ("Source",), (), None),
        (31, "rename_column", "titan.jobs", ("st_id",), (), "station_id"),
        (32, "rename_table", "legacy_jobs", (), (), "jobs_archive"),
        (33, "rename_table", "titan.tmp", (), (), "archive.tmp"),
        (34, "drop_table", "scratch", (), (), None),
        (34, "drop_table", "titan.old_jobs", (), (), None),
        (35, "create", "report_snapshot", ("id", "made_at"), (), None),  # CREATE TABLE AS: no defaults
        (38, "create_if_missing", "titan.jobs", ("id",), (), None),
        (
            39,
            "create_if_missing",
            "titan.runs",
            ("id", "started_at"),
            (("started_at", "statement_timestamp()"),),
            None,
        ),
    ]
    assert all(f.relpath == "schema/schema_titan.sql" and f.origin == "ddl" for f in facts)


def test_ddl_in_a_python_string_maps_lines_into_the_python_file() -> None:
    text = "\n    CREATE TABLE jobs (\n        id int,\n        created_at timestamp DEFAULT now()::timestamp\n    )\n"
    candidate = SqlCandidate("migrations/0001.py", 12, 20, text, "literal", context="op.execute")
    parsed = parse_candidate(candidate)
    assert [(f.line, f.table, f.defaults) for f in parsed.facts] == [
        (13, "jobs", (("created_at", "now()::timestamp"),)),
    ]


def test_ddl_inside_do_blocks_and_dynamic_execute() -> None:
    text = (
        "DO $$\n"
        "BEGIN\n"
        "  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE column_name = 'created_at') THEN\n"
        "    ALTER TABLE titan.jobs ADD COLUMN created_at timestamptz DEFAULT now();\n"
        "  END IF;\n"
        "  EXECUTE 'ALTER TABLE titan.runs ALTER COLUMN made SET DEFAULT CURRENT_TIMESTAMP';\n"
        "END $$;\n"
        "ALTER TABLE ONLY public.jobs ALTER COLUMN created_at SET DEFAULT now();\n"
        "CREATE TABLE t (a int CONSTRAINT a_default DEFAULT 7 NOT NULL, b text DEFAULT 'x' COLLATE \"C\");\n"
    )
    parsed = parse_candidate(SqlCandidate("migrations/0007.sql", 1, 1, text, "sql-file"))
    assert parsed.diagnostics == []
    assert [(f.line, f.action, f.table, f.defaults) for f in parsed.facts] == [
        (4, "add_column", "titan.jobs", (("created_at", "now()"),)),
        (6, "set_default", "titan.runs", (("made", "CURRENT_TIMESTAMP"),)),
        (8, "set_default", "public.jobs", (("created_at", "now()"),)),
        (9, "create", "t", (("a", "7"), ("b", "'x'"))),
    ]
