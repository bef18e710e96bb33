"""A write into a guarded table leaves the timestamp column to its default.

The table's timestamp column (``created_at`` unless configured otherwise) has a ``now()``-like default, or
the table is listed in ``guard.toml``. The statement does not give the column a value: it is missing from
the column list, set to ``DEFAULT``, beyond the last value of a positional INSERT, missing from a COPY
column list, or missing from an INSERT ... SELECT or upsert. Postgres then stamps every row with the time
of the load, so historical rows look created in one minute — the phantom-timestamp bug.

Fix: name the column and pass the source system's creation time (``guard patch`` does this for you).
"""

from __future__ import annotations

from guard.model import Finding, ResolvedWrite, Severity
from guard.scan.rules import base, grd006_source_timestamp_dropped

CODE = "GRD001"
NAME = "timestamp-left-to-default"
MESSAGE = "{statement}, so Postgres fills {default}"
DEFAULT_SEVERITY = Severity.MEDIUM
FIXABLE = True


def check(resolved: ResolvedWrite, ctx: base.RuleContext) -> Finding | None:
    if resolved.table is None or not resolved.guarded or resolved.sets_timestamp is not False:
        return None
    if grd006_source_timestamp_dropped.copied_history(resolved):
        return None  # GRD006 says it better: the source's own time was there to copy
    write = resolved.write
    message = MESSAGE.format(
        statement=base.describe_omission(resolved),
        default=f"DEFAULT {resolved.default}" if resolved.default else f"the default of {resolved.timestamp_column}",
    )
    return base.finding(
        CODE,
        resolved,
        severity=ctx.severity_for(resolved.table, resolved.evidence),
        message=message,
        why=ctx.why_for(resolved.table),
        fixable=FIXABLE and not write.dynamic and not write.best_effort,
    )
