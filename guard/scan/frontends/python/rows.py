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
from guard.scan.frontends.python.schema import dotted_name

#: The column name standing for columns guard cannot see (``**kwargs``, rows built elsewhere).
UNKNOWN_COLUMNS = f"{HOLE_PREFIX}columns"
#: The import path of the class an annotation or a callee names (the module's imports decide), if any.
TypeReader = Callable[[ast.expr], "str | None"]
MAX_FOLLOW = 4
#: Methods of a pydantic / SQLModel object that return its fields as a dict.
_AS_DICT = frozenset({"dict", "model_dump"})
#: Their options that may leave fields out of the dict (the row then holds some of the fields, not all).
_PARTIAL = ("exclude_unset", "exclude_none", "exclude_defaults", "skip_defaults")


#: Nodes whose insides are another body (or a class): a body's walk does not enter them.
_OWN_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)

@dataclass(frozen=True)
class FieldsOf:
    """Every field of an object of the schema class ``path`` (``**tag_in.dict(exclude={"project"})`` with
    ``tag_in: TagCreate``), but ``excluded``; ``partial``: only some of them may be passed (``exclude_unset``)."""

    path: str
    excluded: tuple[str, ...] = ()
    partial: bool = False


@dataclass
class RowKeys:
    """The keys (attribute names or column keys) one row sets, whether it may set others too (``dynamic``), and
    the schema objects whose fields it also carries (``sources``: known once the catalog has the classes)."""

    keys: list[str] = field(default_factory=list)
    values: dict[str, ast.expr] = field(default_factory=dict)
    dynamic: bool = False
    sources: list[FieldsOf] = field(default_factory=list)

    def add(self, key: str, value: ast.expr | None) -> None:
        if key not in self.keys:
            self.keys.append(key)
        if value is not None:
            self.values.setdefault(key, value)

    @property
    def unknown(self) -> bool:
        """Whether the front-end cannot name every key here (the sources' fields are named by the catalog)."""
        return self.dynamic or bool(self.sources)

    def columns(self) -> tuple[str, ...]:
        return (*self.keys, UNKNOWN_COLUMNS) if self.unknown else tuple(self.keys)


def merge_rows(rows: list[RowKeys]) -> RowKeys:
    """Rows written by one statement: a key counts as set only when every row sets it."""
    if not rows:
        return RowKeys(dynamic=True)
    first = rows[0]
    merged = RowKeys(keys=list(first.keys), values=dict(first.values), dynamic=first.dynamic, sources=first.sources)
    for row in rows[1:]:
        merged.keys = [k for k in merged.keys if k in row.keys]
        merged.dynamic = merged.dynamic or row.dynamic or row.sources != first.sources
    return merged


