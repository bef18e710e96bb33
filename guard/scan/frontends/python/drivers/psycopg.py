"""psycopg (3, and psycopg2's ``sql`` module): statements composed from ``sql.SQL``/``Identifier``/``Placeholder``/
``Literal``/``Composed`` objects become the text they render, and ``with cur.copy("COPY ... FROM STDIN") as copy:
copy.write_row(row)`` streams rows the patcher can extend."""

from __future__ import annotations

from guard.scan.frontends.python.calls import literal_str, scalar_text
from guard.scan.frontends.python.drivers.base import CallSite, Driver, ExpressionReader
from guard.scan.frontends.python.format import join_items
from guard.scan.frontends.python.strings import Fragment, hole, pinned

_COMPOSABLES = frozenset({"SQL", "Identifier", "Placeholder", "Literal", "Composed"})


def is_psycopg_sql(call: CallSite) -> bool:
    """``sql.X`` (``from psycopg import sql``) or ``psycopg[2].sql.X``."""
    modules = call.canonical.split(".")[:-1]
    return bool(modules) and modules[-1] == "sql" and (len(modules) == 1 or modules[0] in ("psycopg", "psycopg2"))


def composable(ev: ExpressionReader, call: CallSite) -> list[Fragment] | None:
    node, kind, scope = call.node, call.last, call.scope
    pos = ev.at(node)
    if kind == "SQL":
        if not node.args:
            return None
        fragments = ev.value(node.args[0], scope, "sql.SQL")
        ev.visit_arguments(node, scope, "sql.SQL", skip_first=True)
        return [f.with_context("sql.SQL") for f in fragments] if fragments else [hole(pos)]
    if kind == "Composed":
        items = ev.iterable(node.args[0], scope, "sql.SQL") if node.args else None
        choices = items if items is not None else [[None]]
        return ev.format_combos([pinned("", pos)], choices, join_items(items is None))
    if kind == "Placeholder":
        name = literal_str(node.args[0]) if node.args else None
        if node.args and name is None:
            return [hole(pos)]
        return [pinned(f"%({name})s" if name else "%s", pos, "literal")]
    names = [ev.single(argument, scope) for argument in node.args]
    if kind == "Identifier" and names and all(n is not None for n in names):
        quoted = ".".join('"' + n.replace('"', '""') + '"' for n in names)  # type: ignore[union-attr]
        return [pinned(quoted, pos, "literal")]
    if kind == "Literal" and node.args:
        scalar = scalar_text(node.args[0])
        if names and names[0] is not None:
            return [pinned("'" + names[0].replace("'", "''") + "'", pos, "literal")]
        if scalar is not None:
            return [pinned(scalar, pos, "literal")]
    return [hole(pos)]


DRIVER = Driver(
    name="psycopg",
    copy_streams=frozenset({"copy"}),
    wrappers=frozenset({"SQL"}),
    builders=_COMPOSABLES,
    builds=is_psycopg_sql,
    value=composable,
)
