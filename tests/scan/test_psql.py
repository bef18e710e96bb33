"""psql scripts: meta-commands end statements, ``\\copy`` is a COPY write, variables are values or holes."""

from __future__ import annotations

from pathlib import Path

from guard.model import SqlCandidate, WriteStatement
from guard.scan.frontends.sql.psql import may_be_psql, read_psql
from guard.scan.sql.parse import parse_candidate

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sql" / "psql"


def writes_of(text: str, relpath: str = "script.sql") -> tuple[list[WriteStatement], list[str]]:
    script = read_psql(text)
    candidate = SqlCandidate(relpath, 1, 1, script.text, "sql-file", line_starts=script.line_starts)
    parsed = parse_candidate(candidate)
    return parsed.writes, [d.message for d in parsed.diagnostics]


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    position = -1
    for _ in range(occurrence):
        position = text.index(needle, position + 1)
    return text.count("\n", 0, position) + 1


def test_gexec_ends_the_statement_so_the_insert_after_it_is_found() -> None:
    text = (FIXTURES / "bootstrap_db.sql").read_text()
    writes, diagnostics = writes_of(text)
    assert diagnostics == []
    found = [(w.line, w.table, w.columns, w.context) for w in writes]
    assert found == [
        (line_of(text, "INSERT INTO public.accounts (name) VALUES ('system')"), "public.accounts", ("name",), ""),
        (line_of(text, "VALUES ('admin')"), "public.accounts", ("name",), "DO block"),
        (line_of(text, "VALUES ('ops')"), "public.accounts", ("name",), "DO block"),
        (line_of(text, "VALUES ('legacy'"), "public.accounts", ("name", "created_at"), "DO block"),
    ]
    # every write is reported at its own keyword, column included
    assert all(w.column == (1 if w.context == "" else 5) for w in writes)


def test_gexec_queries_are_recorded_for_their_generated_statements() -> None:
    text = (FIXTURES / "bootstrap_db.sql").read_text()
    script = read_psql(text)
    queries = [script.text[start:stop].strip() for start, stop in script.gexec]
    assert len(queries) == 2
    assert queries[0].startswith("SELECT format('CREATE DATABASE %I'")
    assert queries[1].startswith("SELECT format('GRANT SELECT")


def test_copy_meta_command_is_a_copy_write_with_its_column_list_and_variables_resolve() -> None:
    text = (FIXTURES / "backfill_jobs.psql").read_text()
    writes, diagnostics = writes_of(text, "ops/backfill_jobs.psql")
    assert diagnostics == []
    found = [(w.line, w.column, w.kind, w.table, w.columns, w.dynamic) for w in writes]
    assert found == [
        (line_of(text, "\\copy titan.jobs"), 1, "copy", "titan.jobs", ("st_id", "customer_id", "scheduled_at"), False),
        (line_of(text, '\\copy :"schema"'), 1, "copy", "titan.call_logs", ("call_id", "duration"), False),
        (line_of(text, "INSERT INTO"), 1, "insert-select", "titan.job_notes", ("job_id", "note"), False),
        # an unset variable is a value known only at run time: the write is dynamic, never a table ":target_table"
        (line_of(text, "INSERT INTO :target_table"), 3, "insert", "guard_hole_target_table", ("st_id",), True),
    ]


def test_copy_data_rows_and_the_terminator_are_blanked() -> None:
    script = read_psql((FIXTURES / "backfill_jobs.psql").read_text())
    assert "101,35" not in script.text and "\\." not in script.text
    assert "\\" not in script.text


def test_set_values_are_unquoted_and_concatenated_like_psql() -> None:
    script = read_psql("\\set a 'it''s'\n\\set b one'two'\n\\set c `date`\n\\set d\n")
    assert script.variables == {"a": "it's", "b": "onetwo", "d": ""}


def test_includes_are_reported_with_their_kind() -> None:
    script = read_psql("\\i common/roles.sql\n\\ir 'seed data.sql'\nSELECT 1;\n")
    assert [(i.path, i.relative_to_script, i.line) for i in script.includes] == [
        ("common/roles.sql", False, 1),
        ("seed data.sql", True, 2),
    ]


def test_backslashes_and_colons_inside_literals_and_casts_are_left_alone() -> None:
    text = "INSERT INTO t (a, b, c) VALUES (E'x\\\\gexec', $$ :not_a_var \\g $$, '12:30'::time);\n"
    script = read_psql(text)
    assert script.text == text
    writes, diagnostics = writes_of(text)
    assert diagnostics == [] and [w.table for w in writes] == ["t"]


def test_array_slices_are_not_variables() -> None:
    text = "INSERT INTO t (a) SELECT arr[1:n] FROM src;\n"
    assert read_psql(text).text == text


def test_plain_sql_takes_the_fast_path() -> None:
    assert not may_be_psql("INSERT INTO t (a) VALUES (now()::date, '{\"a\": 1}'::jsonb);")
    assert may_be_psql("SELECT 1 \\gexec")
    assert may_be_psql("INSERT INTO :tbl VALUES (1)")


