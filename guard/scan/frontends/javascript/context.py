"""What a JS/TS driver module receives and fills: the file's evaluator and the extraction's outputs.

Every driver module (``drivers/*.py``) exposes ``ANCHORS`` (lower-case byte strings, one of which a file must
contain for the driver to have anything to find: a cheap test before any tree walking) and
``extract(ctx)``, which appends SQL candidates, builder/ORM writes and schema facts to the context.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from guard.model import HOLE_PREFIX, Diagnostic, SchemaFact, WriteStatement
from guard.scan.frontends.javascript.evaluate import Evaluator
from guard.scan.frontends.javascript.values import StrValue

if TYPE_CHECKING:
    from tree_sitter import Node

    from guard.scan.frontends.javascript.project import JsProject
    from guard.scan.frontends.javascript.source import JsSource


@dataclass
class Found:
    """A SQL candidate: its value, the call it is handed to, and the root expression (for patching)."""

    value: StrValue
    context: str
    node: Node


@dataclass
class JsContext:
    ev: Evaluator
    project: JsProject | None
    found: list[Found] = field(default_factory=list)
    writes: list[WriteStatement] = field(default_factory=list)
    facts: list[SchemaFact] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def source(self) -> JsSource:
        return self.ev.source

    @property
    def relpath(self) -> str:
        return self.ev.source.relpath

    def text(self, node: Node | None) -> str:
        return self.source.text(node) if node is not None else ""

    def calls_method(self, node: Node, method: str) -> bool:
        """Whether ``.method(...)`` is called anywhere inside ``node`` (a callback's body, a chain)."""
        return bool(self.source.method_calls({method}, node))

    def plain(self, node: Node | None) -> str | None:
        """The statically known string value of an expression (a literal or a resolved constant)."""
        value = self.ev.string(node) if node is not None else None
        return value.plain() if value is not None else None

    def add_write(
        self,
        node: Node,
        *,
        table: str | None,
        columns: tuple[str, ...] | None,
        origin: str,
        parser: str,
        kind: str = "insert",
        on_conflict: str | None = None,
        entity: str | None = None,
    ) -> None:
        """A write without SQL text (builder or ORM call at ``node``). Unknown columns make it dynamic."""
        dynamic = columns is None
        line, column = self.source.position(node.start_byte)
        self.writes.append(
            WriteStatement(
                relpath=self.relpath,
                line=line,
                column=column,
                kind=kind,
                table=table,
                columns=(f"{HOLE_PREFIX}0",) if columns is None else columns,
                sql=self.text(node),
                on_conflict=on_conflict,
                dynamic=dynamic,
                parser=parser,
                origin=origin,
                context=origin,
                end_line=self.source.end_line_of(node),
                entity=entity,
            )
        )


def template_tag(template: Node) -> tuple[Node, Node] | None:
    """``(tag expression, node spanning tag and template)`` of a tagged template literal, else None.

    ``sql<Row>`...``` (a tag with type arguments) is read by tree-sitter-typescript as the comparisons
    ``sql < Row > `...```; no program compares a template literal that way, so it is taken as the tag it is.
    """
    parent = template.parent
    if parent is None:
        return None
    if parent.type == "call_expression" and parent.child_by_field_name("arguments") == template:
        function = parent.child_by_field_name("function")
        return (function, parent) if function is not None else None
    if parent.type == "binary_expression" and parent.child_by_field_name("right") == template:
        operator, left = parent.child_by_field_name("operator"), parent.child_by_field_name("left")
        if operator is not None and operator.type == ">" and left is not None and left.type == "binary_expression":
            inner = left.child_by_field_name("operator")
            tag = left.child_by_field_name("left")
            if inner is not None and inner.type == "<" and tag is not None:
                return tag, parent
    return None


def call_parts(node: Node) -> tuple[Node | None, Node | None, str, list[Node]]:
    """``(callee, receiver, method name, arguments)`` of a call expression (receiver None for plain calls)."""
    function = node.child_by_field_name("function")
    arguments = node.child_by_field_name("arguments")
    args = list(arguments.named_children) if arguments is not None and arguments.type == "arguments" else []
    args = [a for a in args if a.type != "comment"]
    if function is not None and function.type == "member_expression":
        prop = function.child_by_field_name("property")
        name = prop.text.decode("utf-8", "replace") if prop is not None and prop.text is not None else ""
        return function, function.child_by_field_name("object"), name, args
    name = function.text.decode("utf-8", "replace") if function is not None and function.text is not None else ""
    return function, None, name, args


def chain(node: Node) -> list[tuple[str, list[Node], Node]]:
    """A method chain ending at call ``node`` (``a('t').withSchema('s').insert(r)``), first call first:
    ``(method or function name, arguments, call node)``; the chain's head may be a plain call or a name."""
    links: list[tuple[str, list[Node], Node]] = []
    current: Node | None = node
    while current is not None:
        while current is not None and current.type in ("await_expression", "parenthesized_expression"):
            current = current.named_children[0] if current.named_child_count else None
        if current is None or current.type != "call_expression":
            break
        _callee, receiver, name, args = call_parts(current)
        links.append((name, args, current))
        current = receiver
    links.reverse()
    return links


def builder_table(table: str, schema: str | None) -> str:
    """A query builder's table argument as a name: ``'jobs as j'`` with ``withSchema('titan')`` -> ``titan.jobs``."""
    name = table.split(" as ", 1)[0].strip()
    return f"{schema}.{name}" if schema and "." not in name else name


def chain_tops(source: JsSource, methods: frozenset[str]) -> list[tuple[Node, Node]]:
    """``(call, outermost call of its chain)`` for calls ``.method(...)`` with a method in ``methods``, one per
    chain: ``knex('t').insert(r).onConflict('id').merge()`` is one write, however many links match."""
    found: list[tuple[Node, Node]] = []
    seen: set[int] = set()
    for call in source.method_calls(methods):
        top = outermost_call(call)
        if top.id not in seen:
            seen.add(top.id)
            found.append((call, top))
    return found


def outermost_call(node: Node) -> Node:
    """The last call of the chain ``node`` is part of (``db.insert(t)`` -> ``db.insert(t).values(r).returning()``)."""
    top = node
    parent = top.parent
    while parent is not None and parent.type == "member_expression" and parent.child_by_field_name("object") == top:
        call = parent.parent
        if call is None or call.type != "call_expression":
            break
        top = call
        parent = top.parent
    return top
