"""Rules: one module per rule, each with a stable code (GRD001...), message, severity and docs page.

Every rule registers in :data:`RULES`, the one list (a new rule is one module exporting ``RULE`` plus one line
here). ``WRITE_RULES`` judge one resolved write each (``check(resolved, ctx)``); the others are raised by the
suppression machinery. ``RULES`` is also what reporters describe (SARIF rule metadata, docs index), and the rules
whose ``fixable`` is set are what ``guard patch`` fixes.
"""

from __future__ import annotations

from guard.model import Finding, ResolvedWrite
from guard.scan.rules import (
    grd001_default_timestamp,
    grd002_ingestion_time,
    grd003_unknown_schema,
    grd004_dynamic_sql,
    grd005_positional_unknown_order,
    grd006_null_timestamp,
    grd007_source_timestamp_dropped,
    grd900_suppression_reason,
    grd901_unused_suppression,
)
from guard.scan.rules.base import Rule, RuleContext

__all__ = ["RULES", "RULES_BY_CODE", "WRITE_RULES", "Rule", "RuleContext", "check_write", "fixable_rules"]

#: Every rule guard has, in code order; one line per rule.
RULES: tuple[Rule, ...] = (
    grd001_default_timestamp.RULE,
    grd002_ingestion_time.RULE,
    grd003_unknown_schema.RULE,
    grd004_dynamic_sql.RULE,
    grd005_positional_unknown_order.RULE,
    grd006_null_timestamp.RULE,
    grd007_source_timestamp_dropped.RULE,
    grd900_suppression_reason.RULE,
    grd901_unused_suppression.RULE,
)
WRITE_RULES: tuple[Rule, ...] = tuple(rule for rule in RULES if rule.judges_writes)
RULES_BY_CODE: dict[str, Rule] = {rule.code: rule for rule in RULES}


def check_write(resolved: ResolvedWrite, ctx: RuleContext) -> list[Finding]:
    """Every finding the write rules report on one write (unfingerprinted)."""
    verdicts = (rule.check(resolved, ctx) for rule in WRITE_RULES)
    return [verdict for verdict in verdicts if verdict is not None]


def fixable_rules() -> tuple[Rule, ...]:
    """The rules whose findings ``guard patch`` can fix."""
    return tuple(rule for rule in RULES if rule.fixable)
