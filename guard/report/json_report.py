"""The JSON contract other tools read; ``guard/schemas/scan-result.schema.json`` pins it down.

The document is the shared envelope of :mod:`guard.envelope` (``command``, ``format_version``,
``diagnostics``) around the scan's results. Keys and their meaning are documented in ``docs/scan.md``.
Additions need a schema update; removals or changed meanings need a new ``format_version``.
"""

from __future__ import annotations

from typing import Any

from guard import envelope
from guard.model import ScanResult
from guard.report.common import diagnostic_groups


def to_document(result: ScanResult) -> dict[str, Any]:
    return envelope.envelope("scan", _results(result), _diagnostics(result))


def _diagnostics(result: ScanResult) -> list[dict[str, Any]]:
    return [
        {
            **envelope.EnvelopeDiagnostic(d.kind, d.message, d.path, d.line).as_dict(),
            "reason": d.reason,
            "may_hide_write": d.may_hide_write,
        }
        for d in result.diagnostics
    ]


def _results(result: ScanResult) -> dict[str, Any]:
    return {
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
            "catalog_files": result.catalog_files,
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
    return envelope.render("scan", _results(result), _diagnostics(result))
