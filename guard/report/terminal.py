"""Terminal report (rich): the blast-radius inventory, grouped by target table, like an incident write-up.

Severity | File:line | Target table | Why — one row per finding, tables ordered by their worst finding and
labelled with how many writers they have; then a diagnostics summary and one summary line.
"""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table
from rich.text import Text

from guard.model import ScanResult, Severity
from guard.report.common import (
    diagnostic_groups,
    fails,
    grouped_by_table,
    is_quiet,
    location,
    plural,
    summary_line,
    write_target,
    writers_by_table,
)
from guard.scan.evidence import summary as evidence_summary

_STYLE = {Severity.CRITICAL: "bold red", Severity.HIGH: "red", Severity.MEDIUM: "yellow", Severity.LOW: "cyan"}
#: Columns of the inventory taken by borders, padding and the Severity column.
_CHROME = 13 + len("CRITICAL")
#: Diagnostics listed one by one; the rest are only counted (JSON/SARIF carry them all).
MAX_LISTED_DIAGNOSTICS = 10


def render(
    result: ScanResult,
    console: Console,
    fail_on: Severity | None = None,
    show_writes: bool = False,
    verbose: bool = False,
    quiet: bool = False,
) -> None:
    """``quiet``: the findings only (no diagnostics, summary or verdict); ``verbose``: every diagnostic."""
    if result.findings:
        console.print(_inventory(result, console.width))
    elif not quiet:
        console.print(Text("No writes leave the timestamp column to its default.", style="green"))
    if show_writes and result.writes:
        console.print(_write_inventory(result))
    if quiet:
        return
    if result.diagnostics:
        _diagnostics(result, console, verbose)
    failing = fails(result.findings, fail_on)
    console.print(Text(summary_line(result), style="bold red" if failing else "bold"))
    if fail_on is not None:
        verdict = (
            f"findings at or above '{fail_on.value}': exit 1" if failing else f"nothing at or above '{fail_on.value}'"
        )
        console.print(Text(verdict, style="red" if failing else "green"))


def _inventory(result: ScanResult, width: int) -> Table:
    """One section per table: the table cell says who writes it and its default; the first Why says why the
    table matters (config ``why``), every row says what this statement does wrong."""
    writers = writers_by_table(result)
    defaults = {t.name: t.default for t in result.tables}
    table = Table(
        title="Blast radius: writes that leave the timestamp to its default", title_justify="left", expand=True
    )
    table.add_column("Severity", no_wrap=True)
    # Paths and table names read best unbroken, but the Why column must keep room to be read: give the first
    # two their natural width up to a share of the line, the rest to Why.
    groups = grouped_by_table(result.findings)
    path_width, table_width = _column_widths(
        room=max(width - _CHROME, 40),
        path=max(len(location(f)) for f in result.findings),
        table=max(max(len(name) for name, _ in groups), len("Target table")),
    )
    table.add_column("File:line", overflow="fold", width=path_width)
    table.add_column("Target table", overflow="fold", width=table_width)
    table.add_column("Why", ratio=1)
    for name, findings in groups:
        label = _table_label(name, writers.get(name, 0), defaults.get(name))
        for i, found in enumerate(findings):
            why = Text()
            if i == 0 and found.why:
                why.append(found.why + "\n")
            why.append(found.rule, style="bold dim").append(f" {found.message}", style="dim")
            if found.evidence:
                why.append(f"\nranks here: {evidence_summary(found.evidence)}", style="italic dim")
            table.add_row(
                Text(found.severity.value.upper(), style=_STYLE[found.severity]),
                location(found),
                label if i == 0 else "",
                why,
                end_section=i == len(findings) - 1,
            )
    return table


def _column_widths(room: int, path: int, table: int) -> tuple[int, int]:
    """Natural widths for File:line and Target table while Why keeps 40% of the room; else shrink both."""
    excess = path + table + max(24, room * 2 // 5) - room
    if excess <= 0:
        return path, table
    path_cut = min(path - 16, excess * path // (path + table)) if path > 16 else 0
    table_cut = min(table - 12, excess - path_cut) if table > 12 else 0
    return path - max(path_cut, 0), table - max(table_cut, 0)


def _table_label(name: str, writers: int, default: str | None) -> Text:
    label = Text(name, style="bold")
    if writers:
        label.append(f"\n{plural(writers, 'writer')}", style="dim")
    if default:
        label.append(f"\nDEFAULT {default}", style="dim")
    return label


def _write_inventory(result: ScanResult) -> Table:
    table = Table(title="Write inventory (every INSERT / COPY / upsert found)", title_justify="left")
    for column in ("File:line", "Kind", "Target table", "Sets timestamp"):
        table.add_column(column, overflow="fold")
    for resolved in result.writes:
        sets = {True: "yes", False: "no", None: "?"}[resolved.sets_timestamp]
        table.add_row(
            f"{resolved.write.relpath}:{resolved.write.line}",
            resolved.write.kind,
            write_target(resolved),
            Text(sets, style={"yes": "green", "no": "red"}.get(sets, "yellow")),
        )
    return table


def _diagnostics(result: ScanResult, console: Console, verbose: bool) -> None:
    """Counts by kind; then every diagnostic that matters one by one (a possible lost write, a file that does
    not parse), and unreadable SQL that did not look like a write grouped by reason unless ``verbose``."""
    kinds = Counter(d.kind for d in result.diagnostics)
    console.print(
        Text("Diagnostics: ", style="bold").append(", ".join(f"{n} {kind}" for kind, n in kinds.most_common()))
    )
    shown = [d for d in result.diagnostics if verbose or not is_quiet(d)]
    shown.sort(key=lambda d: not d.may_hide_write)  # possible lost writes first
    limit = len(shown) if verbose else MAX_LISTED_DIAGNOSTICS
    for d in shown[:limit]:
        console.print(Text(f"  {d.path}:{d.line}  ", style="dim").append(f"{d.kind}: ").append(d.message))
    hidden = len(shown) - limit
    if hidden > 0:
        console.print(Text(f"  ... and {hidden} more (--verbose or --format json lists them all)", style="dim"))
    quiet = [d for d in result.diagnostics if is_quiet(d)]
    if quiet and not verbose:
        groups = ", ".join(f"{n} {reason or kind}" for kind, reason, n in diagnostic_groups(quiet))
        console.print(
            Text(f"  {plural(len(quiet), 'unparsed SQL statement')} that are not writes: {groups}", style="dim").append(
                " (--verbose lists them)", style="dim"
            )
        )
