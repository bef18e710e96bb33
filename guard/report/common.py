"""Small pieces every reporter shares: ordering, counting and naming findings the same way everywhere."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from guard.model import Diagnostic, Finding, ResolvedWrite, ScanResult, Severity
from guard.scan.evidence import finding_order

SEVERITY_ORDER = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)

#: Group label for findings that are not about one table.
NO_TABLE = {"GRD900": "(suppressions)", "GRD901": "(suppressions)"}
DYNAMIC_TABLE = "(dynamic target)"


def fails(findings: Iterable[Finding], threshold: Severity | None) -> bool:
    """True when a finding is at or above ``threshold`` (None: nothing fails)."""
    return threshold is not None and any(f.severity.rank >= threshold.rank for f in findings)


def location(found: Finding) -> str:
    return f"{found.relpath}:{found.line}"


def table_label(found: Finding) -> str:
    return found.table or NO_TABLE.get(found.rule, DYNAMIC_TABLE)


def severity_counts(findings: Iterable[Finding]) -> str:
    """``"3 critical, 1 low"`` (most severe first; empty severities left out)."""
    counts = Counter(f.severity for f in findings)
    return ", ".join(f"{counts[s]} {s.value}" for s in SEVERITY_ORDER if counts[s])


def grouped_by_table(findings: Iterable[Finding]) -> list[tuple[str, list[Finding]]]:
    """Findings per target table, most severe table first; inside a table, in :func:`finding_order`."""
    groups: dict[str, list[Finding]] = {}
    for found in findings:
        groups.setdefault(table_label(found), []).append(found)
    for members in groups.values():
        members.sort(key=finding_order)
    return sorted(groups.items(), key=lambda item: (-item[1][0].severity.rank, -len(item[1]), item[0]))


def writers_by_table(result: ScanResult) -> dict[str, int]:
    return {t.name: t.writers for t in result.tables}


def summary_line(result: ScanResult) -> str:
    """One line that says how bad it is and how much was looked at."""
    findings = len(result.findings)
    tables = len({f.table for f in result.findings if f.table})
    head = plural(findings, "finding")
    if findings:
        head += f" ({severity_counts(result.findings)}) in {plural(tables, 'table')}"
    parts = [
        head,
        f"{plural(len(result.writes), 'write')} among {plural(result.statements, 'SQL statement')}",
        f"{result.files_with_sql} of {plural(result.files_scanned, 'file')} hold SQL",
    ]
    if result.catalog_files:
        parts.append(f"judged with the catalog of {plural(result.catalog_files, 'project file')}")
    if result.diagnostics:
        hiding = sum(1 for d in result.diagnostics if d.may_hide_write)
        note = f" ({hiding} may hide a write)" if hiding else ""
        parts.append(plural(len(result.diagnostics), "diagnostic") + note)
    if result.suppressed:
        parts.append(f"{result.suppressed} suppressed")
    if result.baselined:
        parts.append(f"{result.baselined} in baseline")
    parts.append(f"{result.seconds:.2f} s")
    return " · ".join(parts)


def plural(count: int, noun: str) -> str:
    """``"1 writer"``, ``"3 writers"``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def is_quiet(diagnostic: Diagnostic) -> bool:
    """SQL guard could not read that did not look like a write: counted by reason, listed only on request
    (``--verbose``, JSON). Everything else (files that do not parse, possible lost writes) is always shown."""
    return diagnostic.kind == "unparsed-sql" and not diagnostic.may_hide_write


def diagnostic_groups(diagnostics: Iterable[Diagnostic]) -> list[tuple[str, str, int]]:
    """``(kind, reason, count)`` of the diagnostics, most frequent first (ties by kind, then reason)."""
    counts = Counter((d.kind, d.reason) for d in diagnostics)
    return sorted(((kind, reason, n) for (kind, reason), n in counts.items()), key=lambda g: (-g[2], g[0], g[1]))


def write_target(resolved: ResolvedWrite) -> str:
    """The write's target as a reader wants it: ``titan.jobs``, ``(dynamic)``, with its alternatives and,
    for another database, its dialect (``events [clickhouse]``)."""
    target = resolved.table or "(dynamic)"
    if resolved.alternatives:
        target = " | ".join([target, *resolved.alternatives])
    if resolved.write.dialect:
        target += f" [{resolved.write.dialect}]"
    return target


def repository_root(root: str | Path) -> tuple[Path, str]:
    """(the repository root, the scan root's path inside it ending in ``/``, or "") — CI annotations and code
    scanning map paths from the repository root, so a scan of ``services/api`` must report
    ``services/api/db.py``, not ``db.py``. Without a ``.git`` above, the scan root itself."""
    start = Path(root)
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            inside = start.relative_to(candidate).as_posix()
            return candidate, "" if inside == "." else inside + "/"
    return start, ""
