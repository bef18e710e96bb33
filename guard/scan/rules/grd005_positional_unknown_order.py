"""A positional write into a guarded table whose column order guard does not know.

``INSERT INTO t VALUES (...)`` (or ``INSERT INTO t SELECT ...``) without a column list fills columns in
table order. Whether the values reach the timestamp column depends on that order, which guard could not
learn: the table is guarded (by config or a now()-like default seen in an ``ALTER TABLE``) but no complete
``CREATE TABLE`` or live catalog entry was found, or the width of the row (``SELECT *``) is unknown.

Fix: name the columns — positional inserts break silently when a column is added. Or let guard see the
full table definition (DDL in the tree, or ``--dsn``).
"""

from __future__ import annotations

from guard.model import Finding, ResolvedWrite, Severity
from guard.scan.resolve import column_list_is_dynamic
from guard.scan.rules import base

CODE = "GRD005"
NAME = "positional-write-unknown-order"
MESSAGE = (
    "positional {statement}: the table's column order is unknown, so cannot tell whether it reaches {column}{width}"
)
DEFAULT_SEVERITY = Severity.MEDIUM
FIXABLE = False


def check(resolved: ResolvedWrite, ctx: base.RuleContext) -> Finding | None:
    write = resolved.write
    if resolved.table is None or not resolved.guarded or resolved.sets_timestamp is not None:
        return None
    if write.columns is not None or column_list_is_dynamic(write):
        return None
    width = f" ({write.values_width} values per row)" if write.values_width else ""
    message = MESSAGE.format(statement=base.kind_label(write), column=resolved.timestamp_column, width=width)
    return ctx.table_finding(CODE, resolved, message, fixable=FIXABLE)


RULE = base.RuleModule(
    code=CODE,
    name=NAME,
    message=MESSAGE,
    severity=DEFAULT_SEVERITY,
    fixable=FIXABLE,
    description=__doc__ or "",
    judge=check,
)
