"""Finding fingerprints and baseline files.

A fingerprint identifies a finding across edits: rule + file + the statement normalised by the Postgres
lexer (comments and whitespace dropped, keywords and unquoted identifiers folded) + which occurrence of that
identical statement in the file it is. Line numbers are deliberately left out, so adding a line above a
known site does not turn it into a "new" finding in CI.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from guard.errors import GuardError
from guard.model import Finding

BASELINE_VERSION = 1
_COMMENT_TOKENS = frozenset({"SQL_COMMENT", "C_COMMENT"})


def normalize_statement(sql: str) -> str:
    """Canonical text of a statement: what stays the same when only formatting changes."""
    from pglast import parser

    try:
        tokens = parser.scan(sql)
    except Exception:  # unterminated string, invalid characters: fall back to whitespace folding
        return " ".join(sql.split()).lower()
    parts = []
    for token in tokens:
        if token.name in _COMMENT_TOKENS:
            continue
        text = sql[token.start : token.end + 1]
        folds = token.kind != "NO_KEYWORD" or (token.name == "IDENT" and not text.startswith('"'))
        parts.append(text.lower() if folds else text)
    return " ".join(parts)


def fingerprint(rule: str, relpath: str, normalized: str, occurrence: int) -> str:
    digest = hashlib.sha256("\0".join((rule, relpath, normalized, str(occurrence))).encode("utf-8"))
    return digest.hexdigest()[:32]


def assign_fingerprints(items: Sequence[tuple[Finding, str]]) -> list[Finding]:
    """Fingerprint each finding from the text it is about (a statement, or a suppression's message).

    Identical texts in one file are told apart by their order in the file, not by their line numbers.
    """
    normalized = [normalize_statement(text) for _, text in items]
    order = sorted(range(len(items)), key=lambda i: (items[i][0].relpath, items[i][0].line, items[i][0].column))
    seen: Counter[tuple[str, str, str]] = Counter()
    result: list[Finding | None] = [None] * len(items)
    for i in order:
        found = items[i][0]
        key = (found.rule, found.relpath, normalized[i])
        result[i] = replace(found, fingerprint=fingerprint(*key, seen[key]))
        seen[key] += 1
    return [f for f in result if f is not None]


def load_baseline(path: str | Path) -> set[str]:
    """Fingerprints recorded in a baseline file; a missing or malformed file is a usage error."""
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GuardError(f"{file}: baseline not found; create it with --baseline {file} --write-baseline") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GuardError(f"{file}: cannot read baseline ({exc}); regenerate it with --write-baseline") from None
    if not isinstance(data, dict) or data.get("version") != BASELINE_VERSION:
        raise GuardError(
            f"{file}: not a guard baseline (version {BASELINE_VERSION}); regenerate it with --write-baseline"
        )
    entries = data.get("findings")
    if not isinstance(entries, list) or not all(isinstance(e, dict) and "fingerprint" in e for e in entries):
        raise GuardError(
            f"{file}: baseline 'findings' must be a list of objects with a 'fingerprint'; "
            "regenerate it with --write-baseline"
        )
    return {str(e["fingerprint"]) for e in entries}


def write_baseline(path: str | Path, findings: Iterable[Finding]) -> int:
    """Record the findings (with enough context to review the file by eye); returns how many."""
    entries = sorted(
        (
            {"fingerprint": f.fingerprint, "rule": f.rule, "path": f.relpath, "table": f.table, "message": f.message}
            for f in findings
        ),
        key=lambda e: (str(e["path"]), str(e["rule"]), str(e["fingerprint"])),
    )
    document = {"version": BASELINE_VERSION, "tool": "guard", "findings": entries}
    try:
        Path(path).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise GuardError(f"{path}: cannot write baseline: {exc.strerror or exc}") from None
    return len(entries)


def split_by_baseline(findings: Iterable[Finding], known: set[str]) -> tuple[list[Finding], int]:
    """(findings not in the baseline, how many were)."""
    new, old = [], 0
    for found in findings:
        if found.fingerprint in known:
            old += 1
        else:
            new.append(found)
    return new, old
