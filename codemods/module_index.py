"""One pass over a libcst module that records what the transform looks up: parents, children, strings.

On top of it, the name lookups ``guard patch`` needs to follow SQL through constants and parameters
through variables: scopes, assignments, loop and parameter bindings, uses of a name.

libcst's metadata providers (positions, parents) each cost several full visits of the tree in pure
Python — more than parsing itself. ``guard patch`` needs positions only to find the string holding
the SQL at a given line, so it takes them from the stdlib ``ast`` (C speed): the outermost string
expressions appear in the same source order in both trees, and are paired one to one. Exact libcst
positions are computed lazily, only to word an error message.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

STRING_TYPES = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)
Parents = dict[cst.CSTNode, cst.CSTNode]
Children = dict[cst.CSTNode, list[cst.CSTNode]]


#: Fields holding only layout (whitespace, commas, parentheses): never worth descending into.
_LAYOUT_FIELDS = frozenset(
    {
        "lpar",
        "rpar",
        "comma",
        "semicolon",
        "leading_lines",
        "lines_after_decorators",
        "header",
        "footer",
        "trailing_whitespace",
        "colon",
        "equal",
        "dot",
        "lbracket",
        "rbracket",
        "lbrace",
        "rbrace",
        "operator",
        "asynchronous",
        "star_tok",
        "whitespace_before",
        "whitespace_after",
    }
)
#: Node types whose dataclass field order is not their source order.
_SOURCE_ORDER: dict[type, tuple[str, ...]] = {
    cst.FunctionDef: ("decorators", "name", "params", "returns", "body"),
    cst.ClassDef: ("decorators", "name", "bases", "keywords", "body"),
    cst.IfExp: ("body", "test", "orelse"),
}
_FIELD_CACHE: dict[type, tuple[str, ...]] = {}


def _fields(node_type: type) -> tuple[str, ...]:
    """The fields of a node type that can hold child nodes, in source order."""
    cached = _FIELD_CACHE.get(node_type)
    if cached is None:
        fields = {f.name: f for f in dataclasses.fields(node_type)}
        ordered = _SOURCE_ORDER.get(node_type, ())
        names = [*ordered, *(n for n in fields if n not in ordered)]
        cached = tuple(
            n
            for n in names
            if n not in _LAYOUT_FIELDS and not n.startswith("whitespace") and _may_hold_nodes(fields[n].type)
        )
        _FIELD_CACHE[node_type] = cached
    return cached


def _may_hold_nodes(annotation: object) -> bool:
    """False for the plain-data fields (``Name.value: str``, ``Arg.star: Literal[...]``)."""
    return annotation not in (str, bool, int) and not str(annotation).startswith("typing.Literal")


def _child_nodes(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The children of ``node`` in source order, read from its dataclass fields (layout-only fields skipped)."""
    kids: list[cst.CSTNode] = []
    for name in _fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            kids.append(value)
        elif isinstance(value, list | tuple):
            kids.extend(v for v in value if isinstance(v, cst.CSTNode))
    return kids


