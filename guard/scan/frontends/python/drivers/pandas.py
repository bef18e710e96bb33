"""pandas ``DataFrame.to_sql(name, con, schema=...)``: a write whose columns are the frame's.

The columns are usually unknown statically, so the write is reported for review under the dynamic-write rule
with the table when its name is static; a name built at run time is kept as an unknown table, never dropped.
A frame built right there from a dict literal or with ``columns=[...]`` gives its columns.
"""

from __future__ import annotations

import ast

from guard.model import HOLE_PREFIX
from guard.scan.frontends.python.drivers.base import Driver
from guard.scan.frontends.python.names import constant_str, keyword
from guard.scan.frontends.python.orm import Module
from guard.scan.frontends.python.rows import Body, RowKeys

ORIGIN = "pandas"
ANCHORS = (b"to_sql",)


def to_sql_writes(module: Module, body: Body, call: ast.Call) -> None:
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "to_sql"):
        return
    name_node = call.args[0] if call.args else keyword(call, "name")
    schema_node = call.args[2] if len(call.args) > 2 else keyword(call, "schema")
    name = _string(name_node, body, module)
    schema = _string(schema_node, body, module) if schema_node is not None else None
    if name is None:
        table = f"{HOLE_PREFIX}table"
    else:
        table = ".".join(_quoted(part) for part in ([schema, name] if schema else [name]))
    row = _frame_columns(func.value, body)
    shown = module.source(name_node) if name_node is not None else "?"
    module.emit(call, row=row, label=f"{module.source(func.value)}.to_sql({shown})", origin=ORIGIN,
                parser="builder", table=table)


DRIVER = Driver(name="pandas", rows=to_sql_writes, row_anchors=ANCHORS, row_gates=ANCHORS)


def _quoted(name: str) -> str:
    """pandas passes the name to SQLAlchemy, which quotes it when needed: keep it exactly as written."""
    return name if name == name.lower() and name.isidentifier() else '"' + name.replace('"', '""') + '"'


def _string(node: ast.expr | None, body: Body, module: Module) -> str | None:
    text = constant_str(node)
    if text is not None or not isinstance(node, ast.Name):
        return text
    value = body.only_value(node.id) or module.names.assignments.get(node.id)
    return constant_str(value)


def _frame_columns(frame: ast.expr, body: Body) -> RowKeys:
    """Columns of a frame built in this body with ``columns=[...]`` or from a dict literal, plus the columns
    assigned to it afterwards (``df["created_at"] = ...``); unknown otherwise."""
    if not isinstance(frame, ast.Name) or frame.id in body.opaque:
        return RowKeys(dynamic=True)
    value = body.only_value(frame.id)
    row = RowKeys(dynamic=True)
    if isinstance(value, ast.Call):
        columns = keyword(value, "columns")
        first = value.args[0] if value.args else keyword(value, "data")
        if isinstance(columns, (ast.List, ast.Tuple)):
            names = [constant_str(e) for e in columns.elts]
            if all(n is not None for n in names):
                row = RowKeys(keys=[n for n in names if n is not None])
        elif isinstance(first, ast.Dict) and all(constant_str(k) for k in first.keys):
            row = RowKeys(keys=[k for k in (constant_str(k) for k in first.keys) if k])
    for key, item in body.keys.get(frame.id, []):
        row.add(key, item)
    return row
