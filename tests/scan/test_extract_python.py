"""Fixture tests for the Python extraction stage: one fixture file per style, expected candidates listed here.

Each expectation is ``(text, line of the first SQL keyword, origin, dynamic, context)``; the keyword line comes
from ``SqlCandidate.position``, exactly as the parse stage computes the line it reports.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from guard.model import SqlCandidate
from guard.scan.frontends.python.extract import extract_python
from guard.scan.frontends.python.source import decode_source

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "python"
KEYWORD = re.compile(r"(?i)\b(insert|copy|create|alter|drop|merge|with)\b")

Expected = tuple[str, int, str, bool, str]


def keyword_line(candidate: SqlCandidate) -> int:
    match = KEYWORD.search(candidate.text)
    assert match, candidate.text
    return candidate.position(match.start())[0]


def summarize(candidates: list[SqlCandidate]) -> list[Expected]:
    return [(c.text, keyword_line(c), c.origin, c.dynamic, c.context) for c in candidates]


def extract_fixture(name: str) -> list[Expected]:
    result = extract_python((FIXTURES / name).read_text(), name)
    assert result.diagnostics == []
    return summarize(result.candidates)


CASES: dict[str, list[Expected]] = {
    "literals.py": [
        ("INSERT INTO titan.jobs (st_id, name) VALUES (%s, %s)", 11, "literal", False, "execute"),
        ("INSERT INTO titan.jobs (st_id, name, created_at) VALUES (%s, %s, %s)", 13, "literal", False, "execute"),
        (
            "\n        INSERT INTO titan.events (kind, payload)\n        VALUES (%s, %s)\n    ",
            19,
            "literal",
            False,
            "execute",
        ),
        ("INSERT INTO titan.paths (p) VALUES ('C:\\temp')", 22, "literal", False, "execute"),
    ],
    "fstrings.py": [
        ("INSERT INTO titan.jobs (st_id, name) VALUES (%s, %s)", 6, "fstring", False, "execute"),
        ("INSERT INTO titan.guard_hole_0 (a) VALUES (%s)", 7, "fstring", True, "execute"),
        (
            "\n        INSERT INTO guard_hole_0\n            (a, b)\n        VALUES (guard_hole_1, %s)\n        ",
            10,
            "fstring",
            True,
            "execute",
        ),
        ("INSERT INTO {braces} (a) VALUES (42)", 15, "fstring", False, "execute"),
    ],
    "percent.py": [
        ("INSERT INTO titan.jobs (a, note) VALUES (%s, '100%')", 5, "format", False, "execute"),
        ("INSERT INTO guard_hole_0 (a) VALUES (7)", 6, "format", True, "execute"),
        ("INSERT INTO titan.jobs (a) VALUES (%(a)s)", 7, "format", False, "execute"),
        ("INSERT INTO guard_hole_0 (a, b) VALUES (guard_hole_1)", 8, "format", True, "execute"),
        ("INSERT INTO titan.jobs (note) VALUES ('100%%')", 9, "literal", False, "execute"),  # no operator: kept
    ],
    "format_method.py": [
        ("INSERT INTO titan.jobs (st_id) VALUES (%s)", 5, "format", False, "execute"),
        ("INSERT INTO titan.jobs (a) VALUES (%s)", 6, "format", False, "execute"),
        ("INSERT INTO titan.guard_hole_0 (guard_hole_1) VALUES (%s)", 7, "format", True, "execute"),
        ("INSERT INTO {literal} (a) VALUES (1)", 8, "format", False, "execute"),
    ],
    "concat.py": [
        ("INSERT INTO titan.jobs (st_id, name) VALUES (%s, %s)", 1, "concat", False, "execute"),
        ("INSERT INTO titan.events (kind, extra) VALUES (%s, %s)", 6, "concat", False, "execute"),
        ("INSERT INTO titan.events (kind) VALUES (%s, %s)", 6, "concat", False, "execute"),
        ("INSERT INTO titan.events (kind, extra) VALUES (%s)", 6, "concat", False, "execute"),
        ("INSERT INTO titan.events (kind) VALUES (%s)", 6, "concat", False, "execute"),
        ("INSERT INTO guard_hole_0 (a) VALUES (%s)", 14, "concat", True, "execute"),
    ],
    "join.py": [
        ("INSERT INTO titan.jobs (st_id, name) VALUES (%s, %s)", 1, "concat", False, "execute"),
        ("INSERT INTO titan.events (kind) VALUES (%s)", 6, "concat", False, "execute"),
        ("INSERT INTO titan.audit\n(who, what)\nVALUES (%s, %s)", 8, "concat", False, "execute"),
        ("INSERT INTO titan.logs (guard_hole_0) VALUES (%s)", 12, "fstring", True, "execute"),
    ],
    "constants.py": [
        ("\n    INSERT INTO titan.local (a) VALUES (%s)\n    ", 16, "constant", False, "execute"),
        ("INSERT INTO titan.jobs (st_id) VALUES (%s)", 21, "constant", False, "execute"),
        ("INSERT INTO titan.later (a) VALUES (%s)", 22, "constant", False, "execute"),
        ("INSERT INTO legacy.jobs (a) VALUES (%s)", 25, "constant", False, "execute"),
        ("INSERT INTO titan.jobs (a, created_at) VALUES (%s, %s)", 27, "constant", False, "execute"),
        ("INSERT INTO titan.writer (a) VALUES (%s)", 31, "constant", False, "execute"),
        ("INSERT INTO titan.prefixed (a) VALUES (%s)", 32, "concat", False, "execute"),
        ("INSERT INTO titan.other (a) VALUES (%s)", 35, "constant", False, "execute"),
    ],
    "psycopg_sql.py": [
        ('INSERT INTO "titan"."jobs" ("st_id", "name") VALUES (%s, %s)', 8, "format", False, "sql.SQL"),
        ("INSERT INTO guard_hole_0 (a) VALUES (%(v)s)", 14, "format", True, "sql.SQL"),
        ('INSERT INTO "jobs" (guard_hole_0) VALUES (%s)', 15, "format", True, "sql.SQL"),
        ('INSERT INTO "titan"."events" (a) VALUES (\'x\')', 16, "format", False, "sql.SQL"),
    ],
    "scopes.py": [
        ("INSERT INTO titan.jobs (a) VALUES (1)", 2, "literal", False, ""),
        ("INSERT INTO ta (x) VALUES (1)", 3, "constant", False, ""),
        ("INSERT INTO tb (x) VALUES (1)", 3, "constant", False, ""),
        ("INSERT INTO txy (x) VALUES (1)", 4, "constant", False, ""),
        ("INSERT INTO titan.base (a) VALUES (%s)", 8, "fstring", False, "execute"),  # self.X / Child.X via base
        ("INSERT INTO closure (a) VALUES (1)", 16, "constant", False, "execute"),
        ("INSERT INTO guard_hole_0 (a) VALUES (%s)", 22, "fstring", True, ""),
        ("INSERT INTO glob (a) VALUES (1)", 26, "constant", False, ""),
        ("INSERT INTO guard_hole_0 (a) VALUES (guard_hole_1)", 27, "format", True, "execute"),
        ("INSERT INTO guard_hole_0 (a) VALUES (guard_hole_1)", 28, "format", True, "execute"),
        ("INSERT INTO walrus (a) VALUES (1)", 29, "constant", False, "execute"),
        ("INSERT INTO try1 (a) VALUES (1)", 32, "constant", False, "execute"),
        ("INSERT INTO try2 (a) VALUES (1)", 34, "constant", False, "execute"),
        ("\n        INSERT INTO dedented (a) VALUES (1)\n    ", 37, "literal", False, "execute"),
        ("INSERT INTO m1 (a) VALUES (1)", 41, "constant", False, "execute"),
        ("INSERT INTO m2 (a) VALUES (1)", 43, "constant", False, "execute"),
        ("INSERT INTO t (a) VALUES guard_hole_0", 45, "concat", True, "execute"),
        ("INSERT INTO t (a, b) VALUES (guard_hole_0, guard_hole_1)", 46, "format", True, "execute"),
        ("INSERT INTO t (note) VALUES ('50%')", 47, "format", False, "execute"),
    ],
    "sqlalchemy_text.py": [
        ("INSERT INTO titan.jobs (st_id) VALUES (:st_id)", 4, "constant", False, "text()"),
        ("INSERT INTO titan.events (kind) VALUES (:kind)", 9, "literal", False, "text()"),
    ],
    "drivers.py": [
        ("INSERT INTO titan.jobs (st_id, name) VALUES %s", 8, "literal", False, "execute_values"),
        ("INSERT INTO titan.jobs (st_id, name) VALUES (%s, %s)", 9, "literal", False, "execute_batch"),
        ("COPY titan.jobs (st_id, name) FROM STDIN WITH CSV", 10, "literal", False, "copy_expert"),
        ("COPY titan.jobs (st_id, name) FROM STDIN", 11, "literal", False, "copy_from"),
        ("COPY titan.events (kind) FROM STDIN", 12, "literal", False, "copy"),
        ("INSERT INTO titan.wrapped (a) VALUES (%s)", 14, "literal", False, "run"),
        ("INSERT INTO titan.jobs (st_id) VALUES ($1)", 18, "literal", False, "execute"),
        ("INSERT INTO titan.jobs (st_id) VALUES ($1)", 19, "literal", False, "executemany"),
        ("INSERT INTO titan.jobs (st_id) VALUES ($1) RETURNING id", 20, "literal", False, "fetchval"),
        ('COPY "titan"."jobs" ("st_id", "name") FROM STDIN', 21, "literal", False, "copy_records_to_table"),
        ('COPY "Events" FROM STDIN', 22, "literal", False, "copy_records_to_table"),
        ("INSERT INTO titan.settings (k) VALUES ('v')", 26, "literal", False, "op.execute"),
        # pandas to_sql (lines 30, 31) writes without SQL text: an ORM-row write (tests/scan/orm), not a candidate
    ],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixture_style(name: str) -> None:
    assert extract_fixture(name) == CASES[name]


def test_every_character_maps_to_its_file_position() -> None:
    """Implicit concatenation across lines: each piece's characters map to where they were written."""
    name = "literals.py"
    lines = (FIXTURES / name).read_text().splitlines()
    candidate = extract_python((FIXTURES / name).read_text(), name).candidates[1]
    for offset, char in enumerate(candidate.text):
        line, column = candidate.position(offset)
        assert lines[line - 1][column - 1] == char, (offset, char, line, column)


