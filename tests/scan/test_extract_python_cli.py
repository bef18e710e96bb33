"""The Python extraction stage seen through ``guard scan`` on a real tree, the way users run it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from guard.cli import cli

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "python"


def test_scan_reports_python_writes_across_modules_and_legacy_files(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "tree" / "src", tmp_path / "src")
    shutil.copy(FIXTURES / "py2_legacy.py", tmp_path / "py2_legacy.py")
    shutil.copy(FIXTURES / "drivers.py", tmp_path / "drivers.py")

    result = CliRunner().invoke(cli, ["scan", str(tmp_path), "--format", "json", "--jobs", "1", "--no-progress"])
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.output)
    writes = {(w["path"], w["line"], w["table"], w["dynamic"]) for w in report["writes"]}

    # a constant imported from another module, composed in the importer, is reported where it is executed
    assert ("src/titan/api/portal.py", 14, "titan.jobs", False) in writes
    # the constant itself is reported once, where it is defined
    assert ("src/titan/sql.py", 3, "titan.jobs", False) in writes
    assert not any(path == "src/titan/api/portal.py" and line in (9, 10) for path, line, _, _ in writes)
    # driver calls without SQL text, and pandas
    assert ("drivers.py", 21, "titan.jobs", False) in writes
    assert ("drivers.py", 11, "titan.jobs", False) in writes
    # Python 2 code: reported as a diagnostic, still scanned
    assert ("py2_legacy.py", 8, "titan.jobs", False) in writes
    diagnostics = {(d["path"], d["kind"]) for d in report["diagnostics"]}
    assert ("py2_legacy.py", "parse-error") in diagnostics


def test_alembic_downgrade_does_not_erase_the_table_upgrade_created(tmp_path: Path) -> None:
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    shutil.copy(FIXTURES / "alembic_downgrade.py", versions / "0002_audit.py")
    (tmp_path / "audit.py").write_text(
        'def record(conn):\n    conn.execute("INSERT INTO titan.audit (id) VALUES (%s)", (1,))\n'
    )

    result = CliRunner().invoke(cli, ["scan", str(tmp_path), "--format", "json", "--jobs", "1", "--no-progress"])
    report = json.loads(result.output)
    findings = {(f["rule"], f["path"], f["table"]) for f in report["findings"]}
    assert ("GRD001", "audit.py", "titan.audit") in findings  # guarded: the upgrade's now() default counts
    assert not any(rule == "GRD003" for rule, _, _ in findings)  # not "schema unknown"
    assert {"name": "titan.audit", "guarded": True, "default": "now()"}.items() <= next(
        t for t in report["tables"] if t["name"] == "titan.audit"
    ).items()


def test_a_lone_surrogate_escape_in_sql_does_not_crash_the_scan(tmp_path: Path) -> None:
    """Regression: ``"\\ud8ff"`` (as in CPython's own tests) reached the fingerprint hash and aborted the scan."""
    (tmp_path / "odd.py").write_text("def f(cur):\n    cur.execute(\"INSERT INTO t (a) VALUES ('\\ud8ff')\")\n")
    result = CliRunner().invoke(cli, ["scan", str(tmp_path), "--format", "json", "--jobs", "1", "--no-progress"])
    assert result.exit_code in (0, 1), result.output
    (write,) = json.loads(result.output)["writes"]
    assert (write["table"], write["line"]) == ("public.t", 2)
