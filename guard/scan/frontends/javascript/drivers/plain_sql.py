"""SQL in plain strings: node-postgres ``client.query(text, values)``, ``{ text, values }`` query configs,
``pool.query``, ``sql.unsafe``, ``$executeRawUnsafe``, and any other call: a string is SQL because of what
it says, not because of the function that receives it.

Each string or untagged template literal that mentions a write or DDL keyword is followed outward to the
largest expression that still builds a string (``+`` chains, ``${…}`` of an enclosing template,
``[...].join(' ')``); that root is one candidate. A ``const`` spliced into a larger statement is reported
there rather than on its own, as the Python front-end does. Text in JSX (``<p>insert into…</p>`` or
attribute strings) is prose shown to people, never a candidate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from guard.scan.frontends.javascript.context import Found, JsContext, call_parts, template_tag
from guard.scan.frontends.javascript.values import PIECE_WORDS, may_be_sql

if TYPE_CHECKING:
    from tree_sitter import Node

ANCHORS = PIECE_WORDS
#: Parents through which a string keeps being composed into a larger string.
_COMPOSING = frozenset(
    {
        "parenthesized_expression",
        "template_substitution",
        "as_expression",
        "non_null_expression",
        "satisfies_expression",
    }
)
#: Places where a string is not program text but prose or a type (JSX, literal types, module names).
_NOT_SQL_PARENTS = frozenset(
    {"jsx_attribute", "jsx_expression", "literal_type", "import_statement", "export_statement", "import_require_clause"}
)


def extract(ctx: JsContext) -> None:
    roots: dict[int, Node] = {}
    for node in [*ctx.source.nodes("string"), *ctx.source.nodes("template_string")]:
        if not may_be_sql(ctx.source.data, PIECE_WORDS, node.start_byte, node.end_byte):
            continue
        root = _root(node)
        if root is not None:
            roots.setdefault(root.id, root)
    values = [(root, ctx.ev.string(root)) for root in roots.values()]
    for root, value in values:
        if value is None or _is_spliced_constant(ctx, root) or not may_be_sql(value.text.encode()):
            continue
        ctx.found.append(Found(value, context_of(ctx, root), root))


def _root(node: Node) -> Node | None:
    """The outermost string-building expression around ``node``; None inside a tagged template or JSX."""
    current = node
    while True:
        parent = current.parent
        if parent is None:
            return current
        kind = parent.type
        if kind in _NOT_SQL_PARENTS:
            return None
        if current.type == "template_string" and template_tag(current) is not None:
            return None  # a tagged template: the tagged-template driver reads it with its own rules
        if kind == "binary_expression":
            operator = parent.child_by_field_name("operator")
            if operator is None or operator.type != "+":
                return current
        elif kind == "template_string" or (kind == "array" and _joined(parent)):
            pass
        elif kind == "member_expression" and current.type == "array":
            call = parent.parent
            if call is None or call.type != "call_expression":
                return current
            parent = call
        elif kind not in _COMPOSING:
            return current
        current = parent


def _joined(array: Node) -> bool:
    member = array.parent
    if member is None or member.type != "member_expression":
        return False
    prop = member.child_by_field_name("property")
    return prop is not None and prop.text == b"join"


def _is_spliced_constant(ctx: JsContext, root: Node) -> bool:
    declarator = root.parent
    return declarator is not None and declarator.type == "variable_declarator" and declarator.id in ctx.ev.consumed


def context_of(ctx: JsContext, root: Node) -> str:
    """The call a SQL string is handed to (``query``, ``unsafe``, ``$executeRawUnsafe``), else ``""``."""
    node = root
    parent = node.parent
    if parent is not None and parent.type == "pair":  # { text: '...', values } handed to query()
        node = parent.parent or node
        parent = node.parent
    if parent is not None and parent.type == "arguments":
        call = parent.parent
        if call is not None and call.type == "call_expression":
            return call_parts(call)[2]
    return ""
