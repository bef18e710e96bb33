"""Resolve string constants imported from other modules of the scanned tree.

``from titan.sql import INSERT_JOB`` is common: the SQL lives in one module and is executed from others. The
index maps dotted module names to the tree's files (packages, ``__init__.py``, ``src/`` layouts, and trees whose
import root is a sub-directory) and parses a module only when an importer asks for its constants; results are
cached for the life of the index (one per worker process).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

#: Directories that hold the import root in common layouts; a module path is also known without them.
_LAYOUT_ROOTS = ("src", "lib", "python")


class ModuleIndex:
    """Maps dotted module names of the scanned tree to files, lazily parses them for module-level string
    constants (cached)."""

    def __init__(self, root: str, relpaths: Iterable[str]) -> None:
        self.root = root
        self._canonical: dict[str, str] = {}  # relpath -> dotted name from the root (layout dir stripped)
        self._by_suffix: dict[str, list[str]] = {}  # dotted suffix -> relpaths
        self._cache: dict[str, dict[str, str]] = {}
        self._in_progress: set[str] = set()
        for relpath in relpaths:
            parts = _module_parts(relpath)
            if not parts:
                continue
            importable = parts[1:] if len(parts) > 1 and parts[0] in _LAYOUT_ROOTS else parts
            self._canonical[relpath] = ".".join(importable)
            for start in range(len(parts)):
                self._by_suffix.setdefault(".".join(parts[start:]), []).append(relpath)

    def module_name(self, relpath: str) -> str | None:
        """Dotted name of a scanned file (``src/titan/sql.py`` -> ``titan.sql``), for relative imports."""
        return self._canonical.get(relpath)

    def relpath(self, module: str) -> str | None:
        """The file that ``import module`` most plausibly means; None if unknown or ambiguous."""
        found = self._by_suffix.get(module)
        if not found:
            return None
        if len(found) == 1:
            return found[0]
        exact = [relpath for relpath in found if self._canonical[relpath] == module]
        if len(exact) == 1:
            return exact[0]
        shortest = min(len(self._canonical[relpath]) for relpath in found)
        best = [relpath for relpath in found if len(self._canonical[relpath]) == shortest]
        return best[0] if len(best) == 1 else None

    def constants(self, module: str) -> dict[str, str]:
        """NAME -> resolved string value (only unambiguous ones)."""
        cached = self._cache.get(module)
        if cached is not None:
            return cached
        relpath = self.relpath(module)
        if relpath is None or relpath in self._in_progress:  # unknown module, or an import cycle
            return {}
        self._in_progress.add(relpath)
        try:
            result = self._load(relpath)
        finally:
            self._in_progress.discard(relpath)
        self._cache[module] = result
        return result

    def _load(self, relpath: str) -> dict[str, str]:
        from guard.scan.extract_python import decode_source, module_string_constants

        try:
            with open(os.path.join(self.root, relpath), "rb") as handle:
                data = handle.read()
        except OSError:
            return {}
        text, _ = decode_source(data, relpath)
        return module_string_constants(text, relpath, self)


def _module_parts(relpath: str) -> list[str]:
    if not relpath.endswith(".py"):
        return []
    parts = relpath[:-3].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return [part for part in parts if part] if all(part.isidentifier() for part in parts if part) else []
