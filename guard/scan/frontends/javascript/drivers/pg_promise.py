"""pg-promise's multi-row insert helper: ``pgp.helpers.insert(rows, columns, table)``.

ETL code built on pg-promise rarely writes INSERT text: the helper generates it from a ``ColumnSet``
(``new pgp.helpers.ColumnSet(['a', 'b'], { table: 'jobs' })``, also ``{ table: { table, schema } }`` or a
``TableName``), from an array of column names, or from the first row's keys (``columns`` null). Column
descriptors may be strings with pg-promise's modifiers (``'?id'``, ``'data:json'``, ``'name^'``) or objects
(``{ name: 'third', prop: 'x' }``). A column set or table guard cannot read makes the write dynamic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from guard.scan.frontends.javascript.context import JsContext, call_parts
from guard.scan.frontends.javascript.evaluate import Evaluator
from guard.scan.frontends.javascript.module import object_entries
from guard.scan.frontends.javascript.rows import row_keys

if TYPE_CHECKING:
    from tree_sitter import Node

ANCHORS = (b"helpers.insert",)
_INSERT = frozenset({"insert"})


def extract(ctx: JsContext) -> None:
    for call in ctx.source.method_calls(_INSERT):
        _callee, receiver, _method, args = call_parts(call)
        if receiver is None or not ctx.text(receiver).endswith("helpers") or not args:
            continue
        columns, table = _column_set(ctx.ev, args[1] if len(args) > 1 else None)
        if len(args) > 2 and args[2].type not in ("null", "undefined"):
            table = _table_name(ctx.ev, args[2])
        if columns is None and (len(args) < 2 or args[1].type in ("null", "undefined")):
            columns = row_keys(ctx.ev, args[0])
        ctx.add_write(call, table=table, columns=columns, origin="pg-promise.helpers.insert", parser="builder")


def _column_set(ev: Evaluator, node: Node | None) -> tuple[tuple[str, ...] | None, str | None]:
    """(columns, table) a ColumnSet or column array describes; (None, None) when unknown."""
    found = ev.value_of(node) if node is not None else None
    if found is None:
        return None, None
    owner, value = found
    if value.type == "array":
        return _columns(owner, value), None
    if value.type != "new_expression":
        return None, None
    constructor = value.child_by_field_name("constructor")
    arguments = value.child_by_field_name("arguments")
    args = list(arguments.named_children) if arguments is not None else []
    if constructor is None or not owner.source.text(constructor).endswith("ColumnSet") or not args:
        return None, None
    table = None
    if len(args) > 1 and args[1].type == "object":
        options = dict(object_entries(owner.source, args[1]))
        if "table" in options:
            table = _table_name(owner, options["table"])
    found_columns = owner.value_of(args[0])
    columns = _columns(*found_columns) if found_columns is not None and found_columns[1].type == "array" else None
    return columns, table


def _columns(ev: Evaluator, array: Node) -> tuple[str, ...] | None:
    names: list[str] = []
    for item in array.named_children:
        if item.type == "object":
            entries = dict(object_entries(ev.source, item))
            value = ev.string(entries.get("name")) if "name" in entries else None
        else:
            value = ev.string(item)
        text = value.plain() if value is not None else None
        if text is None:
            return None
        names.append(text.lstrip("?").split(":", 1)[0].rstrip("^~"))
    return tuple(names)


def _table_name(ev: Evaluator, node: Node) -> str | None:
    """``'jobs'``, ``{ table: 'jobs', schema: 'titan' }`` or ``new pgp.helpers.TableName(...)`` as ``titan.jobs``."""
    found = ev.value_of(node)
    if found is None:
        return None
    owner, value = found
    if value.type == "new_expression":  # TableName('jobs', 'titan') or TableName({ table, schema })
        arguments = value.child_by_field_name("arguments")
        args = list(arguments.named_children) if arguments is not None else []
        if not args:
            return None
        if args[0].type != "object":
            return _qualified(owner, args[0], args[1] if len(args) > 1 else None)
        value = args[0]
    if value.type == "object":
        options = dict(object_entries(owner.source, value))
        return _qualified(owner, options.get("table"), options.get("schema"))
    return _qualified(owner, value, None)


def _qualified(ev: Evaluator, table_node: Node | None, schema_node: Node | None) -> str | None:
    table = ev.string(table_node) if table_node is not None else None
    schema = ev.string(schema_node) if schema_node is not None else None
    name = table.plain() if table is not None else None
    prefix = schema.plain() if schema is not None else None
    return f"{prefix}.{name}" if name and prefix else name
