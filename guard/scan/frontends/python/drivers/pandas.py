"""pandas: ``df.to_sql("jobs", con, schema="titan")`` writes rows with no SQL in the source. It is an INSERT whose
columns are the DataFrame's, unknown here: they become holes, so the write is reviewed rather than guessed."""

from __future__ import annotations

from guard.scan.frontends.python.drivers.base import (
    Anchor,
    CallSite,
    Driver,
    ExpressionReader,
    argument,
    method_position,
    quote_ident,
    synthesized,
)
from guard.scan.frontends.python.strings import Fragment, hole, pinned


def _to_sql(ev: ExpressionReader, call: CallSite) -> Fragment | None:
    """``to_sql(name, con, schema=None, ...)``; SQLAlchemy quotes the names."""
    resolve = ev.resolver(call.scope)
    table_node = argument(call.node, 0, "name")
    table = resolve(table_node) if table_node is not None else None
    if table is None:
        return None
    schema_node = argument(call.node, 2, "schema")
    schema = resolve(schema_node) if schema_node is not None else None
    target = ".".join(quote_ident(name, True) for name in ([schema, table] if schema else [table]))
    where = method_position(ev, call)
    pieces = [pinned(f"INSERT INTO {target} (", where), hole(where), pinned(") VALUES (", where), hole(where)]
    pieces.append(pinned(")", where))
    return synthesized(pieces, call.last)


DRIVER = Driver(
    name="pandas",
    anchors=(Anchor(b"to_sql", rb"to_sql\s*\("),),
    writes=frozenset({"to_sql"}),
    write=_to_sql,
)
