"""Kysely writes: ``db.insertInto('titan.jobs').values(rows)``, ``db.withSchema('titan').insertInto('jobs')``,
``.onConflict((oc) => oc.column('id').doNothing())``, and ``.columns([...]).expression(select)``.

Column keys come from the ``values`` rows, or from ``columns([...])`` for an insert-select; a row shape that
cannot be read makes the write dynamic (reported, never dropped).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from guard.scan.frontends.javascript.context import JsContext, builder_table, chain, chain_tops
from guard.scan.frontends.javascript.rows import row_keys

if TYPE_CHECKING:
    from tree_sitter import Node

ANCHORS = (b"insertinto",)
_INSERT_METHODS = frozenset({"insertInto"})


def extract(ctx: JsContext) -> None:
    for _call, top in chain_tops(ctx.source, _INSERT_METHODS):
        _write(ctx, top)


def _write(ctx: JsContext, top: Node) -> None:
    table: str | None = None
    schema: str | None = None
    columns: tuple[str, ...] | None = None
    kind, on_conflict, known = "insert", None, False
    for name, args, _call in chain(top):
        first = args[0] if args else None
        if name == "withSchema" and first is not None:
            schema = ctx.plain(first)
        elif name == "insertInto" and first is not None:
            table = ctx.plain(first)
            known = True
        elif name == "values" and first is not None:
            columns = row_keys(ctx.ev, first)
        elif name == "columns" and first is not None:
            listed = ctx.ev.string_list(first)
            columns = tuple(listed) if listed is not None else None
            kind = "insert-select"
        elif name == "onConflict":
            updates = bool(first is not None and ctx.calls_method(first, "doUpdateSet"))
            kind, on_conflict = "upsert", "update" if updates else "nothing"
    if not known:
        return
    if table is not None:
        table = builder_table(table, schema)
    ctx.add_write(
        top,
        table=table,
        columns=columns,
        origin="kysely.insertInto",
        parser="builder",
        kind=kind,
        on_conflict=on_conflict,
    )
