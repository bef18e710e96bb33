"""Inline suppressions: ``# guard: ignore[GRD001] reason`` (or ``-- guard: ignore[...] reason`` in SQL).

Which comment markers count is the front-end's call (:attr:`~guard.scan.frontends.base.Frontend.comment_markers`):
Python files take ``#`` and, for SQL held in strings, ``--``; SQL files take ``--``.

A suppression sits on one of the statement's lines or on the line just above it, names the rules it
silences, and must give a reason: an unexplained suppression is not honoured (GRD900), and one that
silences nothing is reported (GRD901), so comments cannot quietly outlive the code they excuse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from guard.model import Finding
from guard.scan.rules import RULES_BY_CODE, grd900_suppression_reason, grd901_unused_suppression

#: The comment markers a suppression may follow when the caller does not say (Python with SQL in strings).
DEFAULT_MARKERS = ("#", "--")
_MARKERS: dict[tuple[str, ...], re.Pattern[str]] = {}
_REASON_TRAILER = " \t\"'),;`"
_REASON_LEADER = " \t:-\u2014"


@dataclass(frozen=True)
class Suppression:
    relpath: str
    line: int
    column: int
    rules: tuple[str, ...]
    reason: str


@dataclass
class SuppressionOutcome:
    kept: list[Finding] = field(default_factory=list)
    suppressed: int = 0
    problems: list[Finding] = field(default_factory=list)  # GRD900 / GRD901


def find_suppressions(text: str, relpath: str, markers: Sequence[str] = DEFAULT_MARKERS) -> list[Suppression]:
    """Every ``guard: ignore[...]`` comment in a file's text, after one of the language's comment ``markers``."""
    if "guard:" not in text:
        return []
    pattern = _marker_pattern(tuple(markers))
    found = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        for match in pattern.finditer(line):
            rules = tuple(code.strip().upper() for code in re.split(r"[,\s]+", match["rules"]) if code.strip())
            reason = match["reason"].rstrip(_REASON_TRAILER).lstrip(_REASON_LEADER)
            if reason.endswith("*/"):
                reason = reason[:-2].rstrip(_REASON_TRAILER)
            found.append(Suppression(relpath, lineno, match.start() + 1, rules, reason))
    return found


def _marker_pattern(markers: tuple[str, ...]) -> re.Pattern[str]:
    pattern = _MARKERS.get(markers)
    if pattern is None:
        leaders = "|".join(re.escape(marker) for marker in markers)
        pattern = re.compile(rf"(?:{leaders})\s*guard:\s*ignore\[(?P<rules>[^\]]*)\](?P<reason>[^\n]*)")
        _MARKERS[markers] = pattern
    return pattern


def apply_suppressions(
    findings: Iterable[Finding], suppressions: Mapping[str, Iterable[Suppression]]
) -> SuppressionOutcome:
    """Drop findings covered by a reasoned suppression; report bad and unused suppressions."""
    pending = list(findings)
    by_file_and_rule: dict[tuple[str, str], list[int]] = {}  # so each marker looks only at its own file's rule
    for i, found in enumerate(pending):
        by_file_and_rule.setdefault((found.relpath, found.rule), []).append(i)
    silenced: set[int] = set()
    outcome = SuppressionOutcome()
    for relpath in sorted(suppressions):
        for sup in suppressions[relpath]:
            if not sup.reason:
                outcome.problems.append(_missing_reason(sup))
                continue
            for code in sup.rules:
                hits = [i for i in by_file_and_rule.get((sup.relpath, code), ()) if _covers(sup, pending[i])]
                if hits:
                    silenced.update(hits)
                else:
                    outcome.problems.append(_unused(sup, code))
    outcome.kept = [f for i, f in enumerate(pending) if i not in silenced]
    outcome.suppressed = len(silenced)
    return outcome


def _covers(sup: Suppression, found: Finding) -> bool:
    return found.relpath == sup.relpath and found.line - 1 <= sup.line <= max(found.end_line, found.line)


def _missing_reason(sup: Suppression) -> Finding:
    rules = ",".join(sup.rules) or "?"
    rule = grd900_suppression_reason.RULE
    return _meta_finding(
        rule.code,
        sup,
        rule.message.format(rules=rules, example=f"guard: ignore[{rules}] rows are created now, no source time"),
    )


def _unused(sup: Suppression, code: str) -> Finding:
    rule = grd901_unused_suppression.RULE
    known = "" if code in RULES_BY_CODE else f" ({code} is not a guard rule)"
    return _meta_finding(rule.code, sup, rule.message.format(rule=code) + known)


def _meta_finding(code: str, sup: Suppression, message: str) -> Finding:
    """A finding about the comment itself; fingerprinted by the engine from its message (no line number)."""
    rule = RULES_BY_CODE[code]
    return Finding(
        rule=code,
        severity=rule.severity,
        relpath=sup.relpath,
        line=sup.line,
        column=sup.column,
        table=None,
        message=message,
        why=rule.summary,
        fixable=False,
        fingerprint="",
        end_line=sup.line,
    )
