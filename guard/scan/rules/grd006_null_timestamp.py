"""A write into a guarded table sets the timestamp column explicitly to NULL.

The row then has no creation time at all: on a ``NOT NULL`` column the write fails, otherwise every report
filtering on the column silently drops it. It is also what ``guard patch`` leaves when it knows no source time
(``NULL /* guard: review ... */``): a placeholder a person must replace, so the scan keeps pointing at it
until someone does — a patched site never counts as fixed while its placeholder is still there.

Fix: pass the source system's creation time (configure ``source_column`` / ``source_field`` and patch again).
"""

from __future__ import annotations

import json
from functools import lru_cache

from guard.model import Finding, ResolvedWrite, Severity
from guard.scan.rules import base

CODE = "GRD006"
NAME = "timestamp-set-to-null"
MESSAGE = "{column} is set to NULL: the row gets no creation time{placeholder}"
DEFAULT_SEVERITY = Severity.MEDIUM
FIXABLE = False
#: the marker ``guard patch`` puts next to a value it could not know
REVIEW_MARKER = "guard: review"


def check(resolved: ResolvedWrite, ctx: base.RuleContext) -> Finding | None:
    if resolved.table is None or not resolved.guarded or resolved.sets_timestamp is not True:
        return None
    if not is_null(resolved.timestamp_value):
        return None
    placeholder = " (the `guard: review` placeholder guard patch left)" if REVIEW_MARKER in resolved.write.sql else ""
    return ctx.table_finding(
        CODE, resolved, MESSAGE.format(column=resolved.timestamp_column, placeholder=placeholder), fixable=FIXABLE
    )


@lru_cache(maxsize=1024)
def is_null(value: str | None) -> bool:
    """``NULL``, or a cast of it (``NULL::timestamptz``, ``CAST(NULL AS timestamp)``), read by Postgres' parser."""
    if not value or not value.strip():
        return False
    from pglast.parser import parse_sql_json

    try:
        tree = json.loads(parse_sql_json(f"SELECT {value}"))
        [statement] = tree["stmts"]
        [target] = statement["stmt"]["SelectStmt"]["targetList"]
    except Exception:
        return False
    node = target["ResTarget"].get("val")
    while isinstance(node, dict) and "TypeCast" in node:
        node = node["TypeCast"].get("arg")
    return isinstance(node, dict) and node.get("A_Const", {}).get("isnull", False) is True


RULE = base.RuleModule(
    code=CODE,
    name=NAME,
    message=MESSAGE,
    severity=DEFAULT_SEVERITY,
    fixable=FIXABLE,
    description=__doc__ or "",
    judge=check,
)
