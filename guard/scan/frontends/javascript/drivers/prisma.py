"""Prisma Client writes: ``prisma.job.create({ data })``, ``createMany({ data: rows })``,
``createManyAndReturn``, ``upsert({ where, create, update })``, also through ``tx.job`` in a transaction.

The model comes from the property before the method (``prisma.jobRun`` is ``model JobRun``), its table and
column names from the tree's ``schema.prisma`` (``@@map``, ``@map``, ``@@schema``). A call counts as Prisma
when the model is one the schema declares, or the receiver is named like a Prisma client
(``prisma``, ``this.prisma``) when no schema is in the tree; then the table is the model name (Prisma's
default) and, its schema unknown, the write is reported as such (GRD003), never guessed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from guard.scan.frontends.javascript.context import JsContext, call_parts
from guard.scan.frontends.javascript.module import object_entries
from guard.scan.frontends.javascript.rows import object_literal, row_keys

if TYPE_CHECKING:
    from tree_sitter import Node

ANCHORS = (b"create", b"upsert")
_WRITE_METHODS = frozenset({"create", "createMany", "createManyAndReturn", "upsert"})


def extract(ctx: JsContext) -> None:
    if ctx.project is None:
        return
    for call in ctx.source.method_calls(_WRITE_METHODS):
        _write(ctx, call)


def _write(ctx: JsContext, call: Node) -> None:
    _callee, receiver, method, args = call_parts(call)
    if receiver is None or receiver.type != "member_expression" or not args:
        return
    client = receiver.child_by_field_name("object")
    accessor = ctx.text(receiver.child_by_field_name("property"))
    schema = ctx.project.prisma() if ctx.project is not None else None
    model = schema.model(accessor) if schema is not None else None
    if model is None and (schema is None or schema.models or "prisma" not in ctx.text(client).lower()):
        return
    argument = object_literal(ctx.ev, args[0])
    entries = dict(object_entries(ctx.source, argument)) if argument is not None else {}
    data = entries.get("create" if method == "upsert" else "data")
    keys = row_keys(ctx.ev, data) if data is not None else None
    kind = "upsert" if method == "upsert" else "insert"
    on_conflict = "update" if method == "upsert" else ("nothing" if _skips_duplicates(ctx, entries) else None)
    if model is None:  # no schema in the tree: Prisma's default table name is the model's
        table = name = accessor[:1].upper() + accessor[1:]
        columns = keys
    else:
        table, name = model.qualified, model.name
        mapping = {f.name: f.column for f in model.fields}
        columns = tuple(mapping.get(key, key) for key in keys) if keys is not None else None
    ctx.add_write(
        call,
        table=table,
        columns=columns,
        origin=f"prisma.{method}",
        parser="orm",
        kind=kind,
        on_conflict=on_conflict,
        entity=f"prisma:{name}",
    )


def _skips_duplicates(ctx: JsContext, entries: dict[str, Node]) -> bool:
    flag = entries.get("skipDuplicates")
    return flag is not None and ctx.text(flag) == "true"
