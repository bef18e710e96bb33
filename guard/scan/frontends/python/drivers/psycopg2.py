"""psycopg2 specifics: ``psycopg2.extras.execute_values(cur, sql, rows)`` (which fills one ``VALUES %s`` with every
row) and ``execute_batch``, and ``cur.copy_from(file, table, sep, null, size, columns)``, which writes rows with no
SQL in the source: it sends ``COPY table (columns) FROM STDIN`` with the table name used as written."""

from __future__ import annotations

from guard.scan.frontends.python.drivers.base import (
    Anchor,
    CallSite,
    Driver,
    ExpressionReader,
    argument,
    copy_statement,
)
from guard.scan.frontends.python.strings import Fragment


def _copy_from(ev: ExpressionReader, call: CallSite) -> Fragment | None:
    table = argument(call.node, 1, "table")
    columns = argument(call.node, 5, "columns")
    return copy_statement(ev, call, table, None, columns, quote=False)


DRIVER = Driver(
    name="psycopg2",
    anchors=(Anchor(b"copy", rb"copy_from\s*\("),),
    run_helpers=frozenset({"execute_values", "execute_batch"}),
    fills_values_template=frozenset({"execute_values"}),
    param_keywords=("argslist",),
    writes=frozenset({"copy_from"}),
    write=_copy_from,
)
