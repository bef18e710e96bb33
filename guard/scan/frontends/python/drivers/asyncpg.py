"""asyncpg: ``conn.execute(sql, *args)``, ``fetch``/``fetchrow``/``fetchval``, ``executemany``, and bulk copies
that write rows with no SQL in the source: ``copy_records_to_table("jobs", records=..., columns=[...],
schema_name="titan")`` and ``copy_to_table`` send ``COPY "titan"."jobs" (...) FROM STDIN`` (names quoted)."""

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


def _copy(ev: ExpressionReader, call: CallSite) -> Fragment | None:
    """``copy_records_to_table(table_name, *, records, columns, schema_name)``."""
    keywords = {k.arg: k.value for k in call.node.keywords if k.arg}
    table = argument(call.node, 0, "table_name")
    return copy_statement(ev, call, table, keywords.get("schema_name"), keywords.get("columns"), quote=True)


DRIVER = Driver(
    name="asyncpg",
    anchors=(Anchor(b"copy", rb"copy_(?:records_to_table|to_table)\s*\("),),
    run_one=frozenset({"execute", "fetch", "fetchrow", "fetchval"}),
    run_many=frozenset({"executemany"}),
    param_keywords=("args",),
    writes=frozenset({"copy_records_to_table", "copy_to_table"}),
    write=_copy,
)
