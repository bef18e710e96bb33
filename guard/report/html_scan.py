"""``guard scan --format html``: the blast radius as a page the owners of each table can read.

Summary numbers, findings grouped by table (most severe first) with writer counts and the table's ``why``,
each finding with its code excerpt (the statement's lines highlighted) and, when ``guard patch`` can fix it,
the diff it would apply — the patch planner's own dry run, not a second implementation — then the write
inventory and the diagnostics. Severity, rule and table filters run in a few lines of inline JavaScript.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from guard.config import Config
from guard.model import Finding, ScanResult
from guard.patch.diff import unified_diff
from guard.patch.planner import FilePatch, SiteSelection, plan, sites_from_scan
from guard.report.common import SEVERITY_ORDER, grouped_by_table, location, summary_line
from guard.report.html import render as render_page
from guard.scan.discover import discover

#: lines of context shown around a statement
EXCERPT_CONTEXT = 3
#: a statement longer than this is cut in the excerpt (the link names the file and line)
EXCERPT_MAX_LINES = 40


@dataclass(frozen=True)
class ExcerptLine:
    number: int
    text: str
    hit: bool


@dataclass
class FindingView:
    finding: Finding
    excerpt: list[ExcerptLine] = field(default_factory=list)
    diff: list[str] = field(default_factory=list)  # unified-diff lines of the hunks touching the statement


def render(result: ScanResult, config: Config) -> str:
    """The whole page for one scan."""
    root = Path(result.root)
    diffs = suggested_diffs(result, config)
    sources = _SourceCache(root)
    groups = []
    writers = {t.name: t for t in result.tables}
    for table, findings in grouped_by_table(result.findings):
        views = [
            FindingView(f, sources.excerpt(f.relpath, f.line, f.end_line), diffs.get((f.relpath, f.line), []))
            for f in findings
        ]
        summary = writers.get(table)
        groups.append(
            {
                "table": table,
                "severity": findings[0].severity.value,
                "writers": summary.writers if summary else None,
                "default": summary.default if summary else None,
                "why": next((f.why for f in findings if f.why), ""),
                "findings": views,
            }
        )
    counts = Counter(f.severity for f in result.findings)
    return render_page(
        "scan.html.j2",
        title="guard scan: blast radius",
        command="scan",
        result=result,
        root=root.name or str(root),
        summary=summary_line(result),
        severity_counts=[(s.value, counts[s]) for s in SEVERITY_ORDER],
        groups=groups,
        rules=sorted({f.rule for f in result.findings}),
        tables=[g["table"] for g in groups],
        table_count=len({f.table for f in result.findings if f.table}),
        fixable=sum(1 for f in result.findings if (f.relpath, f.line) in diffs),
        location=location,
    )


def suggested_diffs(result: ScanResult, config: Config) -> dict[tuple[str, int], list[str]]:
    """(file, line) of each finding ``guard patch`` would fix -> the diff lines that fix it.

    Runs the patch planner exactly as ``guard patch`` does (dry run, every rule it can fix). A file with one
    fixed site shows its whole diff (the statement and its call's parameters); in a file with several, each
    site is planned alone — the diff ``guard patch --select FILE:LINE`` prints.
    """
    if not any(f.fixable for f in result.findings):
        return {}
    from guard.codemods.patchers import PATCHERS  # libcst and tree-sitter: only when there is something to fix

    root = Path(result.root)
    relations = tuple((info.name, tuple(info.columns)) for info in result.catalog)
    complete = frozenset(info.name for info in result.catalog if info.complete)
    found = discover(root, config.include, config.exclude, config.max_file_size)
    python_files = [f.relpath for f in found.files if f.language == "python"]
    sites, _unfixable = sites_from_scan(result, config, SiteSelection(), relations, complete)
    out: dict[tuple[str, int], list[str]] = {}
    for file_patch in plan(found.root, sites, PATCHERS, python_files=python_files):
        fixed = [r.site for r in file_patch.results if r.fixed]
        if not file_patch.changed or not fixed:
            continue
        if len(fixed) == 1:
            out[(fixed[0].relpath, fixed[0].line)] = _diff_lines(file_patch)
            continue
        for site in fixed:
            alone = plan(found.root, [site], PATCHERS, python_files=python_files)
            if alone and alone[0].changed:
                out[(site.relpath, site.line)] = _diff_lines(alone[0])
    return out


def _diff_lines(file_patch: FilePatch) -> list[str]:
    return unified_diff(file_patch.relpath, file_patch.original, file_patch.patched).splitlines()


class _SourceCache:
    """Each file read once, tolerant of encodings (an excerpt must never fail the report)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.lines: dict[str, list[str]] = {}

    def excerpt(self, relpath: str, line: int, end_line: int) -> list[ExcerptLine]:
        if relpath not in self.lines:
            path = self.root / relpath if self.root.is_dir() else self.root
            try:
                self.lines[relpath] = path.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                self.lines[relpath] = []
        text = self.lines[relpath]
        if not text or line < 1:
            return []
        last_hit = min(max(line, end_line), line + EXCERPT_MAX_LINES - 1)
        first = max(1, line - EXCERPT_CONTEXT)
        last = min(len(text), last_hit + EXCERPT_CONTEXT)
        return [ExcerptLine(n, text[n - 1], line <= n <= last_hit) for n in range(first, last + 1)]
