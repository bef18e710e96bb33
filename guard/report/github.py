"""``--format github``: GitHub Actions workflow commands, so findings show up as annotations on the diff.

One ``::error``/``::warning``/``::notice`` line per finding (critical and high are errors, medium a warning,
low a notice) with ``file``, ``line``, ``col``, ``endLine`` and ``title``; diagnostics become warnings.
Paths are relative to the repository root, as the annotations API expects, whatever directory was scanned.
Values are escaped the way the Actions runner unescapes them: ``%``, CR and LF everywhere, and also ``:``
and ``,`` inside properties — a message with a newline or a path with a comma cannot break the command.
"""

from __future__ import annotations

from guard.model import ScanResult, Severity
from guard.report.common import repository_root, summary_line

LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, message: str, **properties: object) -> str:
    """``::level k=v,k=v::message`` with every part escaped; None-valued properties are left out."""
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items() if value is not None)
    return f"::{level}{' ' + props if props else ''}::{escape_data(message)}"


def render(result: ScanResult) -> str:
    _, prefix = repository_root(result.root)
    lines = []
    for found in result.findings:
        title = f"{found.rule} {found.severity.value}" + (f" {found.table}" if found.table else "")
        message = found.message + (f". Why it matters: {found.why}" if found.why else "")
        lines.append(
            command(
                LEVEL[found.severity],
                message,
                file=prefix + found.relpath,
                line=max(1, found.line),
                col=max(1, found.column),
                endLine=max(found.line, found.end_line, 1),
                title=title,
            )
        )
    for diagnostic in result.diagnostics:
        lines.append(
            command(
                "warning",
                diagnostic.message,
                file=prefix + diagnostic.path,
                line=max(1, diagnostic.line),
                title=f"guard {diagnostic.kind}",
            )
        )
    lines.append(f"guard: {summary_line(result)}")
    return "\n".join(lines) + "\n"