def test_escapes_before_keyword_keep_positions_exact() -> None:
    source = 'x = 1\ncur.execute("\\t\\u00e9 \\\nINSERT INTO t (a) VALUES (1)")\n'
    (candidate,) = extract_python(source, "e.py").candidates
    assert candidate.text == "\té INSERT INTO t (a) VALUES (1)"
    assert candidate.position(candidate.text.index("INSERT")) == (3, 1)
    assert candidate.position(1) == (2, 16)  # the é, written as \u00e9 after \t


def test_non_ascii_columns_count_characters() -> None:
    source = 'nom = "é"; cur.execute("INSERT INTO t (a) VALUES (1)")\n'
    (candidate,) = extract_python(source, "u.py").candidates
    assert (candidate.line, candidate.column) == (1, 25)


def test_fragment_used_alone_and_composed_is_reported_for_each() -> None:
    source = (
        'HEAD = "INSERT INTO t (a) VALUES (1)"\n'
        "def f(cur):\n"
        "    cur.execute(HEAD)\n"
        '    cur.execute(HEAD + " ON CONFLICT DO NOTHING")\n'
    )
    texts = [c.text for c in extract_python(source, "h.py").candidates]
    assert sorted(texts) == ["INSERT INTO t (a) VALUES (1)", "INSERT INTO t (a) VALUES (1) ON CONFLICT DO NOTHING"]


