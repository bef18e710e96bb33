"""SQLAlchemy Core writes: ``insert(...)`` statements and ``Table.insert()``.

The statement is ``insert(X)`` with ``insert`` imported from SQLAlchemy (``sqlalchemy``, ``sqlalchemy.sql``,
the PostgreSQL/SQLite/MySQL dialects' upsert-capable ``insert``, SQLModel) - a local function called ``insert``
is not one - or ``X.insert()`` on a ``Table``. ``X`` is a declarative model, ``Model.__table__``, a ``Table``
object (local or imported), ``metadata.tables["name"]`` or ``table("name", ...)``.

The rows come from the method chain and from where the statement is run: ``.values(a=1)``, ``.values({...})``,
``.values([{...}, ...])``, ``.from_select(["a", ...], select)``, or ``conn.execute(stmt, rows)`` /
``session.execute(insert(Job), [...])``, following a statement assigned to a name and extended
(``stmt = stmt.on_conflict_do_nothing()``), and Alembic's ``op.bulk_insert(table, rows)``.
``on_conflict_do_nothing``/``on_conflict_do_update`` make it an upsert; ``.returning(...)`` changes nothing.
A statement whose rows guard cannot see is a dynamic write.
"""

from __future__ import annotations

import ast

from guard.model import HOLE_PREFIX
from guard.scan.frontends.python.drivers.base import Driver
from guard.scan.frontends.python.names import constant_str
from guard.scan.frontends.python.orm import Module, entity_key
from guard.scan.frontends.python.rows import Body, RowKeys, merge_rows

FAMILY = "sqlalchemy"
ORIGIN = "sqlalchemy-core"
ANCHORS = (b"insert(", b"bulk_")
GATES = (b"sqlalchemy", b"sqlmodel", b"models", b"alembic")  # models: ``Job.__table__.insert()``
INSERT_FUNCTIONS = frozenset(
    {
        "sqlalchemy.insert",
        "sqlalchemy.sql.insert",
        "sqlalchemy.sql.expression.insert",
        "sqlalchemy.sql.dml.insert",
        "sqlalchemy.future.insert",
        "sqlalchemy.dialects.postgresql.insert",
        "sqlalchemy.dialects.postgresql.dml.insert",
        "sqlalchemy.dialects.sqlite.insert",
        "sqlalchemy.dialects.sqlite.dml.insert",
        "sqlalchemy.dialects.mysql.insert",
        "sqlalchemy.dialects.mysql.dml.insert",
        "sqlmodel.insert",
    }
)
#: Methods of an insert statement that return the statement (the chain goes on through them).
_CHAIN = frozenset(
    {
        "values", "returning", "on_conflict_do_nothing", "on_conflict_do_update", "on_duplicate_key_update",
        "prefix_with", "inline", "return_defaults", "execution_options", "with_dialect_options", "from_select",
        "with_hint", "add_cte", "post_values_clause",
    }
)
_RUN = frozenset({"execute", "exec", "execute_async", "run_sync"})
_PARAM_KEYWORDS = ("parameters", "params")


class _Statement:
    def __init__(self) -> None:
        self.rows: list[RowKeys] = []
        self.seen_rows = False
        self.from_values = False
        self.executed_bare = False
        self.on_conflict: str | None = None
        self.select = False
        self.end: ast.AST | None = None


def core_writes(module: Module, body: Body, call: ast.Call) -> None:
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "bulk_insert" and len(call.args) >= 2:
        _bulk_insert(module, body, call)
        return
    target: ast.expr | None = None
    if isinstance(func, ast.Attribute) and func.attr == "insert" and not call.args and not call.keywords:
        if _is_table(module, body, func.value):
            target = func.value
    elif call.args and (module.names.canonical(func) or "") in INSERT_FUNCTIONS:
        target = call.args[0]
    if target is None:
        return
    entity, table = _target(module, body, target)
    statement = _Statement()
    _follow(module, body, call, statement, 0)
    if statement.seen_rows:
        row = merge_rows(statement.rows)
    elif statement.executed_bare:
        row = RowKeys()  # every column left to its default
    else:
        row = RowKeys(dynamic=True)  # built here, run elsewhere
    kind = "insert-select" if statement.select else ("upsert" if statement.on_conflict else "insert")
    label = f"{module.source(call.func)}({module.source(target)})" if call.args else module.source(call)
    if statement.from_values:
        label += ".values(...)"
    elif statement.seen_rows and not statement.select:
        label += " run with rows"
    module.emit(
        call,
        row=row,
        label=label,
        origin=ORIGIN,
        parser="builder",
        entity=entity,
        table=table,
        kind=kind,
        on_conflict=statement.on_conflict,
        end=statement.end,
    )


DRIVER = Driver(name="sqlalchemy-core", rows=core_writes, row_anchors=ANCHORS, row_gates=GATES)


def _bulk_insert(module: Module, body: Body, call: ast.Call) -> None:
    """Alembic ``op.bulk_insert(table, rows)`` (data migrations): a Core insert of dict rows."""
    receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
    if not (isinstance(receiver, ast.Name) and receiver.id in ("op", "batch_op")):
        return
    entity, table = _target(module, body, call.args[0])
    row = merge_rows(body.dict_rows(call.args[1]))
    label = f"op.bulk_insert({module.source(call.args[0])}, ...)"
    module.emit(call, row=row, label=label, origin=ORIGIN, parser="builder", entity=entity, table=table)


