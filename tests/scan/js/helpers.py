"""Run the JS/TS front-end on a small tree written to a temporary directory."""

from __future__ import annotations

from pathlib import Path

from guard.model import SchemaFact, WriteStatement
from guard.scan.frontends.javascript.extract import JsExtraction, extract_javascript
from guard.scan.frontends.javascript.prisma_schema import read_prisma_schema
from guard.scan.frontends.javascript.project import JsProject
from guard.scan.frontends.javascript.source import dialect_of
from guard.scan.sql.parse import parse_candidate


def write_tree(root: Path, files: dict[str, str]) -> None:
    for relpath, text in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def extract_tree(root: Path, files: dict[str, str]) -> dict[str, JsExtraction]:
    write_tree(root, files)
    js = frozenset(p for p in files if dialect_of(p))
    project = JsProject(root, js, tuple(p for p in files if p.endswith(".prisma")))
    return {relpath: extract_javascript((root / relpath).read_bytes(), relpath, project) for relpath in sorted(js)}


def writes_in(root: Path, files: dict[str, str]) -> list[WriteStatement]:
    """Every write of the tree: builder/ORM writes plus the SQL candidates parsed by the SQL stage."""
    found: list[WriteStatement] = []
    for extraction in extract_tree(root, files).values():
        found.extend(extraction.writes)
        for candidate in extraction.candidates:
            found.extend(parse_candidate(candidate).writes)
    return sorted(found, key=lambda w: (w.relpath, w.line, w.column))


def facts_in(root: Path, files: dict[str, str]) -> list[SchemaFact]:
    facts: list[SchemaFact] = []
    for extraction in extract_tree(root, files).values():
        facts.extend(extraction.facts)
    for relpath, text in files.items():
        if relpath.endswith(".prisma"):
            facts.extend(read_prisma_schema(text, relpath).facts())
    return facts


def shapes(writes: list[WriteStatement]) -> list[tuple[int, str | None, tuple[str, ...] | None]]:
    return [(w.line, w.table, w.columns) for w in writes]
