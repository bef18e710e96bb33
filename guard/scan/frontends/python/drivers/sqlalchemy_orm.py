"""SQLAlchemy ORM writes: instances handed to a session.

``session.add(Job(...))``, ``session.add_all([...])`` (lists, comprehensions, lists built by appends),
``session.merge(Job(...))`` and ``session.bulk_save_objects([...])`` write the instances constructed in the
same function (a ``Job(...)`` assigned to a name and added later counts, with the attributes assigned to it in
between); ``session.bulk_insert_mappings(Job, rows)`` writes dict rows. An instance that was loaded (a query
result, a parameter) and added back is an update, not an insert, and is not a write here.
"""

from __future__ import annotations

import ast

from guard.scan.frontends.python.drivers.base import Driver
from guard.scan.frontends.python.orm import Module, entity_key, handed_over, label_of, may_have_session
from guard.scan.frontends.python.rows import Body, RowKeys, merge_rows

FAMILY = "sqlalchemy"
ORIGIN = "sqlalchemy-orm"
#: What a Python file must contain for this driver to find anything in it.
#: The last three: a module importing the app's models may build an instance and hand it to a helper that adds it
#: (``repo.create(db, Job(...))``), a write with none of the session's calls in the file.
ANCHORS = (b"add(", b"add_all(", b"merge(", b"bulk_", b".create(", b"models.", b"models import", b"import models")
GATES = (b"session", b"sqlalchemy", b"sqlmodel", b"db.", b"models")
_ONE = frozenset({"add", "merge"})
_MANY = frozenset({"add_all", "bulk_save_objects"})


def session_writes(module: Module, body: Body, call: ast.Call) -> None:
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "create" and module.is_session_module():
        _class_create(module, body, call, func)
        return
    if not isinstance(func, ast.Attribute) or not call.args:
        return
    method = func.attr
    if method not in _ONE and method not in _MANY and method != "bulk_insert_mappings":
        return
    if not module.is_session(func.value):
        return
    if method == "bulk_insert_mappings":
        _mappings(module, body, call)
        return
    argument = call.args[0]
    found = module.instances(argument, body) if method in _ONE else module.sequence_instances(argument, body)
    receiver = module.source(func.value)
    for instance in found:
        label = f"{receiver}.{method}({module.source(instance.call.func)}(...))"
        module.emit(
            instance.call, row=instance.row, label=label, origin=ORIGIN, entity=entity_key(FAMILY, instance.path)
        )


def handed_over_writes(module: Module, body: Body, calls: list[ast.Call]) -> None:
    """Instances of a model constructed here and handed to a helper (``create_and_refresh(db, Task(...))``) or
    returned from a factory: the session call is elsewhere, the row is built here. Kept only when the catalog
    knows the class as a model (``WriteStatement.inferred``)."""
    if not module.is_session_module():
        return
    for call in calls:
        if module.written(call) or not isinstance(call.func, (ast.Name, ast.Attribute)):
            continue
        found = module.instances(call, body)
        if not found or not handed_over(module, body, call):
            continue
        [instance] = found
        if not instance.path:
            continue  # a model held in a variable and returned: nothing says it is ever added
        for attribute, value in _later_attributes(body, call):
            instance.row.add(attribute, value)
        label = f"{module.source(call.func)}(...) handed to the session elsewhere"
        module.emit(call, row=instance.row, label=label, origin=ORIGIN, entity=entity_key(FAMILY, instance.path),
                    inferred=True)


def _class_create(module: Module, body: Body, call: ast.Call, func: ast.Attribute) -> None:
    """``Job.create(status=...)``: a model's own create helper (Flask CRUD mixins, SQLModel helpers) builds and
    adds an instance with those fields. Kept only when the catalog knows ``Job`` as a model."""
    path = module.class_path(func.value)
    if path is None:
        return
    row = RowKeys()
    body.keywords_into(row, call.keywords)
    row.dynamic = row.dynamic or bool(call.args)
    module.emit(call, row=row, label=f"{module.source(func)}(...)", origin=ORIGIN, entity=entity_key(FAMILY, path),
                inferred=True)


def _later_attributes(body: Body, call: ast.Call) -> list[tuple[str, ast.expr]]:
    parent = body.parent(call)
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name):
        return body.attributes.get(parent.targets[0].id, [])
    return []


def _mappings(module: Module, body: Body, call: ast.Call) -> None:
    """``bulk_insert_mappings(Job, rows)`` always inserts: with a model that cannot be told here (a parameter of
    a helper) it is still a write, reported as one whose target is unknown (GRD004), never dropped."""
    if len(call.args) < 2:
        return
    path = module.class_path(call.args[0])
    row = merge_rows(body.dict_rows(call.args[1]))
    module.emit(
        call,
        row=row,
        label=label_of(module, call.func) + "(...)",
        origin=ORIGIN,
        entity=entity_key(FAMILY, path) if path is not None else None,
    )


DRIVER = Driver(
    name="sqlalchemy-orm",
    rows=session_writes,
    finish=handed_over_writes,
    row_anchors=ANCHORS,
    row_gates=GATES,
    row_confirm=may_have_session,  # every write above needs Module.is_session or is_session_module
)
