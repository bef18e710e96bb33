"""An inline suppression that suppresses nothing.

The rule it names found nothing on the statement it sits on (or the line below it). Usually the write was
fixed and the comment stayed behind, or the comment sits on the wrong line. Stale suppressions hide future
regressions, so they are reported; delete the comment or move it onto the statement's lines.
"""

from __future__ import annotations

from guard.model import Severity
from guard.scan.rules import base

CODE = "GRD901"
NAME = "unused-suppression"
MESSAGE = "suppression of {rule} matches no finding on this statement; remove it"
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
