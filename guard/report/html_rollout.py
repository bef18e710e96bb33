"""``guard rollout --format html``: the per-table verdicts as one self-contained page (the shared renderer)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import Any

from guard.report.html import render
from guard.rollout.verdict import ENFORCED, NOT_READY, READY, UNPROTECTED, Row

_ORDER = (READY, ENFORCED, NOT_READY, UNPROTECTED)


def rollout_page(rows: Sequence[Row], since: dt.datetime, written: dict[str, Any] | None) -> str:
    """Cards per verdict, one table row per table with its blockers and unfixed writers, the --apply-ready result."""
    tally = Counter(row.verdict for row in rows)
    counts = [(verdict, tally[verdict]) for verdict in _ORDER if tally[verdict]]
    return render(
        "rollout.html.j2",
        title="guard rollout",
        command="rollout",
        rows=[row.as_dict() for row in rows],
        counts=counts,
        since=since,
        written=written,
    )