@dataclass
class Body:
    """One function body (nested functions and classes excluded: they are bodies of their own)."""

    node: ast.AST
    statements: list[ast.stmt]
    parents: dict[int, ast.AST] = field(default_factory=dict)
    #: the import path of the class an annotation or a callee names (the module's imports decide), if any
    types: TypeReader | None = field(default=None, repr=False)
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
    def of(cls, node: ast.AST, statements: list[ast.stmt], types: TypeReader | None = None) -> Body:
        body = cls(node, statements, types=types)
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
        """Pre-order, children in ``ast.iter_child_nodes`` order (its fields read inline: this walk is most of an
        ORM-only file's reading time after the parse)."""
        stack: list[ast.AST] = list(reversed(self.statements))
        for stmt in self.statements:
            self.parents[id(stmt)] = self.node
        while stack:
            node = stack.pop()
            yield node
            if isinstance(node, _OWN_SCOPES):
                continue
            children: list[ast.AST] = []
            for name in node._fields:
                value = getattr(node, name, None)
                if isinstance(value, ast.AST):
                    children.append(value)
                elif isinstance(value, list):
                    children.extend(item for item in value if isinstance(item, ast.AST))
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
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _AS_DICT:
            self._fields_into(row, node, node.func.value)
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
        row.sources += [source for source in other.sources if source not in row.sources]

    def _fields_into(self, row: RowKeys, call: ast.Call, owner: ast.expr) -> None:
        """``owner.dict(...)`` / ``owner.model_dump(...)``: the fields of the owner's schema class, minus
        ``exclude={...}``; ``include={...}`` names the keys outright; aliases or an unknown class: unknown."""
        options = {item.arg: item.value for item in call.keywords if item.arg}
        if call.args or len(options) < len(call.keywords) or "by_alias" in options:
            row.dynamic = True
            return
        if "include" in options:
            included = _literal_names(options["include"])
            if included is None:
                row.dynamic = True
            for key in included or []:
                row.add(key, None)
            return
        path = self.class_of(owner)
        excluded = _literal_names(options["exclude"]) if "exclude" in options else []
        if path is None:
            row.dynamic = True
            return
        partial = excluded is None or any(_truthy(options.get(name)) for name in _PARTIAL)
        row.sources.append(FieldsOf(path, tuple(excluded or ()), partial))

    def class_of(self, node: ast.expr) -> str | None:
        """The schema class of the object ``node`` names: a parameter's annotation (``tag_in: TagCreate``), a
        name bound once to ``TagCreate(...)``, or the element of a list a comprehension or loop walks
        (``for t in items`` with ``items: list[TagCreate]``)."""
        if self.types is None or not isinstance(node, ast.Name):
            return None
        annotation = self._annotation(node.id)
        if annotation is not None:
            return self.types(_unwrapped(annotation))
        value = self.only_value(node.id)
        if isinstance(value, ast.Call):
            return self.types(value.func)
        for child in self.walk():
            loops = child.generators if isinstance(child, (ast.ListComp, ast.SetComp, ast.GeneratorExp)) else (
                [child] if isinstance(child, (ast.For, ast.AsyncFor)) else [])
            for loop in loops:
                if isinstance(loop.target, ast.Name) and loop.target.id == node.id and isinstance(loop.iter, ast.Name):
                    sequence = self._annotation(loop.iter.id)
                    element = _element(_unwrapped(sequence)) if sequence is not None else None
                    return self.types(_unwrapped(element)) if element is not None else None
        return None

    def _annotation(self, name: str) -> ast.expr | None:
        arguments = getattr(self.node, "args", None)
        if not isinstance(arguments, ast.arguments):
            return None
        for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
            if argument.arg == name:
                return argument.annotation
        return None

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


def _literal_names(node: ast.expr) -> list[str] | None:
    """``{"a", "b"}`` / ``["a"]`` / ``{"a": True}``: the names; None when they cannot be read."""
    if isinstance(node, ast.Dict):
        items: list[ast.expr | None] = list(node.keys)
    elif isinstance(node, (ast.Set, ast.List, ast.Tuple)):
        items = list(node.elts)
    else:
        return None
    names = [constant_str(item) if item is not None else None for item in items]
    return None if any(name is None for name in names) else [name for name in names if name is not None]


def _truthy(node: ast.expr | None) -> bool:
    return node is not None and not (isinstance(node, ast.Constant) and not node.value)


def _unwrapped(annotation: ast.expr) -> ast.expr:
    """``Optional[X]``, ``X | None``, ``Annotated[X, ...]``, ``"X"``: X."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            return _unwrapped(ast.parse(annotation.value, mode="eval").body)
        except SyntaxError:
            return annotation
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        sides = [side for side in (annotation.left, annotation.right) if not _is_none(side)]
        return _unwrapped(sides[0]) if len(sides) == 1 else annotation
    if isinstance(annotation, ast.Subscript):
        head = (dotted_name(annotation.value) or "").rsplit(".", 1)[-1]
        inner = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
        if head == "Optional" or (head == "Annotated" and inner):
            return _unwrapped(inner[0])
        if head == "Union":
            kept = [item for item in inner if not _is_none(item)]
            return _unwrapped(kept[0]) if len(kept) == 1 else annotation
    return annotation


def _element(annotation: ast.expr) -> ast.expr | None:
    """The element type of ``list[X]`` / ``List[X]`` / ``Sequence[X]`` / ``set[X]`` / ``tuple[X, ...]``."""
    if not isinstance(annotation, ast.Subscript):
        return None
    inner = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
    return inner[0] if inner else None


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _is_sequence_call(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("list", "tuple")


def bodies(tree: ast.Module, worth: Callable[[ast.AST], bool], types: TypeReader | None = None) -> Iterator[Body]:
    """The module body, then every function body (at any depth), each on its own; only those ``worth`` reading
    (a cheap test of the body's text: most functions of a module that writes through an ORM do not)."""
    if worth(tree):
        yield Body.of(tree, tree.body, types)
    for node in statements(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and worth(node):
            yield Body.of(node, node.body, types)
