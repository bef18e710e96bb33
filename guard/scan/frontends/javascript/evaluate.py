"""Static values of JS/TS expressions: the strings SQL is built from, and what a name refers to.

:meth:`Evaluator.string` reads an expression as a :class:`StrValue` (None when it is not string-shaped at
all); :meth:`Evaluator.definition` follows a name or ``ns.member`` through declarations and imports to the
expression that defines it (a table object, a row array, a SQL constant), possibly in another module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from guard.scan.frontends.javascript.module import Binding, JsModule, object_entries, property_key
from guard.scan.frontends.javascript.values import Piece, StrValue, decode_escape, hole_value, join, text_value

if TYPE_CHECKING:
    from tree_sitter import Node

    from guard.scan.frontends.javascript.project import JsProject

#: How deep names may chain (A = B + C, B imported from a module whose B = D ...) before giving up.
MAX_DEPTH = 12
#: TypeScript wrappers that do not change a value: ``x as string``, ``x!``, ``x satisfies T``.
_TRANSPARENT = frozenset({"parenthesized_expression", "as_expression", "non_null_expression", "satisfies_expression"})
#: Nodes that name a binding: ``x``, a type ``T``, ``{ x }`` in an object literal.
_NAMES = frozenset({"identifier", "type_identifier", "shorthand_property_identifier"})
_STRING_METHODS = frozenset({"trim", "trimStart", "trimEnd", "toString", "valueOf"})

#: Renders a tagged template's ``${...}``: (evaluator, tag text, expression, text so far) -> value or None.
SubstitutionRenderer = Callable[["Evaluator", str, "Node", str], StrValue | None]

Definition = tuple[JsModule, "Node | None"]  # (module, value node); None value = the module's namespace


class Evaluator:
    def __init__(self, module: JsModule, project: JsProject | None = None) -> None:
        self.module = module
        self.source = module.source
        self.project = project
        self._active: set[int] = set()
        #: const declarators whose value was spliced into a larger string (reported there, not alone)
        self.consumed: set[int] = set()

    # -- strings ---------------------------------------------------------------------------------------------

    def string(self, node: Node | None, depth: int = 0) -> StrValue | None:
        if node is None or depth > MAX_DEPTH or node.id in self._active:
            return None
        self._active.add(node.id)
        try:
            return self._string(node, depth)
        finally:
            self._active.discard(node.id)

    def _string(self, node: Node, depth: int) -> StrValue | None:
        kind = node.type
        if kind == "string":
            return self.literal(node)
        if kind == "template_string":
            return self.template(node, depth)
        if kind == "number":
            return text_value(self.source.text(node), self.source, node.start_byte)
        if kind in _TRANSPARENT:
            inner = node.named_children[0] if node.named_child_count else None
            return self.string(inner, depth + 1)
        if kind == "binary_expression":
            return self._concat(node, depth)
        if kind in ("identifier", "member_expression"):
            return self._named(node, depth)
        if kind == "call_expression":
            return self._call(node, depth)
        return None

    def literal(self, node: Node) -> StrValue:
        pieces = []
        for child in node.named_children:
            if child.type == "string_fragment":
                pieces.append(StrValue(_verbatim(self, child)))
            elif child.type == "escape_sequence":
                pieces.append(text_value(decode_escape(self.source.text(child)), self.source, child.start_byte))
        if not pieces:
            return text_value("", self.source, node.start_byte + 1)
        return join(pieces, "literal")

    def template(
        self, node: Node, depth: int = 0, tag: str | None = None, render: SubstitutionRenderer | None = None
    ) -> StrValue:
        """A template literal; ``tag`` set for a tagged template, whose ``${…}`` are bound parameters unless
        ``render`` turns them into SQL text (``sql(rows, 'a')``, ``sql.identifier([...])``)."""
        parts: list[StrValue] = []
        for child in node.named_children:
            if child.type == "string_fragment":
                parts.append(StrValue(_verbatim(self, child)))
            elif child.type == "escape_sequence":
                parts.append(text_value(decode_escape(self.source.text(child)), self.source, child.start_byte))
            elif child.type == "template_substitution":
                parts.append(self._substitution(child, depth, tag, render, parts))
        if not parts:
            return text_value("", self.source, node.start_byte + 1, "template")
        return join(parts, "template" if tag is None else "tagged")

    def _substitution(
        self, child: Node, depth: int, tag: str | None, render: SubstitutionRenderer | None, parts: list[StrValue]
    ) -> StrValue:
        expression = child.named_children[0] if child.named_child_count else None
        if expression is None:
            return hole_value(self.source, child.start_byte)
        if tag is not None:
            rendered = render(self, tag, expression, join(parts, "tagged").text) if render else None
            return rendered if rendered is not None else hole_value(self.source, child.start_byte)
        value = self.string(expression, depth + 1)
        return value if value is not None else hole_value(self.source, child.start_byte)

    def _concat(self, node: Node, depth: int) -> StrValue | None:
        operator = node.child_by_field_name("operator")
        if operator is None or operator.type != "+":
            return None
        left = self.string(node.child_by_field_name("left"), depth + 1)
        right = self.string(node.child_by_field_name("right"), depth + 1)
        if left is None and right is None:
            return None
        left = left or hole_value(self.source, node.start_byte)
        right = right or hole_value(self.source, (node.child_by_field_name("right") or node).start_byte)
        return join([left, right], "concat")

    def _named(self, node: Node, depth: int) -> StrValue | None:
        found = self.definition(node, depth)
        if found is None or found[1] is None:
            return None
        module, value = found
        evaluator = self if module is self.module else Evaluator(module, self.project)
        result = evaluator.string(value, depth + 1)
        if result is None or value is None:
            return None
        declarator = value.parent
        if declarator is not None and declarator.type == "variable_declarator":
            self.consumed.add(declarator.id)
        if module is not self.module:  # text from another file is located where this file names it
            pinned = tuple(Piece(p.text, self.source, node.start_byte, False, p.hole) for p in result.pieces)
            return StrValue(pinned, "constant", result.dynamic)
        return result.with_origin("constant")

    def _call(self, node: Node, depth: int) -> StrValue | None:
        function = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        if function is None or arguments is None:
            return None
        if arguments.type == "template_string":
            if self.source.text(function) == "String.raw":
                return self.template(arguments, depth)
            return None
        if function.type != "member_expression":
            return None
        method = self.source.text(function.child_by_field_name("property") or function)
        target = function.child_by_field_name("object")
        if method in _STRING_METHODS and not arguments.named_child_count:
            return self.string(target, depth + 1)
        if method == "join":
            return self._join(target, arguments, depth)
        return None

    def _join(self, target: Node | None, arguments: Node, depth: int) -> StrValue | None:
        """``['INSERT INTO t', '(a, b)'].join(' ')``: the array's strings with the separator between them."""
        found = self.value_of(target)
        if found is None or found[1].type != "array":
            return None
        evaluator, items = found
        separator_node = arguments.named_children[0] if arguments.named_child_count else None
        separator: StrValue | None = text_value(",", self.source, arguments.start_byte)
        if separator_node is not None:
            separator = self.string(separator_node, depth + 1) or hole_value(self.source, arguments.start_byte)
        assert separator is not None
        values: list[StrValue] = []
        for index, item in enumerate(items.named_children):
            if index:
                values.append(separator)
            value = evaluator.string(item, depth + 1)
            values.append(value if value is not None else hole_value(evaluator.source, item.start_byte))
        return join(values, "concat") if values else None

    def string_list(self, node: Node) -> list[str] | None:
        """A string, or an array of strings (possibly a constant), as Python strings; None if any is unknown."""
        found = self.value_of(node)
        if found is None:
            return None
        evaluator, value = found
        if value.type == "array":
            items = [evaluator.string(item) for item in value.named_children]
            plain = [item.plain() if item is not None else None for item in items]
            return None if any(p is None for p in plain) else [p for p in plain if p is not None]
        single = evaluator.string(value)
        text = single.plain() if single is not None else None
        return [text] if text is not None else None

    def value_of(self, node: Node | None) -> tuple[Evaluator, Node] | None:
        """The expression ``node`` denotes (itself, or the definition of a name) and the evaluator of the
        module holding it; None for unknown names and module namespaces."""
        found = self.definition_node(node)
        if found is None:
            return None
        module, value = found
        if value is None:
            return None
        return (self if module is self.module else Evaluator(module, self.project)), value

    # -- names -----------------------------------------------------------------------------------------------

    def definition_node(self, node: Node | None, depth: int = 0) -> Definition | None:
        """Like :meth:`definition`, but an expression that is not a name is its own definition."""
        if node is None:
            return None
        while node.type in _TRANSPARENT and node.named_child_count:
            node = node.named_children[0]
        if node.type in _NAMES or node.type == "member_expression":
            return self.definition(node, depth)
        return self.module, node

    def definition(self, node: Node, depth: int = 0) -> Definition | None:
        """The expression a name (``X``, ``ns.X``, ``OBJ.key``) is bound to, following imports."""
        if depth > MAX_DEPTH:
            return None
        if node.type in _NAMES:
            binding = self.module.lookup(self.source.text(node), node)
            return self._bound(self.module, binding, depth) if binding is not None else None
        if node.type == "member_expression":
            owner = node.child_by_field_name("object")
            prop = property_key(self.source, node.child_by_field_name("property"))
            if owner is None or prop is None:
                return None
            found = self.definition_node(owner, depth + 1)
            if found is None:
                return None
            module, value = found
            if value is None:
                return self._export(module, prop, depth + 1)
            if value.type == "object":
                for key, item in object_entries(module.source, value):
                    if key == prop:
                        return self._entry(module, item, depth)
        return None

    def _entry(self, module: JsModule, item: Node, depth: int) -> Definition | None:
        if item.type == "shorthand_property_identifier":
            binding = module.lookup(module.source.text(item), item)
            return self._bound(module, binding, depth + 1) if binding is not None else None
        return module, item

    def _bound(self, module: JsModule, binding: Binding, depth: int) -> Definition | None:
        if binding.module is None:
            if binding.value is None:
                return None
            value = binding.value
            if value.type == "identifier" or value.type == "member_expression":
                evaluator = self if module is self.module else Evaluator(module, self.project)
                return evaluator.definition(value, depth + 1) or (module, value)
            return module, value
        if self.project is None:
            return None
        relpath = self.project.resolve(module.relpath, binding.module)
        target = self.project.module(relpath) if relpath else None
        if target is None:
            return None
        if binding.name == "*":
            return target, None
        return self._export(target, binding.name, depth + 1)

    def _export(self, module: JsModule, name: str, depth: int) -> Definition | None:
        if depth > MAX_DEPTH:
            return None
        binding = module.exports.get(name)
        if binding is not None:
            return self._bound(module, binding, depth + 1)
        for spec in module.star_exports:
            found = self._bound(module, Binding(module=spec, name=name), depth + 1)
            if found is not None:
                return found
        return None


def _verbatim(evaluator: Evaluator, node: Node) -> tuple[Piece, ...]:
    return (Piece(evaluator.source.text(node), evaluator.source, node.start_byte),)
