"""An inline suppression without a reason.

``# guard: ignore[GRD001]`` (or ``-- guard: ignore[GRD001]`` in SQL) must say why the write is safe, e.g.
``# guard: ignore[GRD001] rows are created now; there is no source time``. A suppression without a reason
is not honoured: the finding it meant to hide is still reported, together with this one.
"""

from __future__ import annotations

from guard.model import Severity
from guard.scan.rules import base

CODE = "GRD900"
NAME = "suppression-needs-reason"
MESSAGE = "suppression of {rules} needs a reason: write why after the bracket, e.g. '{example}'"
DEFAULT_SEVERITY = Severity.LOW
FIXABLE = False


RULE = base.RuleModule(
    code=CODE,
    name=NAME,
    message=MESSAGE,
    severity=DEFAULT_SEVERITY,
    fixable=FIXABLE,
    description=__doc__ or "",
    judge=None,
)
