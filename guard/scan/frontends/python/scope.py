"""Names and scopes for the Python extractor: what a name may hold, and where it was bound.

Python resolves a name in the function's own scope, then enclosing functions, then the module (class bodies
are skipped for code inside methods). The extractor mirrors that with :class:`Scope`: ``env`` is the state as
of the statement being interpreted (flow-sensitive, branches merged), ``every`` is everything a name is ever
bound to in that scope (what an inner function or a later caller may see).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from guard.scan.frontends.python.strings import Fragment

#: More alternative values than this for one name or expression are dropped (combinatorial explosion guard).
MAX_ALTERNATIVES = 16


@dataclass(frozen=True)
class ModuleRef:
    """A name bound by ``import x.y [as z]``."""

    module: str


@dataclass(frozen=True)
class ImportRef:
    """A name bound by ``from module import name``."""

    module: str
    name: str


@dataclass(frozen=True)
class SeqValue:
    """A list/tuple literal: each item's string alternatives, or None when unknown."""

    items: tuple[tuple[Fragment, ...] | None, ...]


#: What a name may hold: string alternatives, an import, a literal sequence, or None (anything else).
Binding = tuple[Fragment, ...] | ModuleRef | ImportRef | SeqValue | None


@dataclass
class ClassInfo:
    name: str
    bases: list[str]
    attrs: dict[str, list[Fragment]] = field(default_factory=dict)


@dataclass
class Scope:
    kind: str  # "module" | "class" | "function"
    parent: Scope | None = None
    env: dict[str, Binding] = field(default_factory=dict)
    every: dict[str, list[Binding]] = field(default_factory=dict)
    writes: list[str] = field(default_factory=list)  # names bound, in order (to merge branches cheaply)
    body: Sequence[ast.stmt] = ()
    params: frozenset[str] = frozenset()
    declared_global: set[str] = field(default_factory=set)
    class_info: ClassInfo | None = None
    self_names: frozenset[str] = frozenset()
    #: Inside an Alembic ``downgrade()``: its operations undo the upgrade, so they are not the schema.
    reverts_schema: bool = False
    _assignments: dict[str, list[ast.AST]] | None = None
    _mutated: frozenset[str] | None = None
    _merged: dict[str, Binding] = field(default_factory=dict)

    def bind(self, name: str, value: Binding) -> None:
        self.env[name] = value
        self.every.setdefault(name, []).append(value)
        self.writes.append(name)
        self._merged.pop(name, None)

    def merged(self, name: str) -> Binding:
        """Everything ``name`` is ever bound to in this scope, as one binding (cached until it is rebound)."""
        if name not in self._merged:
            self._merged[name] = union_bindings(self.every[name])
        return self._merged[name]

    def mutated(self) -> frozenset[str]:
        """Names whose list is grown in place in this scope (``parts.append(...)`` in a loop): the literal they
        were bound to (``parts = []``) says nothing about what they hold when used."""
        if self._mutated is None:
            self._mutated = collect_mutated(self.body)
        return self._mutated

    def assignments(self) -> dict[str, list[ast.AST]]:
        """Statements binding each name in this scope (not nested scopes), collected on first need."""
        if self._assignments is None:
            self._assignments = collect_assignments(self.body)
        return self._assignments


def union_bindings(bindings: Iterable[Binding]) -> Binding:
    strings: list[Fragment] = []
    other: Binding = None
    for binding in bindings:
        if isinstance(binding, tuple):
            for fragment in binding:
                if not any(fragment is seen for seen in strings):
                    strings.append(fragment)
        elif other is None:
            other = binding
    return tuple(strings[:MAX_ALTERNATIVES]) if strings else other


#: List methods that change a list in place.
_MUTATORS = frozenset({"append", "extend", "insert", "appendleft", "extendleft"})


def collect_mutated(body: Sequence[ast.stmt]) -> frozenset[str]:
    """Names ``n`` with a ``n.append(...)``-like statement (or ``n += ...``) among a scope's own statements."""
    found: set[str] = set()
    stack: list[ast.stmt] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Attribute) and func.attr in _MUTATORS and isinstance(func.value, ast.Name):
                found.add(func.value.id)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            found.add(node.target.id)
        stack.extend(nested_statements(node))
    return frozenset(found)


def collect_assignments(body: Sequence[ast.stmt]) -> dict[str, list[ast.AST]]:
    """Names bound anywhere in a scope's own statements (not nested functions/classes) -> binding statements.

    Only statements are walked (expressions cannot hold statements), which keeps this cheap.
    """
    found: dict[str, list[ast.AST]] = {}
    stack: list[ast.stmt] = list(reversed(body))
    while stack:
        node = stack.pop()
        names: list[str] = []
        if isinstance(node, ast.Assign):
            names = [n for target in node.targets for n in target_names(target)]
        elif isinstance(node, ast.AnnAssign):
            names = target_names(node.target)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.setdefault(node.name, [])
            continue
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.AugAssign)):
            for name in target_names(node.target):
                found.setdefault(name, [])
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                found.setdefault((alias.asname or alias.name).split(".", 1)[0], [])
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                for name in target_names(item.optional_vars) if item.optional_vars is not None else ():
                    found.setdefault(name, [])
        for name in names:
            found.setdefault(name, []).append(node)
        for handler in getattr(node, "handlers", ()):
            if handler.name:
                found.setdefault(handler.name, [])
        stack.extend(reversed(nested_statements(node)))
    return found


def nested_statements(stmt: ast.stmt) -> list[ast.stmt]:
    """The statements directly inside a compound statement's blocks (``if``/``for``/``while``/``with`` bodies and
    ``else``, ``try`` handlers and ``finally``, ``match`` cases), in source order."""
    nested: list[ast.stmt] = [
        *getattr(stmt, "body", ()),
        *getattr(stmt, "orelse", ()),
        *getattr(stmt, "finalbody", ()),
    ]
    for handler in getattr(stmt, "handlers", ()):
        nested.extend(handler.body)
    for case in getattr(stmt, "cases", ()):
        nested.extend(case.body)
    return nested


def target_names(target: ast.expr) -> list[str]:
    """The names an assignment target binds (``a``, ``a, (b, *c)``); attributes and subscripts bind none."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for element in target.elts for n in target_names(element)]
    if isinstance(target, ast.Starred):
        return target_names(target.value)
    return []
