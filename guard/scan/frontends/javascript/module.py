"""What names mean in one JS/TS module: declarations by lexical scope, imports, and exports.

SQL is usually a ``const`` (here or in a ``queries.ts`` next door) and a table object is usually imported
from a schema module, so the extractor needs to answer "what is ``INSERT_JOB`` at this point?". The answer
is static and deliberately modest: a ``const`` (or a ``let``/``var`` never reassigned) in an enclosing block,
an ``import``/``require`` of a relative module in the tree, an ``export`` of that module. Anything else is
unknown, and unknown values become holes, never guesses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from guard.scan.frontends.javascript.source import JsSource
from guard.scan.frontends.javascript.values import decode_escape

if TYPE_CHECKING:
    from tree_sitter import Node

#: Node types that open a lexical scope for declarations.
_SCOPES = frozenset({"program", "statement_block", "class_body", "switch_body"})


@dataclass(frozen=True)
class Binding:
    """``value`` is the initializer of a declaration; ``module``/``name`` an import (``*`` = the namespace)."""

    value: Node | None = None
    module: str | None = None
    name: str = ""
    declarator: Node | None = None


AMBIGUOUS = Binding()


@dataclass
class JsModule:
    source: JsSource
    scoped: dict[tuple[int, str], Binding] = field(default_factory=dict)
    exports: dict[str, Binding] = field(default_factory=dict)
    star_exports: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, source: JsSource) -> JsModule:
        module = cls(source)
        module._collect()
        return module

    @property
    def relpath(self) -> str:
        return self.source.relpath

    def lookup(self, name: str, at: Node) -> Binding | None:
        """The binding ``name`` has at node ``at`` (innermost enclosing scope first); None when unknown."""
        node: Node | None = at
        while node is not None:
            if node.type in _SCOPES:
                found = self.scoped.get((node.id, name))
                if found is not None:
                    return None if found is AMBIGUOUS else found
            node = node.parent
        return None

    def top(self, name: str) -> Binding | None:
        found = self.scoped.get((self.source.root.id, name))
        return None if found is AMBIGUOUS else found

    # -- collecting ------------------------------------------------------------------------------------------

    def _collect(self) -> None:
        text = self.source.text
        reassigned = {
            text(left)
            for kind in ("assignment_expression", "augmented_assignment_expression")
            for left in (node.child_by_field_name("left") for node in self.source.nodes(kind))
            if left is not None and left.type == "identifier"
        }
        for declarator in self.source.nodes("variable_declarator"):
            declaration = declarator.parent
            if declaration is None:
                continue
            constant = (
                declaration.type == "lexical_declaration" and (declaration.child(0) or declaration).type == "const"
            )
            scope = _scope_of(declaration)
            name_node = declarator.child_by_field_name("name")
            value = declarator.child_by_field_name("value")
            if name_node is None or scope is None:
                continue
            for name, binding in self._declared(name_node, value, declarator):
                if not constant and name in reassigned:
                    binding = AMBIGUOUS
                key = (scope.id, name)
                self.scoped[key] = AMBIGUOUS if key in self.scoped else binding
                exported = declaration.parent is not None and declaration.parent.type == "export_statement"
                if scope.type == "program" and exported:
                    self.exports[name] = binding
        for kind in ("class_declaration", "function_declaration"):  # classes (entities) and helper functions
            for declared in self.source.nodes(kind):
                scope, name_node = _scope_of(declared), declared.child_by_field_name("name")
                if scope is not None and name_node is not None:
                    self.scoped.setdefault((scope.id, text(name_node)), Binding(value=declared))
        for statement in self.source.root.named_children:
            if statement.type == "import_statement":
                self._import(statement)
            elif statement.type == "export_statement":
                self._export(statement)
        self._commonjs_exports()

    def _declared(self, name_node: Node, value: Node | None, declarator: Node) -> list[tuple[str, Binding]]:
        text = self.source.text
        if name_node.type == "identifier":
            spec = _require_spec(self.source, value)
            if spec is not None:
                return [(text(name_node), Binding(module=spec, name="*", declarator=declarator))]
            return [(text(name_node), Binding(value=value, declarator=declarator))]
        if name_node.type != "object_pattern":
            return []
        spec = _require_spec(self.source, value)
        found = []
        for child in name_node.named_children:
            if child.type == "shorthand_property_identifier_pattern":
                key = local = text(child)
            elif child.type == "pair_pattern":
                key_node, local_node = child.child_by_field_name("key"), child.child_by_field_name("value")
                if key_node is None or local_node is None or local_node.type != "identifier":
                    continue
                key, local = text(key_node), text(local_node)
            else:
                continue
            binding = Binding(module=spec, name=key, declarator=declarator) if spec else AMBIGUOUS
            found.append((local, binding))
        return found

    def _import(self, statement: Node) -> None:
        spec = string_value(self.source, statement.child_by_field_name("source"))
        clause = next((c for c in statement.named_children if c.type == "import_clause"), None)
        if spec is None or clause is None:
            return
        root = self.source.root.id
        text = self.source.text
        for child in clause.named_children:
            if child.type == "identifier":
                self.scoped[(root, text(child))] = Binding(module=spec, name="default")
            elif child.type == "namespace_import":
                name = next((c for c in child.named_children if c.type == "identifier"), None)
                if name is not None:
                    self.scoped[(root, text(name))] = Binding(module=spec, name="*")
            elif child.type == "named_imports":
                for specifier in child.named_children:
                    name_node = specifier.child_by_field_name("name")
                    alias = specifier.child_by_field_name("alias") or name_node
                    if name_node is not None and alias is not None:
                        self.scoped[(root, text(alias))] = Binding(module=spec, name=text(name_node))

    def _export(self, statement: Node) -> None:
        text = self.source.text
        spec = string_value(self.source, statement.child_by_field_name("source"))
        value = statement.child_by_field_name("value")
        if value is not None:  # export default <expression>
            self.exports["default"] = Binding(value=value)
            return
        declaration = statement.child_by_field_name("declaration")
        if declaration is not None and declaration.type in ("class_declaration", "function_declaration"):
            name = declaration.child_by_field_name("name")
            if name is not None:
                self.exports[text(name)] = Binding(value=declaration)
            return
        clause = next((c for c in statement.named_children if c.type == "export_clause"), None)
        if clause is None:
            if spec is not None and any(c.type == "*" for c in statement.children):
                self.star_exports.append(spec)
            return
        for specifier in clause.named_children:
            name_node = specifier.child_by_field_name("name")
            alias = specifier.child_by_field_name("alias") or name_node
            if name_node is None or alias is None:
                continue
            exported = text(name_node)
            if spec is not None:
                self.exports[text(alias)] = Binding(module=spec, name=exported)
            else:
                local = self.top(exported)
                if local is not None:
                    self.exports[text(alias)] = local

    def _commonjs_exports(self) -> None:
        """``module.exports = { A, B: ... }``, ``module.exports.A = ...`` and ``exports.A = ...``."""
        if b"exports" not in self.source.data:
            return
        text = self.source.text
        for assignment in self.source.nodes("assignment_expression"):
            target, value = assignment.child_by_field_name("left"), assignment.child_by_field_name("right")
            if target is None or value is None or target.type != "member_expression":
                continue
            dotted = text(target)
            if dotted == "module.exports":
                if value.type == "object":
                    for key, item in object_entries(self.source, value):
                        self.exports[key] = self._local_or_value(item)
                else:
                    self.exports["default"] = self._local_or_value(value)
            elif dotted.startswith(("module.exports.", "exports.")):
                self.exports[dotted.rsplit(".", 1)[1]] = self._local_or_value(value)

    def _local_or_value(self, node: Node) -> Binding:
        if node.type == "identifier":
            return self.top(self.source.text(node)) or Binding(value=node)
        return Binding(value=node)


def _scope_of(node: Node) -> Node | None:
    parent = node.parent
    while parent is not None and parent.type not in _SCOPES:
        parent = parent.parent
    return parent


def _require_spec(source: JsSource, value: Node | None) -> str | None:
    """``require('./x')`` (possibly behind ``await import('./x')``) -> ``./x``."""
    if value is None:
        return None
    if value.type == "await_expression" and value.named_child_count:
        value = value.named_children[0]
    if value.type != "call_expression":
        return None
    function = value.child_by_field_name("function")
    arguments = value.child_by_field_name("arguments")
    if function is None or arguments is None or source.text(function) not in ("require", "import"):
        return None
    first = arguments.named_children[0] if arguments.named_child_count else None
    return string_value(source, first)


def string_value(source: JsSource, node: Node | None) -> str | None:
    """The value of a plain string literal (or a template literal without substitutions)."""
    if node is None or node.type not in ("string", "template_string"):
        return None
    if any(child.type == "template_substitution" for child in node.named_children):
        return None
    pieces = []
    for child in node.named_children:
        if child.type == "string_fragment":
            pieces.append(source.text(child))
        elif child.type == "escape_sequence":
            pieces.append(decode_escape(source.text(child)))
    return "".join(pieces)


def object_entries(source: JsSource, node: Node) -> list[tuple[str, Node]]:
    """``(key, value node)`` of an object literal's plain entries; spreads and computed keys are skipped."""
    entries = []
    for child in node.named_children:
        if child.type == "pair":
            key = property_key(source, child.child_by_field_name("key"))
            value = child.child_by_field_name("value")
            if key is not None and value is not None:
                entries.append((key, value))
        elif child.type == "shorthand_property_identifier":
            entries.append((source.text(child), child))
        elif child.type == "method_definition":  # { helper(table) { ... } }: the method is the value
            key = property_key(source, child.child_by_field_name("name"))
            if key is not None:
                entries.append((key, child))
    return entries


def property_key(source: JsSource, node: Node | None) -> str | None:
    if node is None:
        return None
    if node.type in ("property_identifier", "identifier", "number"):
        return source.text(node)
    if node.type == "string":
        return string_value(source, node)
    return None