def test_unused_module_constant_is_reported_for_importers() -> None:
    (candidate,) = extract_python('INSERT_JOB = "INSERT INTO jobs (a) VALUES (%s)"\n', "q.py").candidates
    assert (candidate.origin, candidate.context, candidate.line) == ("constant", "", 1)


def test_log_messages_and_prose_are_not_candidates() -> None:
    source = (
        "def f(log, cur, n):\n"
        '    log.warning("could not insert into jobs: %s", n)\n'
        '    print(f"could not create table {n}")\n'
        '    assert n, "rows to insert into jobs must not be empty"\n'
        '    raise RuntimeError("failed to copy into the table")\n'
        '    cur.execute("SELECT 1")\n'
    )
    assert extract_python(source, "p.py").candidates == []


def test_sql_printed_as_a_script_is_kept() -> None:
    source = 'print("INSERT INTO t (a) VALUES (1);")\n'
    assert [c.text for c in extract_python(source, "s.py").candidates] == ["INSERT INTO t (a) VALUES (1);"]


def test_each_branch_alternative_is_its_own_candidate() -> None:
    source = (
        "def f(cur, a):\n"
        '    sql = "INSERT INTO t1 (a) VALUES (1)" if a else "INSERT INTO t2 (a) VALUES (1)"\n'
        "    cur.execute(sql)\n"
    )
    assert [c.text for c in extract_python(source, "b.py").candidates] == [
        "INSERT INTO t1 (a) VALUES (1)",
        "INSERT INTO t2 (a) VALUES (1)",
    ]


