"""The scan ``guard patch`` starts from: findings and writes, plus what the patcher needs besides.

``guard scan``'s :func:`~guard.scan.engine.scan` returns the findings; the patcher also wants the tree's
Python modules (a patched SQL constant must not be imported by another one) and the catalog's columns
(the source column of an ``INSERT ... SELECT``). Running the engine's stages here yields all three from
one discovery and one pass over the files; the catalog is the one the engine built to judge the writes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from guard.config import Config
from guard.model import ScanResult
from guard.patch.site import TableColumns
from guard.scan.discover import discover
from guard.scan.engine import judge_tree, scan_files


@dataclass
class PatchScan:
    result: ScanResult
    python_files: list[str]  # relative paths of every Python module the scan read
    relations: TableColumns  # catalog: schema.table -> columns
    complete: frozenset[str]  # tables whose full column order the catalog knows


def scan_for_patch(root: Path, config: Config, jobs: int | None = None) -> PatchScan:
    """Scan ``root`` like ``guard scan`` does and keep the file list and the catalog's columns."""
    started = time.perf_counter()
    found = discover(root, config.include, config.exclude, config.max_file_size)
    files = scan_files(found.root, found.files, jobs=jobs)
    result = judge_tree(str(found.root), files, config)
    result.files_scanned = len(found.files)
    result.seconds = round(time.perf_counter() - started, 3)
    return PatchScan(
        result=result,
        python_files=[f.relpath for f in found.files if f.language == "python"],
        relations=tuple((info.name, tuple(info.columns)) for info in result.catalog),
        complete=frozenset(info.name for info in result.catalog if info.complete),
    )
