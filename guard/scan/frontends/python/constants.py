"""The module-level string constants of one module, for importers (see :class:`.project.ModuleMap`).

An importer needs ``INSERT_JOB`` of ``titan/sql.py``, not an analysis of the whole module: one pass over the
module's top-level statements (into ``if``/``try``/``with``/loop blocks, never into functions or classes) lists
what binds each name; a requested name's assignments are then evaluated with the extractor's expression rules
(f-strings, ``%``, ``.format``, concatenation, other constants of the module, imported constants). A name is a
constant only when every binding of it is a plain assignment (or one re-export) and all agree on one fully
known string: a name reassigned in a branch, augmented, or bound by a loop is not a constant.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass

from guard.scan.frontends.python.extract import ModuleEvaluator
from guard.scan.frontends.python.project import ModuleMap
from guard.scan.frontends.python.scope import ImportRef, ModuleRef, nested_statements, target_names
from guard.scan.frontends.python.source import normalize_newlines, parse_module


@dataclass(frozen=True)
class _ReExport:
    """``from module import name [as alias]`` at module level."""

    stmt: ast.ImportFrom
    name: str


#: What binds a name at module level: the assigned expression, a re-export, an ``import``, or None (anything else).
_Binding = ast.expr | _ReExport | ModuleRef | None


class ModuleConstants:
    """Evaluates the module-level string constants of one module, name by name, on demand."""

    def __init__(self, text: str, relpath: str, modules: ModuleMap) -> None:
        text = normalize_newlines(text)
        tree = parse_module(text, relpath) or ast.Module(body=[], type_ignores=[])
        self.bindings: dict[str, list[_Binding]] = top_level_bindings(tree.body)
        self.evaluator = ModuleEvaluator(tree, text, relpath, modules)
        self.modules = modules
        self._imports_bound = False

    def value(self, name: str) -> str | None:
        """The one fully known string ``name`` holds, or None."""
        bindings = self.bindings.get(name)
        if not bindings:
            return None
        if isinstance(bindings[0], _ReExport):
            return self._re_export(bindings[0]) if len(bindings) == 1 else None
        if not all(isinstance(binding, ast.expr) for binding in bindings):
            return None
        self._bind_imports()
        values: set[str] = set()
        try:
            for binding in bindings:
                fragments = self.evaluator.strings(binding)  # type: ignore[arg-type]
                if not fragments or any(fragment.dynamic for fragment in fragments):
                    return None
                values.update(fragment.text for fragment in fragments)
        except Exception:  # a constant is a bonus for importers: failing to read one only loses it
            return None
        return values.pop() if len(values) == 1 else None

    def _re_export(self, binding: _ReExport) -> str | None:
        module = self.evaluator.absolute_module(binding.stmt.module or "", binding.stmt.level)
        return self.modules.constant(module, binding.name)

    def _bind_imports(self) -> None:
        """Names the module only imports are bound to their import, so constants built from them resolve."""
        if self._imports_bound:
            return
        self._imports_bound = True
        for name, bindings in self.bindings.items():
            if len(bindings) != 1:
                continue
            only = bindings[0]
            if isinstance(only, _ReExport):
                module = self.evaluator.absolute_module(only.stmt.module or "", only.stmt.level)
                self.evaluator.bind(name, ImportRef(module, only.name))
            elif isinstance(only, ModuleRef):
                self.evaluator.bind(name, only)


def top_level_bindings(body: Sequence[ast.stmt]) -> dict[str, list[_Binding]]:
    """Every module-level binding of every name, in source order (statements only; expressions are not walked)."""
    found: dict[str, list[_Binding]] = {}
    stack: list[ast.stmt] = list(reversed(body))
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                _bind_target(found, target, stmt.value)
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                _bind_target(found, stmt.target, stmt.value)
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:  # ``import a.b`` binds ``a`` to module a; ``import a.b as c`` binds c to a.b
                local = alias.asname or alias.name.split(".", 1)[0]
                found.setdefault(local, []).append(ModuleRef(alias.name if alias.asname else local))
        elif isinstance(stmt, ast.ImportFrom):
            for alias in stmt.names:
                if alias.name != "*":
                    found.setdefault(alias.asname or alias.name, []).append(_ReExport(stmt, alias.name))
        else:
            for name in _other_bound_names(stmt):
                found.setdefault(name, []).append(None)
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stack.extend(reversed(nested_statements(stmt)))
    return found


def _bind_target(found: dict[str, list[_Binding]], target: ast.expr, value: ast.expr) -> None:
    if isinstance(target, ast.Name):
        found.setdefault(target.id, []).append(value)
    elif isinstance(target, (ast.Tuple, ast.List)):
        paired = isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts)
        for index, element in enumerate(target.elts):
            if paired and not isinstance(element, ast.Starred):
                _bind_target(found, element, value.elts[index])  # type: ignore[attr-defined]
            else:
                for name in target_names(element):
                    found.setdefault(name, []).append(None)


def _other_bound_names(stmt: ast.stmt) -> list[str]:
    """Names bound by statements that never make a constant (augmented assignment, loops, imports, defs...)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [stmt.name]
    if isinstance(stmt, (ast.AugAssign, ast.For, ast.AsyncFor)):
        return target_names(stmt.target)
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return [
            name for item in stmt.items if item.optional_vars is not None for name in target_names(item.optional_vars)
        ]
    if isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
        return [handler.name for handler in getattr(stmt, "handlers", ()) if handler.name]
    return []