def test_alternatives_are_bounded() -> None:
    lines = ["def f(cur, a):", '    sql = "INSERT INTO t (a"']
    lines += [f'    if a == {i}:\n        sql += ", c{i}"' for i in range(30)]
    lines += ['    sql += ") VALUES (1)"', "    cur.execute(sql)"]
    candidates = extract_python("\n".join(lines) + "\n", "x.py").candidates
    assert 1 <= len(candidates) <= 16


def test_long_concatenation_chain_does_not_recurse() -> None:
    source = "SQL = 'INSERT INTO t (a) VALUES (1)'" + " + ' '" * 3000 + "\n"
    (candidate,) = extract_python(source, "long.py").candidates
    assert candidate.text.startswith("INSERT INTO t (a) VALUES (1)")


def test_crlf_source() -> None:
    source = 'x = 1\r\ncur.execute("""\r\n  INSERT INTO t (a) VALUES (1)""")\r\n'
    (candidate,) = extract_python(source, "w.py").candidates
    assert candidate.position(candidate.text.index("INSERT")) == (3, 3)


def test_decode_source_cookie_bom_and_garbage() -> None:
    text, problems = decode_source("# -*- coding: latin-1 -*-\ns = 'caf\xe9'\n".encode("latin-1"), "a.py")
    assert "café" in text and problems == []
    text, problems = decode_source(b"\xef\xbb\xbfx = 1\n", "b.py")
    assert text == "x = 1\n" and problems == []
    text, problems = decode_source(b"x = 1\ny = '\xff\xfe'\n", "c.py")
    assert text.startswith("x = 1") and [p.kind for p in problems] == ["decode-error"]
    assert problems[0].line == 2
    text, problems = decode_source(b"# coding: no-such-codec\nx = 1\n", "d.py")
    assert [p.kind for p in problems] == ["decode-error"]


def test_long_elif_chain_is_not_recursive() -> None:
    lines = ["def f(cur, k):", '    sql = "INSERT INTO t (a) VALUES (0)"']
    for i in range(1500):
        lines.append(f"    {'if' if i == 0 else 'elif'} k == {i}:\n        sql = 'INSERT INTO t{i} (a) VALUES (1)'")
    lines.append("    cur.execute(sql)")
    result = extract_python("\n".join(lines) + "\n", "elif.py")
    assert result.diagnostics == []
    assert len(result.candidates) == 1501  # every assigned statement, each at its definition


def test_analysis_failure_is_reported_and_scanned_textually(monkeypatch: pytest.MonkeyPatch) -> None:
    from guard.scan.frontends.python import extract as module

    def broken(self: object, tree: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(module.Extractor, "run", broken)
    result = module.extract_python('cur.execute("INSERT INTO t (a) VALUES (1)")\n', "k.py")
    assert [d.kind for d in result.diagnostics] == ["internal-error"]
    assert [(c.text, c.best_effort) for c in result.candidates] == [("INSERT INTO t (a) VALUES (1)", True)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_keyword_position_points_at_the_keyword_in_the_file(name: str) -> None:
    """Wherever the statement's text came from, its first keyword maps to that keyword as written."""
    source = (FIXTURES / name).read_text()
    lines = source.splitlines()
    for candidate in extract_python(source, name).candidates:
        if candidate.context in ("copy_records_to_table", "copy_from"):
            continue  # synthesized from a driver call: located at the call
        match = KEYWORD.search(candidate.text)
        assert match is not None
        line, column = candidate.position(match.start())
        written = lines[line - 1][column - 1 : column - 1 + len(match.group())]
        assert written.lower() == match.group().lower(), (candidate.text, line, column)


def test_function_without_sql_words_still_composes_sql_held_by_names() -> None:
    """Bodies that mention no SQL word are skipped only when they use no name holding SQL either."""
    source = (
        'BASE = "INSERT INTO t (a"\n'
        "class Repo:\n"
        '    PREFIX = "COPY t "\n'
        "    def load(self, cur):\n"
        '        cur.run(self.PREFIX + "FROM STDIN")\n'
        "def f(cur):\n"
        '    cur.execute(BASE + ") VALUES (%s)")\n'
        "def g(x):\n"
        "    return x + 1\n"
    )
    assert [(c.text, c.context) for c in extract_python(source, "s.py").candidates] == [
        ("INSERT INTO t (a) VALUES (%s)", "execute"),
        ("COPY t FROM STDIN", "run"),
    ]
