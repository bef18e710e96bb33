"""Inline suppressions: reason required, unused ones reported, honoured only on the statement's lines."""

from __future__ import annotations

from pathlib import Path

from scan_expectations import scan_fixture

from guard.model import Finding, Severity
from guard.scan.suppress import Suppression, apply_suppressions, find_suppressions

SCHEMA = "CREATE TABLE jobs (id serial, st_id int, created_at timestamptz DEFAULT now());\n"


def test_markers_in_python_and_sql() -> None:
    text = (
        'cur.execute("INSERT INTO jobs (st_id) VALUES (1)")  # guard: ignore[GRD001] created now, no source time\n'
        "-- guard: ignore[GRD001, grd003] seed rows\n"
        "x = 1  # guard:ignore[GRD004]\n"
        '    """INSERT ... -- guard: ignore[GRD001] backfill stamps real dates later"""\n'
    )
    assert find_suppressions(text, "a.py") == [
        Suppression("a.py", 1, 53, ("GRD001",), "created now, no source time"),
        Suppression("a.py", 2, 1, ("GRD001", "GRD003"), "seed rows"),
        Suppression("a.py", 3, 8, ("GRD004",), ""),
        Suppression("a.py", 4, 19, ("GRD001",), "backfill stamps real dates later"),
    ]
    assert find_suppressions("no markers here", "a.py") == []


def _finding(line: int, end_line: int = 0, rule: str = "GRD001") -> Finding:
    return Finding(rule, Severity.HIGH, "a.py", line, 1, "public.jobs", "m", "w", True, "f" * 32, end_line or line)


def test_coverage_is_the_statement_lines_or_the_line_above() -> None:
    findings = [_finding(10, 12)]
    for line in (9, 10, 11, 12):
        outcome = apply_suppressions(findings, {"a.py": [Suppression("a.py", line, 1, ("GRD001",), "ok")]})
        assert (outcome.kept, outcome.suppressed, outcome.problems) == ([], 1, []), line
    for line in (8, 13):
        outcome = apply_suppressions(findings, {"a.py": [Suppression("a.py", line, 1, ("GRD001",), "ok")]})
        assert outcome.kept == findings and [p.rule for p in outcome.problems] == ["GRD901"], line


def test_reason_is_required_and_unknown_codes_are_unused() -> None:
    findings = [_finding(5), _finding(20, rule="GRD003")]
    outcome = apply_suppressions(
        findings,
        {
            "a.py": [
                Suppression("a.py", 5, 1, ("GRD001",), ""),
                Suppression("a.py", 20, 1, ("GRD003", "GRD999"), "legacy table, dropped next quarter"),
            ]
        },
    )
    assert outcome.kept == [findings[0]] and outcome.suppressed == 1
    assert [(p.rule, p.line) for p in outcome.problems] == [("GRD900", 5), ("GRD901", 20)]
    assert "needs a reason" in outcome.problems[0].message
    assert "GRD999 is not a guard rule" in outcome.problems[1].message


def test_end_to_end_sql_and_python(tmp_path: Path) -> None:
    (tmp_path / "schema.sql").write_text(SCHEMA)
    (tmp_path / "seed.sql").write_text(
        "-- guard: ignore[GRD001] seed data; created_at is irrelevant\n"
        "INSERT INTO jobs (st_id) VALUES (1);\n"
        "INSERT INTO jobs (st_id) VALUES (2); -- guard: ignore[GRD001]\n"
        "INSERT INTO jobs (st_id, created_at) VALUES (3, $1); -- guard: ignore[GRD001] stale comment\n"
    )
    (tmp_path / "app.py").write_text(
        "def f(cur):\n"
        "    cur.execute(\n"
        '        "INSERT INTO jobs (st_id) VALUES (%s)",  # guard: ignore[GRD001] audit rows are created now\n'
        "        (1,),\n"
        "    )\n"
    )
    result = scan_fixture(tmp_path)
    verdicts = sorted((f.relpath, f.line, f.rule) for f in result.findings)
    assert verdicts == [("seed.sql", 3, "GRD001"), ("seed.sql", 3, "GRD900"), ("seed.sql", 4, "GRD901")]
    assert result.suppressed == 2
    assert all(len(f.fingerprint) == 32 for f in result.findings)
