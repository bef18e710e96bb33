"""Random and malformed text never makes the parser raise."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guard.model import SqlCandidate
from guard.scan.catalog import is_now_like
from guard.scan.frontends.sql.extract import extract_sql_file
from guard.scan.sql import parse as parse_module
from guard.scan.sql.parse import parse_candidate
from guard.scan.sql.placeholders import rewrite_placeholders

SQL_PIECES = [
    "INSERT",
    "INTO",
    "titan.jobs",
    "(",
    ")",
    ",",
    "VALUES",
    "SELECT",
    "*",
    "FROM",
    "WITH",
    "AS",
    "COPY",
    "TO",
    "STDIN",
    "ON CONFLICT",
    "DO NOTHING",
    "DO UPDATE SET a = 1",
    "DEFAULT",
    "now()",
    "%s",
    "%(x)s",
    ":name",
    "?",
    "$1",
    "::int",
    "'str'",
    "'",
    '"',
    "$$",
    "$fn$",
    "--",
    "/*",
    "*/",
    ";",
    "\n",
    "guard_hole_0",
    "BEGIN ATOMIC",
    "END",
    "CREATE TABLE t (a int DEFAULT now())",
    "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS",
    "DO",
    "MERGE INTO t USING s ON true WHEN NOT MATCHED THEN INSERT",
    "ALTER TABLE t ADD COLUMN c int",
    "\\",
    "é",
    "\x00",
    "||",
    "format(",
    "EXECUTE",
    "CASE",
]

sql_like = st.lists(st.sampled_from(SQL_PIECES), max_size=40).map(" ".join)


def _candidate(text: str) -> SqlCandidate:
    return SqlCandidate("fuzz.py", 3, 7, text, "literal", line_starts=((0, 3, 7), (len(text) // 2, 9, 1)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=200), sql_like))
def test_parse_candidate_never_raises(text: str) -> None:
    parsed = parse_candidate(_candidate(text))
    assert not [d for d in parsed.diagnostics if d.kind == "internal-error"], parsed.diagnostics
    for write in parsed.writes:
        assert write.line >= 1 and write.column >= 1 and write.end_line >= write.line
        assert write.kind in ("insert", "insert-select", "copy", "upsert")
    for diagnostic in parsed.diagnostics:
        assert diagnostic.line >= 1 and diagnostic.message


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(max_size=200), sql_like))
def test_extract_and_helpers_never_raise(text: str) -> None:
    candidates, _ = extract_sql_file(text, "fuzz.sql")
    for candidate in candidates:
        crashes = [d for d in parse_candidate(candidate).diagnostics if d.kind == "internal-error"]
        assert not crashes, crashes
    rewritten = rewrite_placeholders(text)
    assert 0 <= rewritten.offsets.to_old(len(rewritten.text)) <= len(text)
    is_now_like(text)  # must not raise


def test_a_crash_in_the_parse_stage_is_reported_as_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the fuzz tests look for: a bug in guard's own code is an internal-error, never a parse-error."""

    def broken(*_: object) -> list[object]:
        raise KeyError("injected")

    monkeypatch.setattr(parse_module, "writes_in_statement", broken)
    parsed = parse_candidate(_candidate("INSERT INTO titan.jobs (id) VALUES (1)"))
    assert [(d.kind, d.message) for d in parsed.diagnostics] == [
        ("internal-error", "guard could not analyse this SQL (KeyError: 'injected'); please report it")
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet="ab\n€", max_size=60),
    st.lists(st.tuples(st.integers(1, 60), st.integers(1, 500), st.integers(1, 80)), max_size=4),
    st.integers(0, 70),
)
def test_locator_agrees_with_sql_candidate_position(
    text: str, extra_starts: list[tuple[int, int, int]], offset: int
) -> None:
    from guard.scan.sql.text import Locator

    starts = ((0, 4, 9), *sorted({entry[0]: entry for entry in extra_starts}.values()))
    candidate = SqlCandidate("f.py", 4, 9, text, "concat", line_starts=starts)
    offset = min(offset, len(text))
    assert Locator(candidate).position(offset) == candidate.position(offset)
