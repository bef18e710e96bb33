"""Django ORM writes: manager calls and ``save()`` on a new instance.

``Order.objects.create(**fields)``, ``bulk_create([Order(...), ...])``, ``get_or_create(defaults=..., **lookup)``
and ``update_or_create(defaults=..., create_defaults=..., **lookup)`` (the row created sets the lookup and the
defaults), and ``Order(...).save()`` or ``order = Order(...); ...; order.save()`` on an instance constructed in
the same function. ``save()`` on a loaded instance is an update and is not a write here.
"""

from __future__ import annotations

import ast

from guard.scan.frontends.python.drivers.base import Driver
from guard.scan.frontends.python.models import FORM_SUFFIXES
from guard.scan.frontends.python.orm import Module, entity_key, label_of
from guard.scan.frontends.python.rows import Body, FieldsOf, RowKeys

FAMILY = "django"
ORIGIN = "django"
ANCHORS = (b".objects.", b".save(")
GATES = (b"models", b"django")  # the app's models module, or Django itself
_CREATE = frozenset({"create", "get_or_create", "update_or_create"})
_DEFAULTS = ("defaults", "create_defaults")
#: Manager methods that route to another database and return the manager.
_ROUTING = frozenset({"using", "db_manager"})


def manager_writes(module: Module, body: Body, call: ast.Call) -> None:
    func = call.func
    if not isinstance(func, ast.Attribute):
        return
    if func.attr == "save" and not call.args:
        _save(module, body, call, func.value)
        return
    if func.attr not in _CREATE and func.attr != "bulk_create":
        return
    manager = func.value
    if isinstance(manager, ast.Call) and isinstance(manager.func, ast.Attribute) and manager.func.attr in _ROUTING:
        manager = manager.func.value  # Order.objects.using("replica").create(...)
    if not isinstance(manager, ast.Attribute) or not manager.attr.islower():
        return
    # a custom manager (``Order.active.create``) is a write only if the catalog knows ``Order`` as a model
    inferred = manager.attr != "objects"
    path = module.class_path(manager.value)
    if inferred and path is None:
        return
    entity = entity_key(FAMILY, path) if path else None
    table = None if path else "guard_hole_model"  # a model chosen at run time: reviewed as dynamic
    if func.attr == "bulk_create":
        if not call.args:
            return
        for instance in module.sequence_instances(call.args[0], body):
            label = f"{module.source(func)}([{module.source(instance.call.func)}(...)])"
            module.emit(instance.call, row=instance.row, label=label, origin=ORIGIN,
                        entity=entity_key(FAMILY, instance.path), inferred=inferred)
        return
    row = RowKeys()
    body.keywords_into(row, [k for k in call.keywords if k.arg not in _DEFAULTS])
    for name in _DEFAULTS:
        defaults = next((k.value for k in call.keywords if k.arg == name), None)
        if defaults is not None:
            extra = body.dict_row(defaults)
            for key in extra.keys:
                row.add(key, extra.values.get(key))
            row.dynamic = row.dynamic or extra.dynamic
    row.dynamic = row.dynamic or bool(call.args)
    module.emit(
        call, row=row, label=label_of(module, func) + "(...)", origin=ORIGIN, entity=entity, table=table,
        inferred=inferred,
    )


DRIVER = Driver(name="django", rows=manager_writes, row_anchors=ANCHORS, row_gates=GATES)


def _save(module: Module, body: Body, call: ast.Call, receiver: ast.expr) -> None:
    """``Model(...).save()``: only in modules that import Django (``save()`` is a common method name). A
    ModelForm / ModelSerializer built here (``PostForm(request.POST)``, ``PostSerializer(data=...)``) saves a new
    row of its ``Meta.model`` with the fields its ``Meta.fields`` names, unless it was built on an existing
    object (``instance=post``, ``PostSerializer(post, data=...)``): that save is an update."""
    if not module.names.imports_from("django") and not _imports_models(module):
        return
    for instance in module.instances(receiver, body):
        if instance.path.rsplit(".", 1)[-1].endswith(FORM_SUFFIXES):
            if _updates(instance.call):
                continue
            instance.row = RowKeys(sources=[FieldsOf(f"{instance.path}.save", partial=True)])
        label = f"{module.source(instance.call.func)}(...).save()"
        module.emit(instance.call, row=instance.row, label=label, origin=ORIGIN,
                    entity=entity_key(FAMILY, instance.path))


def _updates(call: ast.Call) -> bool:
    keywords = {k.arg for k in call.keywords}
    return "instance" in keywords or ("data" in keywords and bool(call.args))


def _imports_models(module: Module) -> bool:
    """A module of a Django app that imports its models (``from .models import Order``)."""
    return any(".models." in f".{origin}" for origin in module.names.imports.values())