def _target(module: Module, body: Body, node: ast.expr) -> tuple[str | None, str | None]:
    """(entity key, table name) of what the statement inserts into."""
    if isinstance(node, ast.Attribute) and node.attr == "__table__":
        node = node.value
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "tables":
        name = constant_str(node.slice)  # metadata.tables["jobs"]
        return None, name if name else f"{HOLE_PREFIX}table"
    if isinstance(node, ast.Call) and (module.names.canonical(node.func) or "").endswith(("table", "Table")):
        name = constant_str(node.args[0]) if node.args else None  # table("jobs", column("a")) / Table(...)
        schema = next((constant_str(k.value) for k in node.keywords if k.arg == "schema"), None)
        if name:
            return None, f"{schema}.{name}" if schema else name
    if isinstance(node, ast.Name) and node.id in body.assigned and not isinstance(body.node, ast.Module):
        value = body.only_value(node.id)  # a local: jobs = Table(...), model = Job
        if value is not None and value is not node:
            return _target(module, body, value)
        return None, f"{HOLE_PREFIX}table"
    path = module.names.canonical(node)
    if path is None:
        return None, f"{HOLE_PREFIX}table"
    return entity_key(FAMILY, path), None


def _is_table(module: Module, body: Body, node: ast.expr) -> bool:
    """``X.insert()`` is a Core insert when ``X`` is ``Model.__table__``, a ``Table(...)`` built here or at module
    level, ``metadata.tables[...]``, or a table imported from the tree in a module that imports SQLAlchemy."""
    if isinstance(node, ast.Attribute) and node.attr == "__table__":
        return True
    if isinstance(node, ast.Subscript):
        return isinstance(node.value, ast.Attribute) and node.value.attr == "tables"
    if not isinstance(node, ast.Name):
        return False
    value = body.only_value(node.id) or module.names.assignments.get(node.id)
    if isinstance(value, ast.Call):
        return (module.names.canonical(value.func) or "").rsplit(".", 1)[-1] in ("Table", "table")
    return module.names.canonical(node) is not None and module.names.imports_from("sqlalchemy", "sqlmodel")


def _follow(module: Module, body: Body, node: ast.expr, statement: _Statement, depth: int) -> None:
    """Walk up from the statement through its method chain, then to the call that runs it or the name it is
    assigned to (and from there to the statements that use the name)."""
    current: ast.expr = node
    while True:
        parent = body.parent(current)
        if isinstance(parent, ast.Attribute) and parent.attr in _CHAIN:
            call = body.parent(parent)
            if not isinstance(call, ast.Call) or call.func is not parent:
                return
            _method(body, parent.attr, call, statement)
            current = call
            statement.end = call
            continue
        if isinstance(parent, ast.Call) and current in parent.args and parent.args[0] is current:
            _run(body, parent, statement)
            return
        if isinstance(parent, ast.Await):
            current = parent
            continue
        if isinstance(parent, (ast.Assign, ast.AnnAssign)) and isinstance(_single_target(parent), ast.Name):
            if depth < 4:
                _uses(module, body, _single_target(parent).id, parent, statement, depth)  # type: ignore[union-attr]
            return
        return


def _single_target(node: ast.Assign | ast.AnnAssign) -> ast.expr | None:
    if isinstance(node, ast.AnnAssign):
        return node.target
    return node.targets[0] if len(node.targets) == 1 else None


def _uses(module: Module, body: Body, name: str, assignment: ast.AST, statement: _Statement, depth: int) -> None:
    for node in body.walk():
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
            _follow(module, body, node, statement, depth + 1)


def _method(body: Body, method: str, call: ast.Call, statement: _Statement) -> None:
    if method == "values":
        statement.seen_rows = statement.from_values = True
        if call.keywords and not call.args:
            row = RowKeys()
            body.keywords_into(row, call.keywords)
            statement.rows.append(row)
        elif call.args:
            statement.rows.extend(body.dict_rows(call.args[0]))
        else:
            statement.rows.append(RowKeys(dynamic=True))
    elif method == "from_select" and call.args:
        statement.seen_rows = statement.select = True
        names = call.args[0]
        elements = names.elts if isinstance(names, (ast.List, ast.Tuple)) else None
        keys = [constant_str(e) or (e.attr if isinstance(e, ast.Attribute) else None) for e in elements or []]
        if elements is None or any(k is None for k in keys):
            statement.rows.append(RowKeys(dynamic=True))
        else:
            statement.rows.append(RowKeys(keys=[k for k in keys if k]))
    elif method.startswith("on_conflict_do_") or method == "on_duplicate_key_update":
        statement.on_conflict = "nothing" if method.endswith("nothing") else "update"


def _run(body: Body, call: ast.Call, statement: _Statement) -> None:
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr in _RUN):
        return
    statement.end = call
    keywords = (k.value for k in call.keywords if k.arg in _PARAM_KEYWORDS)
    rows = call.args[1] if len(call.args) > 1 else next(keywords, None)
    if rows is None:
        statement.executed_bare = True
        return
    statement.seen_rows = True
    statement.rows.extend(body.dict_rows(rows))
