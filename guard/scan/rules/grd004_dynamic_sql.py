"""A write whose target table or column list cannot be resolved statically (dynamic SQL).

The statement is built at run time — an f-string or ``.format`` puts the table name or the column list in
place, or ``psycopg.sql.Identifier`` supplies it — so guard cannot prove whether the timestamp column is
set. It is reported for review with what is known, never dropped. Severity is low unless the known part of
the name (``titan.{table}``, ``{schema}.jobs``) matches guarded tables; then the most severe of them applies.

Fix: review the call sites; if the column list always names the timestamp column, suppress with a reason
(``# guard: ignore[GRD004] columns come from JOB_COLUMNS, which includes created_at``).
"""

from __future__ import annotations

from guard.model import Finding, ResolvedWrite, Severity
from guard.scan.resolve import column_list_is_dynamic, readable_name
from guard.scan.rules import base

CODE = "GRD004"
NAME = "dynamic-sql"
MESSAGE = "{statement} built at run time: {unknown}; cannot tell whether it sets {column}{hint}"
DEFAULT_SEVERITY = Severity.LOW
FIXABLE = False


def check(resolved: ResolvedWrite, ctx: base.RuleContext) -> Finding | None:
    write = resolved.write
    if resolved.sets_timestamp is True:
        return None  # names the timestamp column: safe whatever the table turns out to be
    if write.entity and resolved.table is None:
        return None  # an unknown model: GRD003 reports it
    hint = ""
    if resolved.table is None:
        candidates = ctx.guarded_matches(write.table) if write.table else []
        known = readable_name(write.table) if write.table else "{?}"
        unknown = "target table unknown" if known == "{?}" else f"target table {known}"
        hint = _candidates_hint(candidates)
    elif resolved.sets_timestamp is None and column_list_is_dynamic(write):
        if resolved.table_known and not resolved.guarded:
            return None  # the catalog knows this table does not default the column
        candidates = [resolved.table] if resolved.guarded else []
        unknown = f"column list of {resolved.table} is dynamic"
    else:
        return None
    worst = candidates[0] if candidates else None  # most severe first
    message = MESSAGE.format(
        statement=base.statement_label(write), unknown=unknown, column=resolved.timestamp_column, hint=hint
    )
    return base.finding(
        CODE,
        resolved,
        severity=ctx.severity_for(worst) if worst else DEFAULT_SEVERITY,
        message=message,
        why=ctx.why_for(worst, fallback="dynamic SQL: review that this write names the timestamp column"),
        fixable=FIXABLE,
    )


def _candidates_hint(candidates: list[str]) -> str:
    if not candidates:
        return ""
    if len(candidates) == 1:
        return f" (probably {candidates[0]}, which is guarded)"
    shown = ", ".join(candidates[:3]) + (", ..." if len(candidates) > 3 else "")
    return f" (may be one of {len(candidates)} guarded tables: {shown})"


RULE = base.RuleModule(
    code=CODE,
    name=NAME,
    message=MESSAGE,
    severity=DEFAULT_SEVERITY,
    fixable=FIXABLE,
    description=__doc__ or "",
    judge=check,
)
