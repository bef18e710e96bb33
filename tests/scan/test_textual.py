"""The best-effort pass for Python files that do not parse."""

from __future__ import annotations

from pathlib import Path

from guard.scan.frontends.python.extract import extract_python
from guard.scan.frontends.python.textual import extract_textual, looks_like_sql, starts_like_sql

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "python"


def test_python2_file_is_diagnosed_and_scanned_with_tokens() -> None:
    result = extract_python((FIXTURES / "py2_legacy.py").read_text(), "legacy/py2_legacy.py")
    (diagnostic,) = result.diagnostics
    assert (diagnostic.kind, diagnostic.line, diagnostic.path) == ("parse-error", 7, "legacy/py2_legacy.py")
    assert "print" in diagnostic.message and "line 7" in diagnostic.message
    texts = [(c.text, c.line, c.origin, c.best_effort) for c in result.candidates]
    # implicit concatenation joined; docstrings and bytes skipped; the COPY keeps its own line
    assert ("INSERT INTO titan.jobs (st_id, name) VALUES (%s, %s)", 8, "textual", True) in texts
    copy = next(c for c in result.candidates if "COPY" in c.text)
    assert copy.position(copy.text.index("COPY")) == (15, 9)
    assert not any("docstring_only" in t[0] or "raw (a)" in t[0] or 'titan.jobs"' in t[0] for t in texts)


def test_tokenizer_failure_falls_back_to_quoted_regions() -> None:
    result = extract_python((FIXTURES / "unterminated.py").read_text(), "u.py")
    assert [d.kind for d in result.diagnostics] == ["parse-error"]
    got = [(c.text, c.line, c.best_effort) for c in result.candidates]
    assert got[0] == ("INSERT INTO titan.jobs (a) VALUES (1)", 2, True)
    tail = result.candidates[1]
    assert tail.position(tail.text.index("INSERT"))[0] == 4


def test_fstring_fields_become_holes() -> None:
    (candidate,) = extract_textual('print f"INSERT INTO {t} (a) VALUES (1)"\n', "f.py")
    assert candidate.text == "INSERT INTO guard_hole_0 (a) VALUES (1)" and candidate.dynamic


def test_sql_word_checks() -> None:
    assert looks_like_sql("insert into t values (1)")
    assert not looks_like_sql("insert")
    assert not looks_like_sql("reinserted rows")
    assert starts_like_sql("  -- load\n  /* x */ INSERT INTO t")
    assert not starts_like_sql("could not insert into t")
