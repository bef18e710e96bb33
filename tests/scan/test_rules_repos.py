"""One small repository per extraction style, scanned end to end; verdicts are marked inline."""

from __future__ import annotations

from pathlib import Path

import pytest
from scan_expectations import actual_findings, expected_findings, scan_fixture

REPOS = Path(__file__).resolve().parent.parent / "fixtures" / "repos"
STYLES = sorted(p.name for p in REPOS.iterdir() if p.is_dir())


@pytest.mark.parametrize("style", STYLES)
def test_extraction_style(style: str) -> None:
    root = REPOS / style
    expected = expected_findings(root)
    result = scan_fixture(root)
    assert sorted(actual_findings(result, expected)) == sorted(expected)
    located = {(r.write.relpath, r.write.line) for r in result.writes}
    assert {(path, line) for path, line, _rule, _sev in expected} <= located, "every finding is also a write"


def test_prose_docstrings_and_logs_are_not_sql() -> None:
    result = scan_fixture(REPOS / "prose_only")
    assert [w for w in result.writes if w.write.relpath.endswith(".py")] == []
    assert result.findings == []


def test_unparsable_python_is_a_diagnostic_and_still_scanned() -> None:
    result = scan_fixture(REPOS / "broken_python")
    assert any(d.path == "legacy_py2.py" and d.kind == "parse-error" for d in result.diagnostics)
    [finding] = result.findings
    assert finding.rule == "GRD001" and not finding.fixable  # best effort: guard patch will not touch it
    assert "best effort" in finding.message  # every report format says how it was found
    [write] = [r.write for r in result.writes if r.write.relpath == "legacy_py2.py"]
    assert write.best_effort


def test_write_inventory_counts_guarded_and_unguarded_writes() -> None:
    result = scan_fixture(REPOS / "literals")
    tables = sorted(r.table or "?" for r in result.writes)
    assert tables.count("titan.notes") == 1
    assert tables.count("titan.jobs") == 6
    jobs = {t.name: t for t in result.tables}["titan.jobs"]
    assert (jobs.guarded, jobs.writers, jobs.default) == (True, 6, "now()")
