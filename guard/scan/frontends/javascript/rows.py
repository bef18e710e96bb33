"""The column keys of rows handed to a builder or ORM (``insert(rows)``, ``values({...})``, ``data: rows``).

Rows are object literals, arrays of them, or (in ETL code, most often) ``source.map((r) => ({ ... }))``. A
row shape guard cannot read (a variable filled elsewhere, a spread of an unknown object, a function result)
is unknown, and the caller reports the write as dynamic (GRD004): never dropped, never guessed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from guard.scan.frontends.javascript.evaluate import Evaluator
from guard.scan.frontends.javascript.module import object_entries

if TYPE_CHECKING:
    from tree_sitter import Node

_PASS_THROUGH_METHODS = frozenset({"filter", "slice", "concat", "sort", "reverse", "toSorted", "toReversed"})
_MAPPING_METHODS = frozenset({"map", "flatMap"})
_FUNCTIONS = frozenset({"arrow_function", "function_expression", "function"})
_MAX_DEPTH = 8


def row_keys(ev: Evaluator, node: Node | None, depth: int = 0) -> tuple[str, ...] | None:
    """Keys of the row(s) ``node`` evaluates to, in first-seen order; None when they cannot be known."""
    if node is None or depth > _MAX_DEPTH:
        return None
    found = ev.value_of(node)
    if found is None:
        return None
    evaluator, value = found
    if evaluator is not ev:
        return row_keys(evaluator, value, depth + 1)
    kind = value.type
    if kind == "object":
        return _object_keys(ev, value, depth)
    if kind == "array":
        return _union([row_keys(ev, item, depth + 1) for item in value.named_children] or [None])
    if kind == "call_expression":
        return _call_rows(ev, value, depth)
    return None


def object_literal(ev: Evaluator, node: Node | None) -> Node | None:
    """The object literal ``node`` is or names (in this module), else None."""
    found = ev.value_of(node)
    if found is None or found[0] is not ev:
        return None
    return found[1] if found[1].type == "object" else None


def _object_keys(ev: Evaluator, node: Node, depth: int) -> tuple[str, ...] | None:
    keys: list[str] = []
    for child in node.named_children:
        if child.type == "spread_element":
            spread = row_keys(ev, child.named_children[0] if child.named_child_count else None, depth + 1)
            if spread is None:
                return None
            keys.extend(spread)
        elif child.type == "pair":
            key = child.child_by_field_name("key")
            if key is None or key.type == "computed_property_name":
                return None  # { [name]: value }: the column is not known
        elif child.type not in ("shorthand_property_identifier", "method_definition", "comment"):
            return None
    keys.extend(key for key, value in object_entries(ev.source, node) if value.type != "method_definition")
    return tuple(dict.fromkeys(keys))


def _union(shapes: list[tuple[str, ...] | None]) -> tuple[str, ...] | None:
    if any(shape is None for shape in shapes):
        return None
    merged: dict[str, None] = {}
    for shape in shapes:
        merged.update(dict.fromkeys(shape or ()))
    return tuple(merged)


def _call_rows(ev: Evaluator, node: Node, depth: int) -> tuple[str, ...] | None:
    function = node.child_by_field_name("function")
    arguments = node.child_by_field_name("arguments")
    if function is None or arguments is None or function.type != "member_expression":
        return None
    method = ev.source.text(function.child_by_field_name("property") or function)
    target = function.child_by_field_name("object")
    callbacks = [a for a in arguments.named_children if a.type in _FUNCTIONS]
    if method in _MAPPING_METHODS and callbacks:
        return _returned_keys(ev, callbacks[0], depth)
    if method == "from" and target is not None and ev.source.text(target) == "Array" and callbacks:
        return _returned_keys(ev, callbacks[0], depth)
    if method in _PASS_THROUGH_METHODS:
        return row_keys(ev, target, depth + 1)
    return None


def _returned_keys(ev: Evaluator, function: Node, depth: int) -> tuple[str, ...] | None:
    """Keys of the object a callback returns (an arrow's expression body, or every ``return`` in its block)."""
    body = function.child_by_field_name("body")
    if body is None:
        return None
    if body.type != "statement_block":
        return row_keys(ev, body, depth + 1)
    returns = ev.source.nodes("return_statement", body)
    own = [r for r in returns if _enclosing_function(r) == function.id]
    shapes = [row_keys(ev, r.named_children[0] if r.named_child_count else None, depth + 1) for r in own]
    return _union(shapes or [None])


def _enclosing_function(node: Node) -> int | None:
    parent = node.parent
    while parent is not None and parent.type not in _FUNCTIONS and parent.type != "method_definition":
        parent = parent.parent
    return parent.id if parent is not None else None
