"""Turn "these tables" into one reviewable revision: a guard for new tables, a mode change for guarded ones.

Used by ``guard protect --from-scan`` (every guarded table the scan found writers omitting the timestamp
on) and ``guard rollout --apply-ready`` (every table ready for enforce). One revision for the batch, so a
reviewer reads one diff and ``alembic downgrade -1`` undoes the whole step; its downgrade undoes the
operations in reverse order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from guard.db.operations import GuardSettings
from guard.db.revision import render_guard_table, render_set_mode

GUARD = "guard"
SET_MODE = "set_mode"
SKIP = "skip"


@dataclass(frozen=True)
class Step:
    """What the revision does to one table; ``action`` SKIP steps are reported, not written."""

    table: str
    action: str
    mode: str
    from_mode: str | None = None
    reason: str = ""


def protection_steps(tables: list[str], planned: dict[str, str], mode: str, explicit_mode: bool) -> list[Step]:
    """Guard each table not yet guarded; change the mode of a guarded one only when ``--mode`` was given."""
    steps = []
    for table in tables:
        current = planned.get(table)
        if current is None:
            steps.append(Step(table, GUARD, mode))
        elif current == mode:
            steps.append(Step(table, SKIP, mode, current, f"already guarded in {current} mode"))
        elif explicit_mode:
            steps.append(Step(table, SET_MODE, mode, current))
        else:
            steps.append(
                Step(table, SKIP, current, current, f"already guarded in {current} mode; pass --mode to change it")
            )
    return steps


def render_steps(steps: list[Step], settings: Callable[[str, str], GuardSettings] | None = None) -> tuple[str, str]:
    """(upgrade body, downgrade body) of one revision applying every non-skipped step.

    ``settings(table, mode)`` gives a new guard's settings; mode changes need none.
    """
    upgrades, downgrades = [], []
    for step in steps:
        if step.action == GUARD:
            if settings is None:
                raise ValueError(f"guarding {step.table} needs its settings")
            _, upgrade, downgrade = render_guard_table(step.table, settings(step.table, step.mode))
        elif step.action == SET_MODE:
            assert step.from_mode is not None
            _, upgrade, downgrade = render_set_mode(step.table, step.mode, step.from_mode)
        else:
            continue
        upgrades.append(upgrade)
        downgrades.append(downgrade)
    return "\n    ".join(upgrades), "\n    ".join(reversed(downgrades))


def summary_message(steps: list[Step], what: str) -> str:
    """The revision's message: ``guard 6 table(s) from the scan (audit mode)``."""
    written = [s for s in steps if s.action != SKIP]
    modes = sorted({s.mode for s in written})
    names = ", ".join(s.table for s in written[:3]) + (", ..." if len(written) > 3 else "")
    return f"{what}: {names} ({'/'.join(modes)} mode)"
