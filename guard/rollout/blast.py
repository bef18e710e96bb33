"""The blast radius as the rollout commands need it: tables, their writers in code, and what is still unfixed.

It comes from a ``guard scan --format json`` report (the JSON contract, version 1, documented in
docs/scan.md) or from scanning a repository now; both go through the same document so the two paths cannot
disagree. A writer is a write the scanner found (file:line); an unfixed writer is a finding on the table
(the write still leaves the timestamp to its default, or cannot be proven to set it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guard.config import Config, normalize_table_name
from guard.envelope import FORMAT_VERSION
from guard.errors import GuardError
from guard.report.json_report import to_document


@dataclass(frozen=True)
class Writer:
    """A write to ``table`` at ``path:line``; ``sets_timestamp`` False = it omits the timestamp (None: unknown)."""

    path: str
    line: int
    table: str
    kind: str
    sets_timestamp: bool | None

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Unfixed:
    """A finding on a table: the code at ``path:line`` can still write a phantom timestamp."""

    rule: str
    severity: str
    path: str
    line: int
    table: str
    message: str
    fixable: bool

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class BlastRadius:
    root: str
    #: table -> True when its timestamp column defaults to now() (the scanner's "guarded")
    guarded: dict[str, bool] = field(default_factory=dict)
    writers: list[Writer] = field(default_factory=list)
    unfixed: list[Unfixed] = field(default_factory=list)

    def writers_of(self, table: str) -> list[Writer]:
        return [w for w in self.writers if w.table == table]

    def unfixed_on(self, table: str) -> list[Unfixed]:
        return [u for u in self.unfixed if u.table == table]

    def tables_with_findings(self) -> list[str]:
        """Tables the scanner guards (timestamp defaults to now()) that have at least one finding, sorted."""
        return sorted({u.table for u in self.unfixed if self.guarded.get(u.table)})

    def tables(self) -> list[str]:
        """Every guarded table some code writes, or with a finding, sorted."""
        written = {w.table for w in self.writers} | {u.table for u in self.unfixed}
        return sorted(t for t in written if self.guarded.get(t))


def load_report(path: Path) -> BlastRadius:
    """Read a ``guard scan --format json`` report; a file that is not one gets a clear error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GuardError(f"{path}: no such file; write one with `guard scan --format json -o {path}`") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GuardError(f"{path}: cannot read the scan report: {exc}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GuardError(
            f"{path}: not JSON ({exc.msg} at line {exc.lineno}); pass a `guard scan --format json` report"
        ) from None
    return from_document(document, str(path))


def scan_repository(repo: Path, config: Config) -> BlastRadius:
    """Scan ``repo`` now (code and migrations only: the database's guard changes the live defaults)."""
    from guard.scan.engine import scan

    if not repo.exists():
        raise GuardError(f"{repo}: no such directory; pass the repository to scan with --repo")
    return from_document(to_document(scan(repo, config)), str(repo))


def from_document(document: Any, source: str) -> BlastRadius:
    """The blast radius of a scan report document (the shared JSON envelope, ``format_version`` 2)."""
    if not isinstance(document, dict) or "findings" not in document or "writes" not in document:
        raise GuardError(f"{source}: not a guard scan report (no findings/writes); use `guard scan --format json`")
    if document.get("command", "scan") != "scan" or document.get("format_version") != FORMAT_VERSION:
        found = document.get("format_version", document.get("version"))
        raise GuardError(
            f"{source}: scan report format_version {found!r}, this guard reads format_version {FORMAT_VERSION}; "
            "re-run guard scan with this guard"
        )
    try:
        return BlastRadius(
            root=str(document.get("root", "")),
            guarded={normalize_table_name(t["name"]): bool(t["guarded"]) for t in document.get("tables", [])},
            writers=list(_writers(document["writes"])),
            unfixed=list(_unfixed(document["findings"])),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise GuardError(f"{source}: malformed scan report ({type(exc).__name__}: {exc}); re-run guard scan") from None


def _writers(rows: Iterable[dict[str, Any]]) -> Iterable[Writer]:
    for row in rows:
        if row.get("table"):
            yield Writer(
                path=row["path"], line=int(row["line"]), table=normalize_table_name(row["table"]),
                kind=row.get("kind", ""), sets_timestamp=row.get("sets_timestamp"),
            )  # fmt: skip


def _unfixed(rows: Iterable[dict[str, Any]]) -> Iterable[Unfixed]:
    for row in rows:
        if row.get("table"):
            yield Unfixed(
                rule=row["rule"], severity=row["severity"], path=row["path"], line=int(row["line"]),
                table=normalize_table_name(row["table"]), message=row.get("message", ""),
                fixable=bool(row.get("fixable")),
            )  # fmt: skip


def blast_radius(report: Path | None, repo: Path | None, config: Config) -> BlastRadius:
    """``--scan REPORT.json`` or ``--repo PATH`` (exactly one)."""
    if (report is None) == (repo is None):
        raise GuardError("give the blast radius: --scan REPORT.json (from guard scan --format json) or --repo PATH")
    return load_report(report) if report is not None else scan_repository(repo, config)  # type: ignore[arg-type]
