"""SARIF 2.1.0, the format GitHub code scanning (and most CI dashboards) load.

Each guard rule becomes a ``reportingDescriptor`` with its docs page as ``helpUri``; each finding a
``result`` with a region and a ``partialFingerprints`` entry carrying guard's line-independent fingerprint,
so code scanning tracks an alert across edits the same way ``--baseline`` does. Diagnostics (files that did
not parse, skipped files) travel as tool execution notifications rather than results.
"""

from __future__ import annotations

import json
from typing import Any

from guard import __version__
from guard.model import Diagnostic, Finding, ScanResult, Severity
from guard.report.common import repository_root
from guard.scan.rules import RULES, Rule
from guard.scan.rules.base import PROJECT_URL, RULE_DOCS_BASE

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "SRCROOT"
_LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note"}


def to_sarif(result: ScanResult) -> dict[str, Any]:
    rule_index = {rule.code: i for i, rule in enumerate(RULES)}
    base, prefix = repository_root(result.root)
    run = {
        "tool": {
            "driver": {
                "name": "guard",
                "fullName": "pg-schema-guard",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": PROJECT_URL,
                "rules": [_descriptor(rule) for rule in RULES],
            }
        },
        "originalUriBaseIds": {SRCROOT: {"uri": base.as_uri().rstrip("/") + "/"}},
        "columnKind": "unicodeCodePoints",
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [_notification(d, prefix) for d in result.diagnostics],
            }
        ],
        "results": [_result(f, rule_index, prefix) for f in result.findings],
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def render(result: ScanResult) -> str:
    return json.dumps(to_sarif(result), indent=2, ensure_ascii=False) + "\n"


def _descriptor(rule: Rule) -> dict[str, Any]:
    doc = rule.description.strip()
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": doc},
        "helpUri": f"{RULE_DOCS_BASE}{rule.code}.md",
        "help": {"text": doc, "markdown": doc},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"tags": ["postgresql", "data-integrity", "phantom-timestamp"], "precision": "high"},
    }


def _location(relpath: str, line: int, column: int, end_line: int) -> dict[str, Any]:
    start = max(1, line)
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": relpath, "uriBaseId": SRCROOT},
            "region": {"startLine": start, "startColumn": max(1, column), "endLine": max(start, end_line)},
        }
    }


def _result(found: Finding, rule_index: dict[str, int], prefix: str) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": found.rule,
        "level": _LEVEL[found.severity],
        "message": {"text": f"{found.table + ': ' if found.table else ''}{found.message}. Why it matters: {found.why}"},
        "locations": [_location(prefix + found.relpath, found.line, found.column, found.end_line)],
        "partialFingerprints": {"guardFingerprint/v1": found.fingerprint},
        "properties": {"severity": found.severity.value, "table": found.table, "fixable": found.fixable},
    }
    if found.rule in rule_index:
        result["ruleIndex"] = rule_index[found.rule]
    return result


def _notification(diagnostic: Diagnostic, prefix: str) -> dict[str, Any]:
    return {
        "level": "warning",
        "message": {"text": f"{diagnostic.kind}: {diagnostic.message}"},
        "locations": [_location(prefix + diagnostic.path, diagnostic.line, 1, diagnostic.line)],
        "descriptor": {"id": diagnostic.kind},
    }
