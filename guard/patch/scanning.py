"""The scan ``guard patch`` starts from: ``guard scan``'s own result, plus what the patcher reads in it.

The findings come from :func:`guard.scan.engine.scan` itself (one implementation: the same discovery
diagnostics, the same ``--dsn`` live catalog, the same judging); the patcher also wants the tree's Python modules
(a patched SQL constant must not be imported by another one) and the catalog's columns (the source column of an
``INSERT ... SELECT``, the column order of a positional INSERT), both part of the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from guard.config import Config
from guard.model import ScanResult
from guard.patch.site import TableColumns
from guard.scan.engine import scan


@dataclass
class PatchScan:
    result: ScanResult
    python_files: list[str]  # relative paths of every Python module the scan read
    relations: TableColumns  # catalog: schema.table -> columns
    complete: frozenset[str]  # tables whose full column order the catalog knows


def scan_for_patch(root: Path, config: Config, jobs: int | None = None, dsn: str | None = None) -> PatchScan:
    """Scan ``root`` exactly like ``guard scan`` does (``dsn``: also read the live catalog)."""
    result = scan(root, config, jobs=jobs, dsn=dsn)
    return PatchScan(
        result=result,
        python_files=[f.relpath for f in result.sources if f.language == "python"],
        relations=tuple((info.name, tuple(info.columns)) for info in result.catalog),
        complete=frozenset(info.name for info in result.catalog if info.complete),
    )
