"""TypeORM: ``@Entity`` classes (the catalog) and repository / entity-manager writes.

Entities: ``@Entity('jobs', { schema: 'titan' })`` or ``@Entity({ name, schema })``, else the class name in
snake_case (TypeORM's default naming strategy). Columns are properties decorated with ``@Column``,
``@PrimaryColumn``, ``@PrimaryGeneratedColumn``, ``@CreateDateColumn``, ``@UpdateDateColumn``,
``@DeleteDateColumn``, ``@VersionColumn`` (name from the options' ``name``, else the property) and
``@JoinColumn({ name })``. ``@CreateDateColumn``/``@UpdateDateColumn`` get ``DEFAULT now()`` in the database,
as does ``@Column({ default: () => 'now()' })``.

Writes, where a static reading can decide the entity: ``dataSource.getRepository(Job).insert(rows)`` /
``.save(rows)``, ``manager.insert(Job, rows)`` / ``manager.save(Job, rows)``, a repository held in a variable
or a property typed ``Repository<Job>`` (``@InjectRepository(Job)``), and
``createQueryBuilder().insert().into(Job).values(rows)``. ``save`` may update instead of insert, so it is
reported as an upsert. Rows built by ``repo.create({...})`` count as their object; anything else unknown is
a dynamic write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from guard.model import SchemaFact
from guard.naming import snake_case
from guard.scan.frontends.javascript.context import JsContext, call_parts, chain, chain_tops
from guard.scan.frontends.javascript.evaluate import Evaluator
from guard.scan.frontends.javascript.module import object_entries
from guard.scan.frontends.javascript.rows import object_literal, row_keys

if TYPE_CHECKING:
    from tree_sitter import Node

ANCHORS = (b"@entity", b"getrepository", b"repository<", b"injectrepository", b".save(", b"createquerybuilder")
_WRITE_METHODS = frozenset({"insert", "save"})
_MEMBERS = ("public_field_definition", "required_parameter", "optional_parameter")
_COLUMN_DECORATORS = frozenset(
    {"Column", "PrimaryColumn", "PrimaryGeneratedColumn", "CreateDateColumn", "UpdateDateColumn",
     "DeleteDateColumn", "VersionColumn", "JoinColumn"}
)  # fmt: skip
_NOW_COLUMNS = frozenset({"CreateDateColumn", "UpdateDateColumn"})


@dataclass
class Entity:
    table: str
    key: str
    relpath: str
    line: int
    columns: dict[str, str] = field(default_factory=dict)  # property -> column
    defaults: dict[str, str] = field(default_factory=dict)

    def fact(self) -> SchemaFact:
        return SchemaFact(
            table=self.table,
            action="create",
            columns=tuple(dict.fromkeys(self.columns.values())),
            defaults=tuple(self.defaults.items()),
            relpath=self.relpath,
            line=self.line,
            origin="typeorm",
            entity=self.key,
            attributes=tuple((p, c) for p, c in self.columns.items() if p != c),
            default_kinds=tuple((c, "database") for c in self.defaults),
        )


def extract(ctx: JsContext) -> None:
    low = ctx.source.data.lower()
    if b"@entity" in low:
        for node in ctx.source.nodes("class_declaration"):
            entity = read_entity(ctx.ev, node)
            if entity is not None:
                ctx.facts.append(entity.fact())
    for call, top in chain_tops(ctx.source, _WRITE_METHODS):
        _write(ctx, call, top)



def _decorators(node: Node) -> list[tuple[str, list[Node]]]:
    """``(name, arguments)`` of the decorators on a class (also those written before ``export``) or member."""
    holders = [node]
    if node.parent is not None and node.parent.type == "export_statement":
        holders.append(node.parent)
    found = []
    for holder in holders:
        for child in holder.children:
            if child.type != "decorator" or not child.named_child_count:
                continue
            expression = child.named_children[0]
            if expression.type == "call_expression":
                _callee, _receiver, name, args = call_parts(expression)
                found.append((name, args))
            elif expression.text is not None:
                found.append((expression.text.decode("utf-8", "replace"), []))
    return found


def read_entity(ev: Evaluator, node: Node) -> Entity | None:
    if node.type != "class_declaration":
        return None
    decorators = dict(_decorators(node))
    if "Entity" not in decorators:
        return None
    name_node = node.child_by_field_name("name")
    class_name = ev.source.text(name_node) if name_node is not None else "entity"
    table, schema = snake_case(class_name), None
    for arg in decorators["Entity"]:
        text = ev.string(arg)
        if text is not None and text.plain() is not None:
            table = text.plain() or table
        elif arg.type == "object":
            options = dict(object_entries(ev.source, arg))
            table = _plain(ev, options.get("name")) or table
            schema = _plain(ev, options.get("schema")) or schema
    line = ev.source.position(node.start_byte)[0]
    entity = Entity(
        f"{schema}.{table}" if schema else table, f"typeorm:{ev.source.relpath}#{class_name}", ev.source.relpath, line
    )
    body = node.child_by_field_name("body")
    for member in body.named_children if body is not None else []:
        _member(ev, entity, member)
    return entity


def _member(ev: Evaluator, entity: Entity, member: Node) -> None:
    if member.type not in ("public_field_definition", "field_definition"):
        return
    prop_node = member.child_by_field_name("name") or member.child_by_field_name("property")
    if prop_node is None:
        return
    prop = ev.source.text(prop_node)
    for decorator, args in _decorators(member):
        if decorator not in _COLUMN_DECORATORS:
            continue
        options = {}
        for arg in args:
            if arg.type == "object":
                options.update(dict(object_entries(ev.source, arg)))
        column = _plain(ev, options.get("name"))
        if decorator == "JoinColumn" and column is None:
            continue
        column = column or prop
        entity.columns[prop] = column
        if decorator in _NOW_COLUMNS:
            entity.defaults[column] = "now()"
        default = options.get("default")
        if default is not None and default.type in ("arrow_function", "function_expression"):
            body = default.child_by_field_name("body")
            sql = _plain(ev, body) if body is not None and body.type != "statement_block" else None
            if sql is not None:
                entity.defaults[column] = sql


def _plain(ev: Evaluator, node: Node | None) -> str | None:
    value = ev.string(node) if node is not None else None
    return value.plain() if value is not None else None


def _write(ctx: JsContext, call: Node, top: Node) -> None:
    _callee, receiver, method, args = call_parts(call)
    if receiver is None:
        return
    links = chain(top)
    into = next((a[0] for name, a, _c in links if name == "into" and a), None)
    if method == "insert" and into is not None:  # createQueryBuilder().insert().into(Job).values(rows)
        rows = next((a[0] for name, a, _c in links if name == "values" and a), None)
        _report(ctx, top, into, rows, "typeorm.insert", "insert")
        return
    if not args:
        return
    kind = "upsert" if method == "save" else "insert"
    target = _repository_entity(ctx, receiver)
    if target is not None:
        _report(ctx, call, target, args[0], f"typeorm.{method}", kind)
    elif len(args) >= 2 and _is_manager(ctx, receiver):  # manager.insert(Job, rows)
        _report(ctx, call, args[0], args[1], f"typeorm.{method}", kind)


def _is_manager(ctx: JsContext, receiver: Node) -> bool:
    text = ctx.text(receiver)
    return text.endswith(("manager", "Manager")) or text.endswith(".manager")


def _repository_entity(ctx: JsContext, receiver: Node) -> Node | None:
    """The entity class node a repository expression is for: ``ds.getRepository(Job)``, a variable holding
    one, or ``this.repo`` declared as ``Repository<Job>``."""
    node = receiver
    if node.type == "identifier":
        found = ctx.ev.value_of(node)
        if found is None or found[0] is not ctx.ev:
            return None
        node = found[1]
    if node.type == "call_expression":
        _callee, _receiver, name, args = call_parts(node)
        return args[0] if name == "getRepository" and args else None
    if node.type == "member_expression" and ctx.text(node.child_by_field_name("object")) == "this":
        prop = ctx.text(node.child_by_field_name("property"))
        return _typed_repository(ctx, node, prop)
    return None


def _typed_repository(ctx: JsContext, at: Node, prop: str) -> Node | None:
    """``Repository<Job>`` (or ``@InjectRepository(Job)``) on a class field or constructor parameter ``prop``."""
    klass = at.parent
    while klass is not None and klass.type not in ("class_declaration", "class"):
        klass = klass.parent
    if klass is None:
        return None
    members = [m for kind in _MEMBERS for m in ctx.source.nodes(kind, klass)]
    for member in members:
        name_node = member.child_by_field_name("name") or member.child_by_field_name("pattern")
        if name_node is None or ctx.text(name_node) != prop:
            continue
        for decorator, args in _decorators(member):
            if decorator == "InjectRepository" and args:
                return args[0]
        annotation = member.child_by_field_name("type")
        generic = annotation.named_children[0] if annotation is not None and annotation.named_child_count else None
        if generic is not None and generic.type == "generic_type":
            name = generic.child_by_field_name("name")
            arguments = generic.child_by_field_name("type_arguments")
            if (
                name is not None
                and ctx.text(name) == "Repository"
                and arguments is not None
                and arguments.named_child_count
            ):
                return arguments.named_children[0]
    return None


def _report(ctx: JsContext, node: Node, entity_node: Node, rows: Node | None, origin: str, kind: str) -> None:
    entity = _entity(ctx, entity_node)
    on_conflict = "update" if kind == "upsert" else None
    if entity is None:  # an entity guard cannot read: reviewed as dynamic, never dropped
        ctx.add_write(
            node,
            table=None,
            columns=None,
            origin=origin,
            parser="orm",
            kind=kind,
            on_conflict=on_conflict,
            entity=f"typeorm:?{ctx.text(entity_node)}",
        )
        return
    keys = _row_keys(ctx, rows)
    columns = tuple(entity.columns.get(key, key) for key in keys) if keys is not None else None
    ctx.add_write(
        node,
        table=entity.table,
        columns=columns,
        origin=origin,
        parser="orm",
        kind=kind,
        on_conflict=on_conflict,
        entity=entity.key,
    )


def _row_keys(ctx: JsContext, rows: Node | None) -> tuple[str, ...] | None:
    if rows is None:
        return None
    found = ctx.ev.value_of(rows)
    if found is not None and found[0] is ctx.ev and found[1].type == "call_expression":
        _callee, _receiver, name, args = call_parts(found[1])
        if name == "create" and args:  # repo.create({ ... })
            return row_keys(ctx.ev, args[0])
    if object_literal(ctx.ev, rows) is None and found is not None and found[1].type == "new_expression":
        return None
    return row_keys(ctx.ev, rows)


def _entity(ctx: JsContext, node: Node) -> Entity | None:
    found = ctx.ev.value_of(node)
    return read_entity(*found) if found is not None else None
