"""What one function body does with the objects an ORM write is made of: instances, rows, statements.

ORM writes are rarely one expression. ``job = Job(a=1)`` is built, ``job.status = "x"`` set later, and
``session.add(job)`` comes lines after; rows are dicts built literally, with ``dict(...)``, in a comprehension
or appended to a list in a loop; a Core statement is assigned, extended (``stmt = stmt.on_conflict_do_nothing()``)
and executed with rows. :class:`Body` records, per function (or module body), the assignments, attribute and
key assignments, and list appends by name, so the drivers can follow a name back to what it holds.
Nothing is tracked across functions: a name from a parameter or another function is unknown, and an
instance that was loaded rather than constructed here is an update, not an insert.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from guard.model import HOLE_PREFIX
from guard.scan.frontends.python.names import constant_str, statements

#: The column name standing for columns guard cannot see (``**kwargs``, rows built elsewhere).
UNKNOWN_COLUMNS = f"{HOLE_PREFIX}columns"
MAX_FOLLOW = 4


@dataclass
class RowKeys:
    """The keys (attribute names or column keys) one row sets, and whether it may set others too."""

    keys: list[str] = field(default_factory=list)
    values: dict[str, ast.expr] = field(default_factory=dict)
    dynamic: bool = False

    def add(self, key: str, value: ast.expr | None) -> None:
        if key not in self.keys:
            self.keys.append(key)
        if value is not None:
            self.values.setdefault(key, value)

    def columns(self) -> tuple[str, ...]:
        return (*self.keys, UNKNOWN_COLUMNS) if self.dynamic else tuple(self.keys)


def merge_rows(rows: list[RowKeys]) -> RowKeys:
    """Rows written by one statement: a key counts as set only when every row sets it."""
    if not rows:
        return RowKeys(dynamic=True)
    merged = RowKeys(keys=list(rows[0].keys), values=dict(rows[0].values), dynamic=rows[0].dynamic)
    for row in rows[1:]:
        merged.keys = [k for k in merged.keys if k in row.keys]
        merged.dynamic = merged.dynamic or row.dynamic
    return merged


@dataclass
class Body:
    """One function body (nested functions and classes excluded: they are bodies of their own)."""

    node: ast.AST
    statements: list[ast.stmt]
    parents: dict[int, ast.AST] = field(default_factory=dict)
    #: the nodes of the body in walk order, once walked: every driver walks the same body again
    nodes: list[ast.AST] | None = field(default=None, repr=False)
    # What the body does to its names, noted on first use: most bodies read for the ORM hold no write at all
    # (they only mention a class), and noting every node of them cost more than the walk.
    _noted: bool = field(default=False, repr=False)
    _assigned: dict[str, list[ast.expr]] = field(default_factory=dict, repr=False)
    _attributes: dict[str, list[tuple[str, ast.expr]]] = field(default_factory=dict, repr=False)
    _keys: dict[str, list[tuple[str, ast.expr]]] = field(default_factory=dict, repr=False)
    _appended: dict[str, list[ast.expr]] = field(default_factory=dict, repr=False)
    _opaque: set[str] = field(default_factory=set, repr=False)

    @classmethod
    def of(cls, node: ast.AST, statements: list[ast.stmt]) -> Body:
        body = cls(node, statements)
        body.nodes = list(body._walk())
        return body

    def _notes(self) -> Body:
        if not self._noted:
            self._noted = True
            for child in self.walk():
                self._note(child)
        return self

    @property
    def assigned(self) -> dict[str, list[ast.expr]]:
        """name -> the values assigned to it (``x = ...``)."""
        return self._notes()._assigned

    @property
    def attributes(self) -> dict[str, list[tuple[str, ast.expr]]]:
        """name -> ``name.attr = value`` assignments."""
        return self._notes()._attributes

    @property
    def keys(self) -> dict[str, list[tuple[str, ast.expr]]]:
        """name -> ``name["key"] = value`` assignments."""
        return self._notes()._keys

    @property
    def appended(self) -> dict[str, list[ast.expr]]:
        """name -> items added by ``name.append(x)`` / ``name.extend([...])``."""
        return self._notes()._appended

    @property
    def opaque(self) -> set[str]:
        """Names changed in ways not followed: ``setattr(name, ...)``, ``name.update(...)``, tuple targets..."""
        return self._notes()._opaque

    def walk(self) -> Iterator[ast.AST]:
        """Every node of the body, not descending into nested functions, lambdas' bodies aside, or classes."""
        return iter(self.nodes) if self.nodes is not None else self._walk()

    def _walk(self) -> Iterator[ast.AST]:
        stack: list[ast.AST] = list(reversed(self.statements))
        for stmt in self.statements:
            self.parents[id(stmt)] = self.node
        while stack:
            node = stack.pop()
            yield node
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            children = list(ast.iter_child_nodes(node))
            for child in children:
                self.parents[id(child)] = node
            stack.extend(reversed(children))

    def parent(self, node: ast.AST) -> ast.AST | None:
        return self.parents.get(id(node))

    def _note(self, node: ast.AST) -> None:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                self._target(target, node.value)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            self._opaque.add(node.target.id)
        elif isinstance(node, ast.Call):
            self._call(node)

    def _target(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, ast.Name):
            self._assigned.setdefault(target.id, []).append(value)
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            self._attributes.setdefault(target.value.id, []).append((target.attr, value))
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            key = constant_str(target.slice)
            if key is None:
                self._opaque.add(target.value.id)
            else:
                self._keys.setdefault(target.value.id, []).append((key, value))
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                if isinstance(element, ast.Name):
                    self._opaque.add(element.id)

    def _call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id == "setattr" and node.args and isinstance(node.args[0], ast.Name):
            self._opaque.add(node.args[0].id)
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
            return
        name = func.value.id
        if func.attr == "append" and len(node.args) == 1:
            self._appended.setdefault(name, []).append(node.args[0])
        elif func.attr in ("extend", "insert", "update", "setdefault") and node.args:
            if func.attr == "extend" and isinstance(node.args[0], (ast.List, ast.Tuple)):
                self._appended.setdefault(name, []).extend(node.args[0].elts)
            elif func.attr == "extend" and isinstance(node.args[0], (ast.ListComp, ast.GeneratorExp)):
                self._appended.setdefault(name, []).append(node.args[0].elt)
            else:
                self._opaque.add(name)

    def only_value(self, name: str) -> ast.expr | None:
        """What ``name`` holds when it is assigned exactly once in this body."""
        values = self.assigned.get(name, [])
        return values[0] if len(values) == 1 else None

    # -- rows ---------------------------------------------------------------------------------------

    def dict_row(self, node: ast.expr, depth: int = 0) -> RowKeys:
        """The keys one row sets: ``{"a": 1}``, ``dict(a=1, **base)``, ``{**base, "a": 1}``, a name bound to one
        (plus ``row["b"] = ...`` set later); anything else is a row guard cannot see."""
        row = RowKeys()
        if depth > MAX_FOLLOW:
            row.dynamic = True
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=False):
                text = constant_str(key) if key is not None else None
                if text is None:
                    if key is None:  # {**base}
                        self._merge_into(row, self.dict_row(value, depth + 1))
                    else:
                        row.dynamic = True
                else:
                    row.add(text, value)
        elif isinstance(node, ast.DictComp):
            row.dynamic = True
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
            for argument in node.args:
                self._merge_into(row, self.dict_row(argument, depth + 1))
            self.keywords_into(row, node.keywords, depth)
        elif isinstance(node, ast.Name):
            bound = self.only_value(node.id)
            if bound is None or node.id in self.opaque:
                row.dynamic = True
            else:
                self._merge_into(row, self.dict_row(bound, depth + 1))
            for name, item in self.keys.get(node.id, []):
                row.add(name, item)
        else:
            row.dynamic = True
        return row

    def keywords_into(self, row: RowKeys, keywords: list[ast.keyword], depth: int = 0) -> None:
        for item in keywords:
            if item.arg is None:
                self._merge_into(row, self.dict_row(item.value, depth + 1))
            else:
                row.add(item.arg, item.value)

    @staticmethod
    def _merge_into(row: RowKeys, other: RowKeys) -> None:
        for key in other.keys:
            row.add(key, other.values.get(key))
        row.dynamic = row.dynamic or other.dynamic

    def dict_rows(self, node: ast.expr, depth: int = 0) -> list[RowKeys]:
        """Rows of a sequence: a list/tuple of dicts, a comprehension, a name built by appends, or one dict."""
        if depth > MAX_FOLLOW:
            return [RowKeys(dynamic=True)]
        if isinstance(node, (ast.List, ast.Tuple)):
            if any(isinstance(e, ast.Starred) for e in node.elts) or not node.elts:
                return [RowKeys(dynamic=True)]
            return [self.dict_row(e, depth + 1) for e in node.elts]
        if isinstance(node, (ast.ListComp, ast.GeneratorExp)):
            return [self.dict_row(node.elt, depth + 1)]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("list", "tuple"):
            return self.dict_rows(node.args[0], depth + 1) if len(node.args) == 1 else [RowKeys(dynamic=True)]
        if isinstance(node, ast.Name):
            value = self.only_value(node.id)
            if value is None or node.id in self.opaque:
                return [RowKeys(dynamic=True)]
            if isinstance(value, (ast.List, ast.Tuple)) and not value.elts:
                appended = self.appended.get(node.id, [])
                return [self.dict_row(e, depth + 1) for e in appended] or [RowKeys(dynamic=True)]
            if isinstance(value, (ast.Dict, ast.Call)) and not _is_sequence_call(value):
                return [self.dict_row(node, depth + 1)]
            return self.dict_rows(value, depth + 1)
        if isinstance(node, (ast.Dict, ast.Call)):
            return [self.dict_row(node, depth + 1)]
        return [RowKeys(dynamic=True)]

    def elements(self, node: ast.expr, depth: int = 0) -> list[ast.expr] | None:
        """Items of a sequence of instances (``[Job(...), ...]``, a comprehension's element, appended items)."""
        if depth > MAX_FOLLOW:
            return None
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return [e for e in node.elts if not isinstance(e, ast.Starred)]
        if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
            return [node.elt]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("list", "tuple"):
            return self.elements(node.args[0], depth + 1) if len(node.args) == 1 else None
        if isinstance(node, ast.Name):
            value = self.only_value(node.id)
            if isinstance(value, (ast.List, ast.Tuple)) and not value.elts:
                return self.appended.get(node.id) or None
            return self.elements(value, depth + 1) if value is not None else None
        return None


def _is_sequence_call(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("list", "tuple")


def bodies(tree: ast.Module, worth: Callable[[ast.AST], bool]) -> Iterator[Body]:
    """The module body, then every function body (at any depth), each on its own; only those ``worth`` reading
    (a cheap test of the body's text: most functions of a module that writes through an ORM do not)."""
    if worth(tree):
        yield Body.of(tree, tree.body)
    for node in statements(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and worth(node):
            yield Body.of(node, node.body)