def iter_nodes(root: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """``root`` and its descendants (layout nodes skipped), without a libcst visitor."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(_child_nodes(node))


@dataclass
class _Collected:
    parents: Parents = field(default_factory=dict)
    children: Children = field(default_factory=dict)
    strings: list[cst.BaseExpression] = field(default_factory=list)  # outermost string expressions
    names: dict[str, list[cst.Name]] = field(default_factory=dict)  # every Name node by identifier


def _collect(module: cst.Module) -> _Collected:
    """Parents, children (in source order), outermost strings and names, walking dataclass fields directly.

    Much cheaper than a libcst visitor, which rebuilds every node it passes; layout-only fields are skipped.
    """
    out = _Collected()
    parents, children = out.parents, out.children
    stack: list[tuple[cst.CSTNode, bool]] = [(module, False)]
    while stack:
        node, in_string = stack.pop()
        if isinstance(node, cst.Name):
            out.names.setdefault(node.value, []).append(node)
            continue
        is_string = isinstance(node, STRING_TYPES)
        if is_string and not in_string:
            assert isinstance(node, cst.BaseExpression)
            out.strings.append(node)
        kids = _child_nodes(node)
        if kids:
            children[node] = kids
            for kid in kids:
                parents[kid] = node
            stack.extend((kid, in_string or is_string) for kid in reversed(kids))
    return out


def _ast_string_lines(source: str) -> list[tuple[int, int, str | bytes | None]]:
    """(first line, last line, value or None for f-strings) of every outermost string, in source order."""
    spans: list[tuple[int, int, int, str | bytes | None]] = []
    stack: list[ast.AST] = [ast.parse(source)]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.JoinedStr):
            spans.append((node.lineno, node.col_offset, node.end_lineno or node.lineno, None))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
            spans.append((node.lineno, node.col_offset, node.end_lineno or node.lineno, node.value))
        else:
            stack.extend(ast.iter_child_nodes(node))
    return [(start, end, value) for start, _, end, value in sorted(spans, key=lambda s: (s[0], s[1]))]


def _same_strings(nodes: list[cst.BaseExpression], lines: list[tuple[int, int, str | bytes | None]]) -> bool:
    """The pairing by order is right: same count, and every plain literal has the same value in both trees."""
    if len(nodes) != len(lines):
        return False
    for node, (_, _, value) in zip(nodes, lines, strict=True):
        if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
            evaluated = node.evaluated_value
            if evaluated is not None and evaluated != value:
                return False
    return True


class ModuleIndex:
    """A parsed module plus parent/child links and the line span of each outermost string."""

    def __init__(self, source: str) -> None:
        self.module = cst.parse_module(source)
        collected = _collect(self.module)
        self.parents, self._children, self._names = collected.parents, collected.children, collected.names
        strings = collected.strings
        self._assignments: dict[tuple[int, str], list[cst.BaseExpression]] = {}
        self.imports_datetime_module = _imports_datetime_module(self.module)
        self._positions: dict[cst.CSTNode, CodeRange] | None = None
        self._strings_by_line: dict[int, list[cst.BaseExpression]] | None = None
        try:
            lines = _ast_string_lines(source)
        except SyntaxError:  # newer syntax than this interpreter's ast knows
            lines = []
        if _same_strings(strings, lines):
            self.string_lines = {node: (first, last) for node, (first, last, _) in zip(strings, lines, strict=True)}
        else:  # the trees disagree: take libcst's own (slower) positions
            self.string_lines = {node: self._span(node) for node in strings}

    def children(self, node: cst.CSTNode) -> list[cst.CSTNode]:
        """Child nodes in source order (layout-only children left out)."""
        return self._children.get(node, [])

    def walk(self, root: cst.CSTNode, into_functions: bool = False) -> Iterator[cst.CSTNode]:
        """Descendants of ``root`` in source order; nested functions and classes only when asked."""
        stack = list(reversed(self.children(root)))
        while stack:
            node = stack.pop()
            yield node
            if isinstance(node, cst.FunctionDef | cst.ClassDef | cst.Lambda) and not into_functions:
                continue
            stack.extend(reversed(self.children(node)))

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        """Parent, grandparent, ... up to the module."""
        current = self.parents.get(node)
        while current is not None:
            yield current
            current = self.parents.get(current)

    def line(self, node: cst.CSTNode) -> int:
        """First line of ``node`` (exact libcst positions, computed once on first use)."""
        return self._span(node)[0]

    def _span(self, node: cst.CSTNode) -> tuple[int, int]:
        if self._positions is None:
            self._positions = dict(MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider))
        position = self._positions[node]
        return position.start.line, position.end.line

    def top(self, node: cst.CSTNode) -> cst.BaseExpression:
        """Climb ``"a" + NAME + "b"`` to the whole concatenation."""
        current = node
        parent = self.parents.get(current)
        while isinstance(parent, cst.BinaryOperation) and isinstance(parent.operator, cst.Add):
            current = parent
            parent = self.parents.get(current)
        assert isinstance(current, cst.BaseExpression)
        return current

    def strings_at(self, line: int) -> list[cst.BaseExpression]:
        """Outermost string expressions spanning ``line`` (``"a" + X + "b"`` as a whole), in source order."""
        if self._strings_by_line is None:
            # Indexed once: scanning every string for every site made files with many sites quadratic.
            by_line: dict[int, list[cst.BaseExpression]] = {}
            for node, (first, last) in self.string_lines.items():
                top = self.top(node)
                for covered in range(first, last + 1):
                    hits = by_line.setdefault(covered, [])
                    if top not in hits:
                        hits.append(top)
            self._strings_by_line = by_line
        return list(self._strings_by_line.get(line, ()))

    def scope_of(self, node: cst.CSTNode) -> cst.CSTNode:
        """The function (or the module) ``node`` is in."""
        current = self.parents.get(node)
        while current is not None and not isinstance(current, cst.FunctionDef | cst.Module):
            current = self.parents.get(current)
        return current or self.module

    def assignments(self, scope: cst.CSTNode, name: str) -> list[cst.BaseExpression]:
        """Values assigned to ``name`` directly in ``scope`` (not in nested functions); memoized."""
        key = (id(scope), name)
        found = self._assignments.get(key)
        if found is None:
            values = (_assigned_value(node, name) for node in self.walk(scope))
            found = self._assignments[key] = [value for value in values if value is not None]
        return found

    def binds_as_loop_or_parameter(self, scope: cst.CSTNode, name: str) -> str | None:
        """How ``name`` is bound in ``scope`` other than by assignment: "parameter", "loop variable", ..."""
        if isinstance(scope, cst.FunctionDef):
            params = scope.params
            every = [*params.posonly_params, *params.params, *params.kwonly_params]
            if any(p.name.value == name for p in every):
                return "parameter"
        for node in self.walk(scope):
            if isinstance(node, cst.For | cst.CompFor) and _binds(node.target, name):
                return "loop variable"
            if isinstance(node, cst.WithItem) and node.asname is not None and _binds(node.asname.name, name):
                return "with target"
        return None

    def name_uses(self, scope: cst.CSTNode, name: str, defined_at: cst.CSTNode) -> list[cst.Name]:
        """Loads of ``name`` in ``scope`` (module constants: also inside functions that do not rebind it)."""
        uses = []
        for node in self._names.get(name, ()):
            if node is defined_at:
                continue
            if not _is_load(node, self.parents.get(node)):
                continue
            local_scope = self.scope_of(node)
            if local_scope is not scope and (not isinstance(scope, cst.Module) or self.assignments(local_scope, name)):
                continue  # another function's variable, or a local shadowing the module constant
            uses.append(node)
        return uses


def _is_load(node: cst.Name, parent: cst.CSTNode | None) -> bool:
    """Whether ``node`` reads a variable (not a binding, attribute, keyword or definition name)."""
    if isinstance(parent, cst.AssignTarget | cst.Param | cst.ImportAlias | cst.AsName | cst.NameItem):
        return False
    if isinstance(parent, cst.Attribute):
        return parent.attr is not node
    if isinstance(parent, cst.Arg):
        return parent.keyword is not node
    if isinstance(parent, cst.FunctionDef | cst.ClassDef):
        return parent.name is not node
    return True


def _binds(target: cst.BaseExpression | cst.BaseAssignTargetExpression, name: str) -> bool:
    if isinstance(target, cst.Name):
        return target.value == name
    if isinstance(target, cst.Tuple | cst.List):
        return any(_binds(element.value, name) for element in target.elements)
    return False


def _imports_datetime_module(module: cst.Module) -> bool:
    """True when ``import datetime`` binds the module name (so ``from datetime import datetime`` would clash)."""
    imports = (
        small
        for statement in module.body
        if isinstance(statement, cst.SimpleStatementLine)
        for small in statement.body
        if isinstance(small, cst.Import)
    )
    return any(_is_plain_import(alias, "datetime") for small in imports for alias in small.names)


def _is_plain_import(alias: cst.ImportAlias, module: str) -> bool:
    return alias.asname is None and isinstance(alias.name, cst.Name) and alias.name.value == module


def _assigned_value(node: cst.CSTNode, name: str) -> cst.BaseExpression | None:
    """The value when ``node`` is ``name = value`` or ``name: T = value``."""
    if isinstance(node, cst.Assign) and len(node.targets) == 1:
        target = node.targets[0].target
        return node.value if isinstance(target, cst.Name) and target.value == name else None
    if isinstance(node, cst.AnnAssign) and isinstance(node.target, cst.Name) and node.target.value == name:
        return node.value
    return None
