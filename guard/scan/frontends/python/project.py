"""Resolve string constants imported from other modules of the scanned tree.

``from titan.sql import INSERT_JOB`` is common: the SQL lives in one module and is executed from others. The
index maps dotted module names to the tree's files (packages, ``__init__.py``, ``src/`` layouts, and trees whose
import root is a sub-directory) and answers one question, lazily: which single string does ``module.NAME`` hold?

Resolution must stay cheap on trees where every module imports dozens of others (a large site-packages): the
extractor only asks for names whose value it needs (pieces of a composed string that mentions SQL or comes from a
module that may hold SQL, table names), a module is read and parsed at most once per process, and only when its
bytes show a top-level binding of the requested name; only that name's own assignments are then evaluated. An
imported name's value is followed into its defining module (re-exports, ``"INSERT INTO " + JOBS``) at most
:data:`MAX_IMPORT_DEPTH` modules deep, and import cycles end the chain. Answers are cached for the life of the
index (one per worker process).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from typing import Protocol

from guard.scan.frontends.python.prefilter import may_contain_sql
from guard.scan.frontends.python.source import decode_source
from guard.scan.reading import Unreadable, as_utf8, read_source

#: Directories that hold the import root in common layouts; a module path is also known without them.
_LAYOUT_ROOTS = ("src", "lib", "python")
#: How many modules a constant's value may be followed through (``a.X = b.Y + ...``, ``b.Y = c.Z``...).
MAX_IMPORT_DEPTH = 4


class ConstantReader(Protocol):
    """One module's module-level string constants, evaluated name by name."""

    def value(self, name: str) -> str | None: ...


#: Builds the reader of one module's constants from its text and relpath; the map is passed along so the reader
#: can follow the module's own imports. The Python front-end supplies the extractor-based reader
#: (:class:`~guard.scan.frontends.python.constants.ModuleConstants`); injecting it keeps this module free of the
#: extractor, which itself asks this map for constants.
ReadConstants = Callable[[str, str, "ModuleMap"], ConstantReader]


class ModuleMap:
    """Maps dotted module names of the scanned tree to files; resolves module-level string constants on demand."""

    def __init__(self, root: str, relpaths: Iterable[str], read_constants: ReadConstants) -> None:
        self.root = root
        self.read_constants = read_constants
        #: Modules parsed to answer constant lookups, in order (each at most once): what resolution cost.
        self.parsed: list[str] = []
        self._canonical: dict[str, str] = {}  # relpath -> dotted name from the root (layout dir stripped)
        self._by_suffix: dict[str, list[str]] = {}  # dotted suffix -> relpaths
        self._modules: dict[str, _ModuleSource | None] = {}  # relpath -> its source (None: unreadable)
        self._values: dict[tuple[str, str], str | None] = {}  # (relpath, name) -> resolved constant
        self._chain: list[tuple[str, str]] = []  # constants being resolved, outermost first
        self._cuts = 0  # how often the depth bound or a cycle stopped a resolution
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

    def constant(self, module: str, name: str) -> str | None:
        """The one fully known string ``module.name`` holds at module level; None if unknown or ambiguous."""
        relpath = self.relpath(module)
        if relpath is None:
            return None
        key = (relpath, name)
        if key in self._values:
            return self._values[key]
        if key in self._chain or len(self._chain) >= MAX_IMPORT_DEPTH:
            self._cuts += 1  # an import cycle, or too deep: unknown here, but not cached as unknown
            return None
        cuts = self._cuts
        self._chain.append(key)
        try:
            parsed = self._module(relpath)
            value = parsed.value(name) if parsed is not None else None
        finally:
            self._chain.pop()
        if self._cuts == cuts:  # a value computed under a cut may be known when asked for directly
            self._values[key] = value
        return value

    def may_hold_sql(self, module: str) -> bool:
        """Whether the module's bytes pass the prefilter (cached): only then can its constants be statements."""
        relpath = self.relpath(module)
        source = self._module(relpath) if relpath is not None else None
        return source is not None and source.holds_sql

    def _module(self, relpath: str) -> _ModuleSource | None:
        if relpath not in self._modules:
            self._modules[relpath] = _ModuleSource.load(self, relpath)
        return self._modules[relpath]


class _ModuleSource:
    """One module's bytes; parsed (once) only when a name it binds at top level is asked for."""

    def __init__(self, index: ModuleMap, relpath: str, data: bytes) -> None:
        self.index = index
        self.relpath = relpath
        self.data = data
        self._constants: ConstantReader | None = None
        self._holds_sql: bool | None = None

    @property
    def holds_sql(self) -> bool:
        if self._holds_sql is None:
            self._holds_sql = may_contain_sql(self.data)
        return self._holds_sql

    @classmethod
    def load(cls, index: ModuleMap, relpath: str) -> _ModuleSource | None:
        try:  # another module, read for its constants: never block on a FIFO swapped in for it
            data = as_utf8(read_source(os.path.join(index.root, relpath)))
        except Unreadable:
            return None
        return None if b"\0" in data else cls(index, relpath, data)

    def value(self, name: str) -> str | None:
        if not binds_at_top_level(self.data, name):
            return None
        if self._constants is None:
            text, _ = decode_source(self.data, self.relpath)
            self.index.parsed.append(self.relpath)
            self._constants = self.index.read_constants(text, self.relpath, self.index)
        return self._constants.value(name)


def binds_at_top_level(data: bytes, name: str) -> bool:
    """Cheap necessary test, on bytes: ``name`` is an assignment target (``NAME =``, ``NAME: T =``, ``A = NAME =``,
    ``A, NAME = ...``) or imported by a ``from`` import in the module. Classes, functions and absent names fail it,
    so looking up ``exp.Column`` or ``os.path`` never parses the module."""
    pattern = _BINDING_PATTERNS.get(name)
    if pattern is None:
        word = re.escape(name.encode("utf-8", "replace"))
        chained = rb"^[ \t]*(?:[\w.]+[ \t]*=(?!=)[ \t]*)*"  # ``A = B = `` before the name
        target = chained + rb"[(\[]?[\w \t,*]*?\b" + word + rb"\b[\w \t,*)\]]*(?::[^=\n]*)?=(?!=)"
        imported = rb"^[ \t]*from[ \t][^\n]*?\bimport\b(?:[ \t]*\([^)]*|[^\n#;]*)\b" + word + rb"\b"
        pattern = re.compile(target + b"|" + imported, re.MULTILINE)
        _BINDING_PATTERNS[name] = pattern
    return pattern.search(data) is not None


#: One compiled test per name asked for (a process asks for a few hundred distinct names at most).
_BINDING_PATTERNS: dict[str, re.Pattern[bytes]] = {}


def _module_parts(relpath: str) -> list[str]:
    if not relpath.endswith(".py"):
        return []
    parts = relpath[:-3].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return [part for part in parts if part] if all(part.isidentifier() for part in parts if part) else []
