"""The timestamp column is set explicitly to the ingestion time on a table with a business time.

The table is configured with a ``business_column`` (for example ``scheduled_at``): its rows describe events
that happened at their own time. Writing ``created_at = now()`` (or ``CURRENT_TIMESTAMP``,
``clock_timestamp()``, ... or a cast of one) stamps them with the load time instead — the explicit form of
the phantom-timestamp bug, and one that a column default check cannot see.

Fix: pass the source system's creation time; keep the load time in a separate ingestion column.
"""

from __future__ import annotations

from guard.model import Finding, ResolvedWrite, Severity
from guard.scan.catalog import is_now_like
from guard.scan.rules import base

CODE = "GRD002"
NAME = "timestamp-set-to-ingestion-time"
MESSAGE = "{column} is set to {value}, the ingestion time, although the business time lives in {business}"
DEFAULT_SEVERITY = Severity.MEDIUM
FIXABLE = False


def check(resolved: ResolvedWrite, ctx: base.RuleContext) -> Finding | None:
    if resolved.table is None or resolved.sets_timestamp is not True or not resolved.timestamp_value:
        return None
    table_cfg = ctx.config.table(resolved.table)
    if table_cfg is None or not table_cfg.business_column or not is_now_like(resolved.timestamp_value):
        return None
    message = MESSAGE.format(
        column=resolved.timestamp_column,
        value=resolved.timestamp_value,
        business=table_cfg.business_column,
    )
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
