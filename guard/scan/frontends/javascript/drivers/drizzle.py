"""Drizzle ORM: table definitions (``pgTable``, ``pgSchema('s').table``) and ``db.insert(table).values(rows)``.

A table object names its SQL table and maps each property to a column: ``createdAt:
timestamp('created_at', { withTimezone: true }).defaultNow().notNull()``. The column is the builder's first
string argument, else the property name. ``defaultNow()`` and ``default(sql`now()`)`` are database defaults;
``$defaultFn(() => new Date())`` is filled by Drizzle itself (an ORM default: the database guard cannot see
it, the row arrives with a value). Each definition is a schema fact; each insert resolves its table object
(in the module or through relative imports) and maps the row keys to column names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from guard.model import SchemaFact
from guard.scan.frontends.javascript.context import JsContext, call_parts, chain, chain_tops
from guard.scan.frontends.javascript.evaluate import Evaluator
from guard.scan.frontends.javascript.module import object_entries
from guard.scan.frontends.javascript.rows import row_keys

if TYPE_CHECKING:
    from tree_sitter import Node

ANCHORS = (b"pgtable", b"pgschema", b".insert(")
_INSERT_METHODS = frozenset({"insert"})
_NOW_DEFAULT_FUNCTIONS = frozenset({"Date.now"})


@dataclass
class DrizzleTable:
    name: str
    relpath: str
    line: int
    key: str  # entity key: drizzle:<relpath>#<const name>
    columns: dict[str, str] = field(default_factory=dict)  # property -> column
    defaults: dict[str, str] = field(default_factory=dict)  # column -> SQL default
    default_kinds: dict[str, str] = field(default_factory=dict)

    def fact(self) -> SchemaFact:
        return SchemaFact(
            table=self.name,
            action="create",
            columns=tuple(self.columns.values()),
            defaults=tuple(self.defaults.items()),
            relpath=self.relpath,
            line=self.line,
            origin="drizzle",
            entity=self.key,
            attributes=tuple((p, c) for p, c in self.columns.items() if p != c),
            default_kinds=tuple(self.default_kinds.items()),
        )


def extract(ctx: JsContext) -> None:
    low = ctx.source.data.lower()
    if b"pgtable" in low or b"pgschema" in low:
        for call in ctx.source.nodes("call_expression"):
            table = read_table(ctx.ev, call)
            if table is not None:
                ctx.facts.append(table.fact())
    if b".insert(" in low:
        for _call, top in chain_tops(ctx.source, _INSERT_METHODS):
            _write(ctx, top)


def read_table(ev: Evaluator, call: Node) -> DrizzleTable | None:
    """The table a ``pgTable(...)``/``<pgSchema>.table(...)`` call defines; None for other calls."""
    _callee, receiver, name, args = call_parts(call)
    if len(args) < 2 or args[1].type != "object":
        return None
    schema: str | None = None
    if receiver is not None:
        if name != "table":
            return None
        schema = _schema_name(ev, receiver)
        if schema is None:
            return None
    elif name != "pgTable":
        return None
    table_name = ev.string(args[0])
    plain = table_name.plain() if table_name is not None else None
    if plain is None:
        return None
    line = ev.source.position(call.start_byte)[0]
    declarator = call.parent
    name_node = declarator.child_by_field_name("name") if declarator is not None else None
    const = ev.source.text(name_node) if name_node is not None else plain
    table = DrizzleTable(
        f"{schema}.{plain}" if schema else plain, ev.source.relpath, line, f"drizzle:{ev.source.relpath}#{const}"
    )
    for owner, prop, value in _column_entries(ev, args[1]):
        _read_column(owner, table, prop, value)
    return table


def _column_entries(ev: Evaluator, columns: Node, depth: int = 0) -> list[tuple[Evaluator, str, Node]]:
    """``(evaluator, property, column builder)`` of a columns object, with shared pieces resolved:
    ``...timestamps`` / ``...timestamps()`` spreads and ``createdAt`` shorthands naming a builder constant."""
    found: list[tuple[Evaluator, str, Node]] = []
    if depth > 4:
        return found
    for child in columns.named_children:
        if child.type == "spread_element" and child.named_child_count:
            spread = _object_of(ev, child.named_children[0])
            if spread is not None:
                found.extend(_column_entries(*spread, depth + 1))
    for prop, value in object_entries(ev.source, columns):
        if value.type in ("identifier", "shorthand_property_identifier", "member_expression"):
            resolved = ev.value_of(value)
            if resolved is not None:
                found.append((resolved[0], prop, resolved[1]))
                continue
        found.append((ev, prop, value))
    return found


def _object_of(ev: Evaluator, node: Node) -> tuple[Evaluator, Node] | None:
    """The object literal an expression spreads: a constant object, or what a no-argument helper returns."""
    found = ev.value_of(node)
    if found is None:
        return None
    owner, value = found
    if value.type == "call_expression":
        function = value.child_by_field_name("function")
        target = owner.value_of(function) if function is not None else None
        if target is None or target[1].type not in ("arrow_function", "function_expression", "function_declaration"):
            return None
        owner, body = target[0], target[1].child_by_field_name("body")
        while body is not None and body.type == "parenthesized_expression" and body.named_child_count:
            body = body.named_children[0]
        if body is not None and body.type == "statement_block":
            returns = [r for r in body.named_children if r.type == "return_statement" and r.named_child_count]
            body = returns[0].named_children[0] if len(returns) == 1 else None
        value = body  # type: ignore[assignment]
    return (owner, value) if value is not None and value.type == "object" else None


def _schema_name(ev: Evaluator, receiver: Node) -> str | None:
    found = ev.value_of(receiver)
    if found is None or found[1].type != "call_expression":
        return None
    evaluator, value = found
    _callee, _receiver, name, args = call_parts(value)
    if name != "pgSchema" or not args:
        return None
    schema = evaluator.string(args[0])
    return schema.plain() if schema is not None else None


def _read_column(ev: Evaluator, table: DrizzleTable, prop: str, value: Node) -> None:
    links = chain(value)
    if not links:
        return
    _type, head_args, _call = links[0]
    named = ev.string(head_args[0]) if head_args and head_args[0].type in ("string", "template_string") else None
    column = (named.plain() if named is not None else None) or prop
    table.columns[prop] = column
    for method, args, _link in links[1:]:
        if method == "defaultNow":
            table.defaults[column], table.default_kinds[column] = "now()", "database"
        elif method == "default" and args:
            sql = _default_sql(ev, args[0])
            if sql is not None:
                table.defaults[column], table.default_kinds[column] = sql, "database"
        elif method in ("$defaultFn", "$default") and args and _returns_now(ev, args[0]):
            table.defaults[column], table.default_kinds[column] = "now()", "orm"


def _default_sql(ev: Evaluator, node: Node) -> str | None:
    """``sql`now()``` -> ``now()``; a literal -> its SQL literal; anything else unknown."""
    if node.type == "call_expression":
        arguments = node.child_by_field_name("arguments")
        if arguments is not None and arguments.type == "template_string":
            return ev.template(arguments).plain()
        return None
    value = ev.string(node)
    plain = value.plain() if value is not None else None
    if plain is None:
        return None
    return plain if node.type == "number" else "'" + plain.replace("'", "''") + "'"


def _returns_now(ev: Evaluator, function: Node) -> bool:
    """``() => new Date()`` or ``() => Date.now()``: the ORM stamps the insert time."""
    body = function.child_by_field_name("body")
    if body is None:
        return False
    if body.type == "statement_block":
        returns = [c for c in body.named_children if c.type == "return_statement" and c.named_child_count]
        if len(returns) != 1:
            return False
        body = returns[0].named_children[0]
    if body.type == "new_expression":
        constructor = body.child_by_field_name("constructor")
        arguments = body.child_by_field_name("arguments")
        is_date = constructor is not None and ev.source.text(constructor) == "Date"
        return is_date and (arguments is None or arguments.named_child_count == 0)
    if body.type == "call_expression":
        function_node = body.child_by_field_name("function")
        return function_node is not None and ev.source.text(function_node) in _NOW_DEFAULT_FUNCTIONS
    return False


def _write(ctx: JsContext, top: Node) -> None:
    links = chain(top)
    target: Node | None = None
    rows: Node | None = None
    kind, on_conflict = "insert", None
    for method, args, _call in links:
        if method == "insert" and len(args) == 1 and args[0].type in ("identifier", "member_expression"):
            target = args[0]
        elif method == "values" and args:
            rows = args[0]
        elif method == "onConflictDoNothing":
            kind, on_conflict = "upsert", "nothing"
        elif method == "onConflictDoUpdate":
            kind, on_conflict = "upsert", "update"
    if target is None or rows is None:
        return
    found = ctx.ev.value_of(target)
    table = read_table(*found) if found is not None and found[1].type == "call_expression" else None
    if table is None:  # the table object is defined where guard cannot read it: review, do not drop
        ctx.add_write(
            top,
            table=None,
            columns=None,
            origin="drizzle.insert",
            parser="orm",
            kind=kind,
            on_conflict=on_conflict,
            entity=f"drizzle:?{ctx.text(target)}",
        )
        return
    keys = row_keys(ctx.ev, rows)
    columns = tuple(table.columns.get(key, key) for key in keys) if keys is not None else None
    ctx.add_write(
        top,
        table=table.name,
        columns=columns,
        origin="drizzle.insert",
        parser="orm",
        kind=kind,
        on_conflict=on_conflict,
        entity=table.key,
    )
