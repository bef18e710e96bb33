"""knex writes and knex migrations.

Writes: ``knex('titan.jobs').insert(rows)``, ``knex.withSchema('titan').table('jobs').insert(...)``,
``knex.insert(rows).into('jobs')``, ``trx('jobs').insert(...).onConflict('id').merge()``,
``knex.batchInsert('jobs', rows)``. The chain must name its table (a string argument of the head call,
``table``/``into``/``from``): that is what tells a knex chain from another library's ``insert``. Column keys
come from the rows (:func:`~guard.scan.frontends.javascript.rows.row_keys`); unknown rows make the write
dynamic.

Migrations: ``knex.schema.createTable('jobs', (t) => { t.timestamp('created_at').defaultTo(knex.fn.now()) })``
(also ``withSchema``, ``createTableIfNotExists``, ``alterTable``/``table`` adding columns, ``dropColumn``,
``dropTable``), ``t.timestamps(true, true)``: schema facts for the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from guard.model import SchemaFact
from guard.scan.frontends.javascript.context import JsContext, builder_table, call_parts, chain, chain_tops
from guard.scan.frontends.javascript.evaluate import Evaluator
from guard.scan.frontends.javascript.rows import row_keys

if TYPE_CHECKING:
    from tree_sitter import Node

ANCHORS = (b"insert", b"createtable", b"altertable")
_INSERT_METHODS = frozenset({"insert", "batchInsert"})
_SCHEMA_METHODS = frozenset(
    {"createTable", "createTableIfNotExists", "alterTable", "table", "dropTable", "dropTableIfExists"}
)
_FUNCTIONS = frozenset(
    {"arrow_function", "function_expression", "function", "function_declaration", "method_definition"}
)
_TABLE_METHODS = frozenset({"table", "into", "from"})
#: knex column builders (``t.<type>('name', ...)``); anything else on the table builder is not a column.
COLUMN_TYPES = frozenset(
    {
        "increments", "bigIncrements", "integer", "bigInteger", "bigint", "tinyint", "smallint", "mediumint",
        "text", "string", "float", "double", "decimal", "boolean", "date", "datetime", "dateTime", "time",
        "timestamp", "binary", "enum", "enu", "json", "jsonb", "uuid", "specificType", "geometry", "geography",
        "point",
    }
)  # fmt: skip


def extract(ctx: JsContext) -> None:
    low = ctx.source.data.lower()
    if b"insert" in low:
        for _call, top in chain_tops(ctx.source, _INSERT_METHODS):
            _write(ctx, top)
    if b"createtable" in low or b"altertable" in low or b".table(" in low:
        for call in ctx.source.method_calls(_SCHEMA_METHODS):
            _schema_call(ctx, call)


def _write(ctx: JsContext, top: Node) -> None:
    links = chain(top)
    if not links:
        return
    table: str | None = None
    schema: str | None = None
    rows: Node | None = None
    kind, on_conflict = "insert", None
    for index, (name, args, _call) in enumerate(links):
        first = args[0] if args else None
        if index == 0 and name not in ("insert", "batchInsert", "withSchema") and len(args) == 1:
            table = ctx.plain(first)  # knex('jobs'), trx('jobs'), db('jobs')
        elif name in _TABLE_METHODS and first is not None:
            table = ctx.plain(first) or table
        elif name == "withSchema" and first is not None:
            schema = ctx.plain(first)
        elif name == "batchInsert" and len(args) >= 2:
            table, rows = ctx.plain(first), args[1]
        elif name == "insert":
            rows = first
        elif name in ("merge", "ignore"):
            kind, on_conflict = "upsert", "update" if name == "merge" else "nothing"
    if table is None or not any(name in ("insert", "batchInsert") for name, _a, _c in links):
        return
    table = builder_table(table, schema)
    columns = row_keys(ctx.ev, rows) if rows is not None else None
    ctx.add_write(
        top, table=table, columns=columns, origin="knex.insert", parser="builder", kind=kind, on_conflict=on_conflict
    )


def _schema_call(ctx: JsContext, call: Node) -> None:
    _callee, receiver, method, args = call_parts(call)
    if receiver is None or not args or "schema" not in ctx.text(receiver):
        return  # knex.schema.createTable / knex.schema.withSchema('s').createTable
    table = ctx.plain(args[0])
    if table is None:
        return
    schema = (
        next((ctx.plain(a[0]) for n, a, _c in chain(receiver) if n == "withSchema" and a), None)
        if receiver.type == "call_expression"
        else None
    )
    if schema and "." not in table:
        table = f"{schema}.{table}"
    line, _column = ctx.source.position(call.start_byte)
    if method.startswith("dropTable"):
        ctx.facts.append(SchemaFact(table=table, action="drop_table", relpath=ctx.relpath, line=line, origin="knex"))
        return
    builder = args[1] if len(args) > 1 else None
    columns, defaults, dropped = _columns(ctx, builder)
    if method.startswith("createTable"):
        action = "create_if_missing" if method == "createTableIfNotExists" else "create"
        ctx.facts.append(
            SchemaFact(
                table=table,
                action=action,
                columns=tuple(columns),
                defaults=tuple(defaults.items()),
                relpath=ctx.relpath,
                line=line,
                origin="knex",
                default_kinds=tuple((c, "database") for c in defaults),
            )
        )
        return
    if columns:
        ctx.facts.append(
            SchemaFact(
                table=table,
                action="add_column",
                columns=tuple(columns),
                defaults=tuple(defaults.items()),
                relpath=ctx.relpath,
                line=line,
                origin="knex",
            )
        )
    if dropped:
        ctx.facts.append(
            SchemaFact(
                table=table, action="drop_column", columns=tuple(dropped), relpath=ctx.relpath, line=line, origin="knex"
            )
        )


@dataclass
class _TableBody:
    """What a table-builder callback declares: columns, defaults and dropped columns, in order."""

    columns: list[str] = field(default_factory=list)
    defaults: dict[str, str] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)

    def read(self, ev: Evaluator, function: Node, position: int = 0, depth: int = 0) -> None:
        """Read ``function``'s body, where its parameter at ``position`` is the table builder. Helpers the
        builder is handed to (``addTimestamps(table, knex)``, here or imported) are read the same way."""
        param = _parameter(ev, function, position)
        body = function.child_by_field_name("body")
        if param is None or body is None or depth > 3:
            return
        for call in ev.source.nodes("call_expression", body):
            parent = call.parent
            if parent is not None and parent.type == "member_expression":
                continue  # only whole chains: t.timestamp('x').defaultTo(...) is read from its last call
            links = chain(call)
            if not links:
                continue
            _name, head_args, head_call = links[0]
            callee, receiver, _m, _a = call_parts(head_call)
            if receiver is not None and ev.source.text(receiver) == param:
                self._builder_call(ev, links)
            elif callee is not None and any(ev.source.text(a) == param for a in head_args):
                helper = ev.value_of(callee)
                index = next(i for i, a in enumerate(head_args) if ev.source.text(a) == param)
                if helper is not None and helper[1].type in _FUNCTIONS:
                    self.read(helper[0], helper[1], index, depth + 1)

    def _builder_call(self, ev: Evaluator, links: list[tuple[str, list[Node], Node]]) -> None:
        head_name, head_args, _call = links[0]
        if head_name == "timestamps" and len(head_args) >= 2 and ev.source.text(head_args[1]) == "true":
            for name in ("created_at", "updated_at"):
                self.columns.append(name)
                self.defaults[name] = "CURRENT_TIMESTAMP"
            return
        if head_name in ("dropColumn", "dropColumns"):
            self.dropped.extend(filter(None, (_plain(ev, a) for a in head_args)))
            return
        column = _plain(ev, head_args[0]) if head_name in COLUMN_TYPES and head_args else None
        if column is None:
            return
        self.columns.append(column)
        for link, args, _link_call in links[1:]:
            default = _default(ev, args[0]) if link == "defaultTo" and args else None
            if default is not None:
                self.defaults[column] = default


def _columns(ctx: JsContext, builder: Node | None) -> tuple[list[str], dict[str, str], list[str]]:
    """Columns, now()-like and other defaults, and dropped columns declared in a table-builder callback."""
    body = _TableBody()
    if builder is not None and builder.type in _FUNCTIONS:
        body.read(ctx.ev, builder)
    return list(dict.fromkeys(body.columns)), body.defaults, body.dropped


def _parameter(ev: Evaluator, function: Node, position: int) -> str | None:
    parameters = function.child_by_field_name("parameters") or function.child_by_field_name("parameter")
    if parameters is None:
        return None
    if parameters.type == "identifier":
        return ev.source.text(parameters) if position == 0 else None
    names = []
    for child in parameters.named_children:
        node = (
            child.child_by_field_name("pattern")
            if child.type in ("required_parameter", "optional_parameter")
            else child
        )
        names.append(ev.source.text(node) if node is not None and node.type == "identifier" else None)
    return names[position] if position < len(names) else None


def _plain(ev: Evaluator, node: Node) -> str | None:
    value = ev.string(node)
    return value.plain() if value is not None else None


def _default(ev: Evaluator, node: Node) -> str | None:
    """``knex.fn.now()`` -> ``now()``; ``knex.raw('CURRENT_TIMESTAMP')`` -> its SQL; literals as SQL literals."""
    text = ev.source.text(node)
    if node.type == "call_expression":
        _callee, _receiver, method, args = call_parts(node)
        if method == "now" and text.replace(" ", "").endswith("fn.now()"):
            return "now()"
        if method == "raw" and args:
            return _plain(ev, args[0])
        return None
    value = _plain(ev, node)
    if value is not None and node.type in ("string", "template_string"):
        return "'" + value.replace("'", "''") + "'"
    return text if node.type in ("number", "true", "false", "null") else None
