"""Rules: one module per rule, each with a stable code (GRD001...), message, severity and docs page.

``WRITE_RULES`` judge one resolved write each (``check(resolved, ctx)``); ``META_RULES`` are raised by the
suppression machinery. ``ALL_RULES`` is what reporters describe (SARIF rule metadata, docs index).
"""

from __future__ import annotations

from types import ModuleType

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
from guard.scan.rules.base import RuleContext

WRITE_RULES: tuple[ModuleType, ...] = (
    grd001_default_timestamp,
    grd002_ingestion_time,
    grd003_unknown_schema,
    grd004_dynamic_sql,
    grd005_positional_unknown_order,
    grd006_null_timestamp,
    grd007_source_timestamp_dropped,
)
META_RULES: tuple[ModuleType, ...] = (grd900_suppression_reason, grd901_unused_suppression)
ALL_RULES: tuple[ModuleType, ...] = WRITE_RULES + META_RULES
RULES_BY_CODE: dict[str, ModuleType] = {rule.CODE: rule for rule in ALL_RULES}


def check_write(resolved: ResolvedWrite, ctx: RuleContext) -> list[Finding]:
    """Every finding the write rules report on one write (unfingerprinted)."""
    verdicts = (rule.check(resolved, ctx) for rule in WRITE_RULES)
    return [verdict for verdict in verdicts if verdict is not None]


def rule_summary(rule: ModuleType) -> str:
    """The rule's one-line description: the first line of its module docstring."""
    return (rule.__doc__ or "").strip().partition("\n")[0]
