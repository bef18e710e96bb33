"""An INSERT ... SELECT copies rows from a relation with its own time, and drops that time.

The write reads rows from another table (or a CTE over one) that has a creation or business timestamp of
its own — ``funnels.created_at``, ``staging.jobs.scheduled_at`` — but does not carry it into the guarded
table's timestamp column. Postgres then stamps every copied row with the time of the copy: years of
history collapse into the migration minute. This is the incident's shape in its purest form, so it ranks
critical unless the table's configured severity says otherwise.

Fix: add the timestamp column to the column list and select the source's own column (``guard patch``
does this when the statement names its source columns and the source has a timestamp column).
"""

from __future__ import annotations

from guard.model import Finding, ResolvedWrite, Severity
from guard.scan import evidence
from guard.scan.rules import base

CODE = "GRD007"
NAME = "source-timestamp-dropped"
MESSAGE = "{statement} reads rows from {source} but drops its {source_column}, so Postgres fills {default}"
DEFAULT_SEVERITY = Severity.CRITICAL
FIXABLE = True


def copied_history(resolved: ResolvedWrite) -> tuple[str, str] | None:
    """(source relation, its timestamp column) when the write copies history and drops its time."""
    if resolved.table is None or not resolved.guarded or resolved.sets_timestamp is not False:
        return None
    for item in resolved.evidence:
        if item.kind == evidence.HISTORY_COPIED:
            source, _, column = item.detail.rpartition(".")
            return source, column
    return None


def check(resolved: ResolvedWrite, ctx: base.RuleContext) -> Finding | None:
    copied = copied_history(resolved)
    if copied is None:
        return None
    source, source_column = copied
    message = MESSAGE.format(
        statement=base.kind_label(resolved.write),
        source=source,
        source_column=source_column,
        default=base.describe_default(resolved),
    )
    write = resolved.write
    return ctx.table_finding(
        CODE,
        resolved,
        message,
        fixable=FIXABLE and not write.dynamic and not write.best_effort and write.columns is not None,
    )


RULE = base.RuleModule(
    code=CODE,
    name=NAME,
    message=MESSAGE,
    severity=DEFAULT_SEVERITY,
    fixable=FIXABLE,
    description=__doc__ or "",
    judge=check,
)
