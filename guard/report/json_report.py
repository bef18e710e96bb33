"""The JSON contract (version 1) other tools read; ``guard/schemas/scan-result.schema.json`` pins it down.

Keys and their meaning are documented in ``docs/scan.md``. Additions need a schema update; removals or
changed meanings need a new ``version``.
"""

from __future__ import annotations

import json
from typing import Any

from guard.model import ScanResult
from guard.report.common import diagnostic_groups

CONTRACT_VERSION = 1


def to_document(result: ScanResult) -> dict[str, Any]:
    return {
        "version": CONTRACT_VERSION,
        "root": result.root,
        "findings": [
            {
                "rule": f.rule,
                "severity": f.severity.value,
                "path": f.relpath,
                "line": f.line,
                "column": f.column,
                "table": f.table,
                "message": f.message,
                "why": f.why,
                "fixable": f.fixable,
                "fingerprint": f.fingerprint,
                "evidence": [{"kind": e.kind, "detail": e.detail} for e in f.evidence],
            }
            for f in result.findings
        ],
        "writes": [
            {
                "path": r.write.relpath,
                "line": r.write.line,
                "kind": r.write.kind,
                "table": r.table,
                "columns": list(r.write.columns) if r.write.columns is not None else None,
                "sets_timestamp": r.sets_timestamp,
                "dynamic": r.write.dynamic or r.table is None,
                "column": r.write.column,
                "dialect": r.write.dialect,
                "alternatives": list(r.alternatives),
                "evidence": [{"kind": e.kind, "detail": e.detail} for e in r.evidence],
            }
            for r in result.writes
        ],
        "diagnostics": [
            {
                "path": d.path,
                "line": d.line,
                "kind": d.kind,
                "message": d.message,
                "reason": d.reason,
                "may_hide_write": d.may_hide_write,
            }
            for d in result.diagnostics
        ],
        "tables": [
            {
                "name": t.name,
                "guarded": t.guarded,
                "default": t.default,
                "writers": t.writers,
                "severity": t.severity.value if t.severity else None,
            }
            for t in result.tables
        ],
        "summary": {
            "files_scanned": result.files_scanned,
            "files_with_sql": result.files_with_sql,
            "statements": result.statements,
            "findings": len(result.findings),
            "seconds": result.seconds,
            "diagnostic_groups": [
                {"kind": kind, "reason": reason, "count": count}
                for kind, reason, count in diagnostic_groups(result.diagnostics)
            ],
        },
    }


def render(result: ScanResult) -> str:
    return json.dumps(to_document(result), indent=2, ensure_ascii=False) + "\n"
