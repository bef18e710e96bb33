"""What a name means in one Python module, decided by its imports: the precision of ORM write extraction.

``insert(jobs)`` is a SQLAlchemy INSERT only when ``insert`` was imported from SQLAlchemy; a local function
called ``insert`` is not. ``Job`` in ``session.add(Job(...))`` is the class ``Job`` of the module it was
imported from (or defined in), and that module path is how the write finds its model in the catalog.

Paths of modules of the scanned tree are canonicalized through the tree's module index, so the model defined
in ``backend/app/models.py`` and imported as ``app.models`` is the same entity everywhere.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from guard.scan.frontends.python.calls import literal_str
from guard.scan.frontends.python.schema import dotted_name


class TreeModules(Protocol):
    """What is asked of the tree's module map (:class:`~.project.ModuleMap`; a protocol here, so the drivers that
    read names need not import the map, which imports the driver registry)."""

    def module_name(self, relpath: str) -> str | None: ...

    def relpath(self, module: str) -> str | None: ...


def module_path(relpath: str, modules: TreeModules | None) -> str:
    """Dotted module name of a scanned file (``src/app/models.py`` -> ``app.models``)."""
    name = modules.module_name(relpath) if modules is not None else None
    if name:
        return name
    path = relpath.removesuffix(".py").removesuffix("/__init__")
    return path.replace("/", ".")


@dataclass
class Names:
    """Imports and top-level definitions of one module."""

    module: str  # this module's dotted path
    relpath: str
    modules: TreeModules | None = None
    imports: dict[str, str] = field(default_factory=dict)  # local name -> dotted origin (module.Name or module)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)  # module-level classes
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)
    assignments: dict[str, ast.expr] = field(default_factory=dict)  # module-level NAME = value (last one)

    @classmethod
    def of(cls, tree: ast.Module, relpath: str, modules: TreeModules | None) -> Names:
        names = cls(module_path(relpath, modules), relpath, modules)
        for node in statements(tree.body):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names._import(node)
        for stmt in tree.body:
            if isinstance(stmt, ast.ClassDef):
                names.classes[stmt.name] = stmt
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.functions[stmt.name] = stmt
            elif isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        names.assignments[target.id] = stmt.value
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
                names.assignments[stmt.target.id] = stmt.value
        for defined in [*names.classes, *names.functions]:
            names.imports.pop(defined, None)  # a module's own ``def insert`` shadows ``from sqlalchemy import insert``
        return names

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self.imports.setdefault(alias.asname, alias.name)
                else:
                    head = alias.name.split(".", 1)[0]
                    self.imports.setdefault(head, head)
            return
        base = self._absolute(node.module or "", node.level)
        for alias in node.names:
            if alias.name != "*":
                self.imports.setdefault(alias.asname or alias.name, f"{base}.{alias.name}" if base else alias.name)

    def _absolute(self, module: str, level: int) -> str:
        if not level:
            return module
        package = self.module.split(".")
        drop = level - 1 if self.relpath.endswith("__init__.py") else level
        package = package[: len(package) - drop] if drop <= len(package) else []
        return ".".join([*package, module] if module else package)

    def canonical(self, node: ast.expr) -> str | None:
        """The dotted origin of a name or attribute chain (``sa.insert`` -> ``sqlalchemy.insert``), None when
        the head is neither imported nor defined at module level (a local variable, a parameter)."""
        text = dotted_name(node)
        if text is None:
            return None
        head, _, rest = text.partition(".")
        origin = self.imports.get(head)
        if origin is not None:
            return self.in_tree(f"{origin}.{rest}" if rest else origin)
        if head in self.classes or head in self.functions or head in self.assignments:
            return f"{self.module}.{text}"
        return None

    def in_tree(self, path: str) -> str:
        """``app.models.Job`` with the module part canonicalized when it is a module of the scanned tree."""
        if self.modules is None:
            return path
        parts = path.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            relpath = self.modules.relpath(".".join(parts[:cut]))
            if relpath is not None:
                name = self.modules.module_name(relpath) or ".".join(parts[:cut])
                return ".".join([name, *parts[cut:]])
        return path

    def is_tree_path(self, path: str) -> bool:
        """Whether ``path`` names something defined in a module of the scanned tree."""
        if path.startswith(self.module + "."):
            return True
        if self.modules is None:
            return False
        parts = path.split(".")
        return any(self.modules.relpath(".".join(parts[:cut])) is not None for cut in range(len(parts) - 1, 0, -1))

    def imports_from(self, *prefixes: str) -> bool:
        """Whether the module imports anything from one of ``prefixes`` (``sqlalchemy``, ``django``...)."""
        origins = self.imports.values()
        return any(origin == prefix or origin.startswith(prefix + ".") for origin in origins for prefix in prefixes)


def statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement of ``body`` at any depth (blocks of ``if``/``for``/``with``/``try``, classes, functions),
    without visiting expressions: how imports and function definitions are found cheaply."""
    stack = list(reversed(body))
    while stack:
        stmt = stack.pop()
        yield stmt
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            block = getattr(stmt, name, None)
            if isinstance(block, list):
                stack.extend(reversed([s for s in block if isinstance(s, ast.stmt)]))
                for item in block:
                    if not isinstance(item, ast.stmt):  # except handlers and match cases hold statements
                        stack.extend(reversed(getattr(item, "body", [])))



def keyword(node: ast.Call, name: str) -> ast.expr | None:
    for item in node.keywords:
        if item.arg == name:
            return item.value
    return None


def constant_str(node: ast.expr | None) -> str | None:
    """The string a node is when it is a string literal (None, or an absent node: None)."""
    return literal_str(node) if node is not None else None