def test_pg_dump_copy_blocks_are_still_blanked() -> None:
    text = (
        "COPY public.jobs (id, created_at) FROM stdin;\n1\t2020-01-01 00:00:00\n\\.\n"
        "\\connect other\nINSERT INTO x VALUES (1);\n"
    )
    script = read_psql(text)
    assert "2020-01-01" not in script.text and "connect" not in script.text
    writes, _ = writes_of(text)
    assert [(w.line, w.kind, w.table) for w in writes] == [(1, "copy", "public.jobs"), (5, "insert", "x")]


def test_includes_inside_the_tree_are_followed_when_nothing_else_reads_them(tmp_path: Path) -> None:
    from guard.scan.frontends.sql import FRONTEND

    (tmp_path / "seed").mkdir()
    (tmp_path / "seed" / "jobs.inc").write_text("INSERT INTO jobs (st_id) VALUES (1);\n")
    (tmp_path / "seed" / "roles.sql").write_text("INSERT INTO roles (name) VALUES ('ops');\n")  # scanned on its own
    (tmp_path / "run.sql").write_text("\\ir seed/jobs.inc\n\\i seed/roles.sql\n\\i ../outside.inc\n")
    (tmp_path.parent / "outside.inc").write_text("INSERT INTO outside (a) VALUES (1);\n")
    extraction = FRONTEND.reader(str(tmp_path), ["run.sql", "seed/roles.sql"]).extract(
        "run.sql", (tmp_path / "run.sql").read_bytes()
    )
    found = [(w.relpath, w.line, w.table) for c in extraction.candidates for w in parse_candidate(c).writes]
    assert found == [("seed/jobs.inc", 1, "jobs")]


def test_goose_and_dbmate_down_sections_are_not_schema() -> None:
    from guard.scan.frontends.sql import FRONTEND

    text = (
        "-- +goose Up\nCREATE TABLE jobs (id int, created_at timestamptz DEFAULT now());\n"
        "-- +goose Down\nDROP TABLE jobs;\n"
    )
    extraction = FRONTEND.reader("", []).extract("db/0001_jobs.sql", text.encode())
    assert extraction.reverted_lines == ((3, 5),)
    (candidate,) = extraction.candidates
    facts = parse_candidate(candidate).facts
    assert [(f.action, extraction.reverts_line(f.line)) for f in facts] == [("create", False), ("drop_table", True)]


def test_a_goose_migration_keeps_its_table_in_the_catalog(tmp_path: Path) -> None:
    from guard.config import Config
    from guard.scan.engine import scan

    (tmp_path / "0001_jobs.sql").write_text(
        "-- migrate:up\nCREATE TABLE jobs (id int, created_at timestamptz DEFAULT now());\n\n"
        "-- migrate:down\nDROP TABLE jobs;\n"
    )
    (tmp_path / "load.sql").write_text("INSERT INTO jobs (id) VALUES (1);\n")
    result = scan(tmp_path, Config(), jobs=1)
    assert [(f.rule, f.relpath) for f in result.findings] == [("GRD001", "load.sql")]


def test_unreadable_sql_that_looked_like_a_write_says_so() -> None:
    text = (
        "SELECT 'x' \\gexec\n"
        "DO $$ BEGIN\n  INSERT INTO jobs (st_id) VALUES (1)\n  PERFORM pg_sleep(1);\nEND $$;\n"  # missing ;
        "INSERT INTO jobs (st_id VALUES (2);\n"
        "CREATE VIEW recent AS SELECT FROM WHERE GROUP;\n"
    )
    script = read_psql(text)
    parsed = parse_candidate(SqlCandidate("seed.sql", 1, 1, script.text, "sql-file", line_starts=script.line_starts))
    found = [(d.line, d.reason, d.may_hide_write) for d in parsed.diagnostics]
    assert found == [(2, "PL/pgSQL body", True), (6, "INSERT statement", True), (7, "CREATE statement", False)]
    assert all("a write may be lost here" in d.message for d in parsed.diagnostics if d.may_hide_write)


def test_statements_generated_by_gexec_are_read_from_their_literals() -> None:
    from guard.scan.frontends.sql.extract import extract_sql_file

    text = (
        "SELECT format('INSERT INTO %I.audit_log (action) VALUES (%L)', schema_name, 'bootstrap')\n"
        "FROM tenants \\gexec\n"
        "SELECT 'INSERT INTO ' || quote_ident(t) || ' (id) SELECT id FROM staging' FROM fill \\gexec\n"
        "SELECT 'CREATE DATABASE fleet' WHERE NOT EXISTS (SELECT 1) \\gexec\n"
    )
    candidates, _ = extract_sql_file(text, "bootstrap.sql")
    writes = [w for c in candidates for w in parse_candidate(c).writes]
    assert [(w.line, w.column, w.table, w.columns, w.dynamic, w.context) for w in writes] == [
        (1, 16, "guard_hole_0.audit_log", ("action",), True, "\\gexec"),
        (3, 9, "guard_hole_0", ("id",), True, "\\gexec"),
    ]
