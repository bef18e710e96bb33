"""Markdown report: the blast-radius inventory for a pull-request comment or a CI job summary."""

from __future__ import annotations

from guard.model import ScanResult
from guard.report.common import (
    diagnostic_groups,
    grouped_by_table,
    is_quiet,
    location,
    plural,
    summary_line,
    writers_by_table,
)


def render(result: ScanResult) -> str:
    lines = ["# guard scan: blast radius", "", f"**{summary_line(result)}**", ""]
    if result.findings:
        writers = writers_by_table(result)
        lines += ["| Severity | File:line | Target table | Rule | Why |", "|---|---|---|---|---|"]
        for table, findings in grouped_by_table(result.findings):
            count = writers.get(table)
            label = f"{table} ({plural(count, 'writer')})" if count else table
            for i, found in enumerate(findings):
                lines.append(
                    "| "
                    + " | ".join(
                        _cell(v)
                        for v in (
                            found.severity.value,
                            f"`{location(found)}`",
                            label if i == 0 else "",
                            found.rule,
                            f"{found.why}. {found.message}" if i == 0 and found.why else found.message,
                        )
                    )
                    + " |"
                )
        lines.append("")
    else:
        lines += ["No findings.", ""]
    if result.tables:
        lines += ["## Tables", "", "| Table | Guarded | Default | Writers | Severity |", "|---|---|---|---|---|"]
        for t in result.tables:
            severity = t.severity.value if t.severity else ""
            row = (t.name, "yes" if t.guarded else "no", t.default or "", str(t.writers), severity)
            lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
        lines.append("")
    if result.diagnostics:
        lines += ["## Diagnostics", "", "| File:line | Kind | Message |", "|---|---|---|"]
        for d in sorted(result.diagnostics, key=lambda d: not d.may_hide_write):
            if not is_quiet(d):
                lines.append(f"| {_cell(f'`{d.path}:{d.line}`')} | {_cell(d.kind)} | {_cell(d.message)} |")
        lines.append("")
        quiet = [d for d in result.diagnostics if is_quiet(d)]
        if quiet:
            groups = ", ".join(f"{n} {reason or kind}" for kind, reason, n in diagnostic_groups(quiet))
            lines += [f"Also {len(quiet)} unparsed SQL statements that are not writes: {groups}.", ""]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
