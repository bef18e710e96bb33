"""The .sql extractor: the whole file as candidates, positions exact, psql and pg_dump noise blanked."""

from __future__ import annotations

from pathlib import Path

import pytest

from guard.scan.frontends.sql import extract as extract_sql
from guard.scan.frontends.sql.extract import extract_sql_file
from guard.scan.sql.parse import parse_candidate

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sql"


def test_the_whole_file_is_one_candidate_at_line_1_column_1() -> None:
    text = (FIXTURES / "writes.sql").read_text()
    candidates, diagnostics = extract_sql_file(text, "db/writes.sql")
    assert diagnostics == []
    (candidate,) = candidates
    assert (candidate.relpath, candidate.line, candidate.column, candidate.origin) == (
        "db/writes.sql",
        1,
        1,
        "sql-file",
    )
    assert candidate.text == text
    assert candidate.position(text.index("MERGE")) == (38, 1)


def test_psql_meta_commands_and_copy_data_are_blanked_in_place() -> None:
    text = (FIXTURES / "pg_dump.sql").read_text()
    (candidate,), _ = extract_sql_file(text, "dump.sql")
    assert len(candidate.text) == len(text)
    assert candidate.text.count("\n") == text.count("\n")
    assert "\\connect" not in candidate.text and "2020-01-01 00:00:00" not in candidate.text
    assert "COPY public.jobs (id, created_at) FROM stdin;" in candidate.text
    assert candidate.text.index("INSERT INTO public.jobs") == text.index("INSERT INTO public.jobs")


def test_byte_order_mark_and_nul_bytes() -> None:
    (candidate,), diagnostics = extract_sql_file("\ufeffINSERT INTO t (a) VALUES (1);\x00\n", "bom.sql")
    assert candidate.text.startswith("INSERT") and "\x00" not in candidate.text
    assert [d.kind for d in diagnostics] == ["nul-bytes"]
    (write,) = parse_candidate(candidate).writes
    assert (write.line, write.column) == (1, 1)


def test_empty_and_comment_only_files_give_no_candidates() -> None:
    assert extract_sql_file("", "empty.sql") == ([], [])
    assert extract_sql_file("\n\n   \n", "blank.sql") == ([], [])
    candidates, _ = extract_sql_file("-- just a comment\n", "c.sql")
    assert all(parse_candidate(c).statements == 0 for c in candidates)


def test_large_files_are_cut_at_statement_boundaries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extract_sql, "CHUNK_CHARS", 200)
    statements = [f"INSERT INTO t{n} (a, note) VALUES ({n}, 'x; y');\n" for n in range(40)]
    text = "".join(statements)
    candidates, _ = extract_sql_file(text, "big.sql")
    assert len(candidates) > 3
    writes = [w for candidate in candidates for w in parse_candidate(candidate).writes]
    assert [(w.table, w.line, w.column) for w in writes] == [(f"t{n}", n + 1, 1) for n in range(40)]
    assert "".join(candidate.text for candidate in candidates).replace("\n", "") == text.replace("\n", "")
