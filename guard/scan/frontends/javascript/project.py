"""The JS/TS files of the scanned tree, so one module can read what another exports.

Each worker process holds one :class:`JsProject` (like the Python front-end's module index): relative
imports (``./queries``, ``../db/schema``) resolve to files of the tree the way Node and TypeScript resolve
them (extension, ``index`` file, TypeScript's ``./x.js`` meaning ``./x.ts``), and each imported module is
parsed once per process. Bare package names (``pg``, ``drizzle-orm``) are outside the tree and stay unknown.
The tree's ``schema.prisma`` files are read here too, because a Prisma write names a model, not a table.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from guard.scan.frontends.javascript.module import JsModule
from guard.scan.frontends.javascript.prisma_schema import PrismaSchema, read_prisma_schema
from guard.scan.frontends.javascript.source import DIALECTS, JsSource, is_minified
from guard.scan.reading import Unreadable, as_utf8, read_source

_EXTENSIONS = tuple(DIALECTS)
_TS_ALIASES = {".js": (".ts", ".tsx"), ".mjs": (".mts",), ".cjs": (".cts",), ".jsx": (".tsx",)}


def find_prisma_schemas(root: Path, relpaths: Sequence[str]) -> tuple[str, ...]:
    """``.prisma`` files where Prisma looks for them (``prisma/schema.prisma``, ``schema.prisma``,
    ``prisma/schema/*.prisma``) in the tree's root and in every directory above a JS/TS file (monorepo
    packages); one ``stat`` per directory, no walk of the tree."""
    directories = {""}
    for relpath in relpaths:
        parts = relpath.split("/")[:-1]
        directories.update("/".join(parts[:depth]) for depth in range(1, len(parts) + 1))
    found: list[str] = []
    for directory in sorted(directories):
        prefix = f"{directory}/" if directory else ""
        for candidate in (f"{prefix}schema.prisma", f"{prefix}prisma/schema.prisma"):
            if (root / candidate).is_file():
                found.append(candidate)
        folder = root / f"{prefix}prisma/schema"
        if folder.is_dir():
            found.extend(f"{prefix}prisma/schema/{p.name}" for p in sorted(folder.glob("*.prisma")))
    return tuple(dict.fromkeys(found))


@dataclass
class JsProject:
    root: Path
    relpaths: frozenset[str] = frozenset()
    prisma_relpaths: tuple[str, ...] = ()
    _modules: dict[str, JsModule | None] = field(default_factory=dict)
    _prisma: PrismaSchema | None = None

    def resolve(self, importer: str, spec: str) -> str | None:
        """The tree file ``spec`` (imported from ``importer``) denotes; None for packages and misses."""
        if not spec.startswith("."):
            return None
        base = posixpath.normpath(posixpath.join(posixpath.dirname(importer), spec))
        if base.startswith(".."):
            return None
        stem, ext = posixpath.splitext(base)
        tries = [base] if ext in DIALECTS else []
        tries += [stem + alias for alias in _TS_ALIASES.get(ext, ())]
        tries += [base + suffix for suffix in _EXTENSIONS]
        tries += [f"{base}/index{suffix}" for suffix in _EXTENSIONS]
        return next((candidate for candidate in tries if candidate in self.relpaths), None)

    def module(self, relpath: str) -> JsModule | None:
        """The parsed module at ``relpath`` (cached; None when it cannot be read)."""
        if relpath in self._modules:
            return self._modules[relpath]
        module = None
        try:  # an imported module: never block on a FIFO swapped in for it
            data = as_utf8(read_source(str(self.root / relpath)))
        except Unreadable:
            data = b""
        if data and b"\0" not in data and not is_minified(data):
            module = JsModule.read(JsSource.parse(data, relpath))
        self._modules[relpath] = module
        return module

    def remember(self, module: JsModule) -> None:
        """The file being scanned is parsed already: reuse it when another module imports it."""
        self._modules.setdefault(module.relpath, module)

    def prisma(self) -> PrismaSchema:
        """Every model of every ``.prisma`` file in the tree (Prisma merges multi-file schemas)."""
        if self._prisma is None:
            schema = PrismaSchema()
            for relpath in self.prisma_relpaths:
                try:
                    text = as_utf8(read_source(str(self.root / relpath))).decode("utf-8", "replace")
                except Unreadable:
                    continue
                schema.merge(read_prisma_schema(text, relpath))
            self._prisma = schema
        return self._prisma
