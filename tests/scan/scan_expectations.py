"""Expected findings written into fixture files, so a fixture documents its own verdicts.

A statement expected to produce a finding carries ``expect: GRD001`` (optionally ``GRD001:critical``) in a
comment on the line of its first keyword — ``-- expect: ...`` in SQL, ``# expect: ...`` in Python. Lines
without a marker must produce nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

from guard.config import load_config
from guard.model import ScanResult

_EXPECT = re.compile(r"(?:#|--)\s*expect:\s*(?P<codes>GRD\d{3}(?::\w+)?(?:\s*,\s*GRD\d{3}(?::\w+)?)*)")


def expected_findings(root: Path) -> set[tuple[str, int, str, str | None]]:
    """(relpath, line, rule, severity or None) for every marker under ``root``."""
    expected = set()
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".py", ".sql") or not path.is_file():
            continue
        for lineno, line in enumerate(path.read_text().splitlines(), start=1):
            match = _EXPECT.search(line)
            if not match:
                continue
            for item in re.split(r"\s*,\s*", match["codes"]):
                rule, _, severity = item.partition(":")
                expected.add((path.relative_to(root).as_posix(), lineno, rule, severity or None))
    return expected


def actual_findings(result: ScanResult, expected: set[tuple[str, int, str, str | None]]) -> set:
    """Findings in the same shape; severity only where the expectation names one."""
    with_severity = {(p, line, rule) for p, line, rule, severity in expected if severity}
    return {
        (f.relpath, f.line, f.rule, f.severity.value if (f.relpath, f.line, f.rule) in with_severity else None)
        for f in result.findings
    }


def scan_fixture(root: Path, **kwargs: object) -> ScanResult:
    """Scan a fixture tree in-process (jobs=1) with the tree's own guard.toml."""
    from guard.scan.engine import scan

    return scan(root, load_config(root), jobs=1, **kwargs)  # type: ignore[arg-type]
