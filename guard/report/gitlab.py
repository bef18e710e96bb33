"""``--format gitlab``: GitLab Code Quality JSON (the ``codequality`` report artifact of a merge request).

An array of issues, each with ``description``, ``check_name`` (the rule), ``fingerprint``, ``severity``
(``blocker`` .. ``info``) and ``location.path``/``location.lines``. The fingerprint is guard's own
line-independent fingerprint — the key baselines use — so GitLab's "new in this merge request" comparison
agrees with ``--baseline`` and ``--diff-base``. Paths are relative to the repository root.
"""

from __future__ import annotations

import json
from typing import Any

from guard.model import ScanResult, Severity
from guard.report.common import repository_root
from guard.scan.rules.base import RULE_DOCS_BASE

SEVERITY = {Severity.CRITICAL: "blocker", Severity.HIGH: "critical", Severity.MEDIUM: "major", Severity.LOW: "minor"}


def to_issues(result: ScanResult) -> list[dict[str, Any]]:
    _, prefix = repository_root(result.root)
    issues = []
    for found in result.findings:
        description = (f"{found.table}: " if found.table else "") + found.message
        body = f"{found.why}\n\n" if found.why else ""
        issues.append(
            {
                "type": "issue",
                "check_name": found.rule,
                "description": description,
                "content": {"body": f"{body}See {RULE_DOCS_BASE}{found.rule}.md"},
                "categories": ["Bug Risk"],
                "fingerprint": found.fingerprint,
                "severity": SEVERITY[found.severity],
                "location": {
                    "path": prefix + found.relpath,
                    "lines": {"begin": max(1, found.line), "end": max(found.line, found.end_line, 1)},
                },
            }
        )
    return issues


def render(result: ScanResult) -> str:
    return json.dumps(to_issues(result), indent=2, ensure_ascii=False) + "\n"
