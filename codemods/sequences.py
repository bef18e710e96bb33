"""Insert items into comma-separated libcst sequences (tuples, lists, dicts, call arguments) in their own style.

A reviewer should not be able to tell the new item from a hand-written one: it takes the separator the
sequence already uses (``", "`` or a newline and indent), and a trailing comma stays trailing. The
``NodeEdit`` builders at the end wrap this for the node kinds that carry query parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import libcst as cst

Item = TypeVar("Item", cst.Element, cst.DictElement, cst.Arg, cst.BaseElement, cst.BaseDictElement)

_SPACE = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _list_separator(items: Sequence[Any]) -> cst.Comma:
    """The comma a sequence puts between two of its items (``", "`` when it has fewer than two)."""
    for item in items[:-1]:
        if isinstance(item.comma, cst.Comma):
            return item.comma
    return _SPACE


def _is_newline(comma: cst.Comma) -> bool:
    return isinstance(comma.whitespace_after, cst.ParenthesizedWhitespace)


def insert_items(items: Sequence[Item], inserts: list[tuple[int, Item]]) -> list[Item]:
    """Return ``items`` with each ``(index, new)`` inserted before the item at ``index`` of the ORIGINAL list.

    An item appended after a trailing comma keeps the list's trailing-comma style; the one syntactic
    trailing comma of ``(a,)`` is dropped, giving ``(a, new)``.
    """
    sep = _list_separator(items)
    result: list[Any] = list(items)
    for index, new in sorted(inserts, key=lambda pair: pair[0], reverse=True):
        if index < len(result):
            result.insert(index, new.with_changes(comma=sep))
        elif not result:
            result.append(new)
        else:
            trailing = result[-1].comma
            keep = isinstance(trailing, cst.Comma) and (len(items) >= 2 or _is_newline(trailing))
            result[-1] = result[-1].with_changes(comma=sep)
            result.append(new.with_changes(comma=trailing if keep else cst.MaybeSentinel.DEFAULT))
    return _keep_closing_whitespace(items, result)


def _keep_closing_whitespace(before: Sequence[Any], after: list[Any]) -> list[Any]:
    """Call arguments own the whitespace before ``)``: it belongs to whichever argument is now last."""
    if not before or not after or not isinstance(before[-1], cst.Arg) or after[-1] is before[-1]:
        return after
    closing = before[-1].whitespace_after_arg
    for i, item in enumerate(after):
        if isinstance(item, cst.Arg) and item.whitespace_after_arg is closing and i != len(after) - 1:
            after[i] = item.with_changes(whitespace_after_arg=cst.SimpleWhitespace(""))
    after[-1] = after[-1].with_changes(whitespace_after_arg=closing)
    return after


NodeEdit = Callable[[cst.CSTNode], cst.CSTNode]
_NO_SPACE = cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))


def insert_elements(inserts: list[tuple[int, cst.BaseExpression]]) -> NodeEdit:
    """Edit for a tuple or list: new elements at the given indexes of the original elements."""

    def edit(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Tuple | cst.List)
        new: list[tuple[int, cst.BaseElement]] = [(index, cst.Element(value)) for index, value in inserts]
        elements = insert_items(node.elements, new)
        if isinstance(node, cst.Tuple) and len(elements) == 1 and not isinstance(elements[0].comma, cst.Comma):
            elements = [elements[0].with_changes(comma=cst.Comma())]  # (x,) stays a tuple
        return node.with_changes(elements=elements)

    return edit


def insert_args(inserts: list[tuple[int, cst.BaseExpression]]) -> NodeEdit:
    """Edit for a call: new positional arguments at the given indexes of the original arguments."""

    def edit(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Call)
        return node.with_changes(args=insert_items(node.args, [(index, cst.Arg(value)) for index, value in inserts]))

    return edit


def add_keys(pairs: list[tuple[str, cst.BaseExpression]], quote: str) -> NodeEdit:
    """Edit for a dict literal: new ``"key": value`` entries at the end, quoted like the existing keys."""

    def edit(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Dict)
        new = [
            (len(node.elements), cst.DictElement(cst.SimpleString(f"{quote}{key}{quote}"), value))
            for key, value in pairs
        ]
        return node.with_changes(elements=insert_items(node.elements, new))

    return edit


def add_keywords(pairs: list[tuple[str, cst.BaseExpression]]) -> NodeEdit:
    """Edit for a ``dict(a=...)`` call: new keyword arguments at the end."""

    def edit(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Call)
        new = [(len(node.args), cst.Arg(value, keyword=cst.Name(key), equal=_NO_SPACE)) for key, value in pairs]
        return node.with_changes(args=insert_items(node.args, new))

    return edit
