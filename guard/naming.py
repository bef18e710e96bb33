"""Identifier spelling shared by the front-ends and the ranking: one camelCase -> snake_case rule.

TypeORM derives table names this way, and the evidence of history compares payload keys (``scheduledOn``) with
column names (``scheduled_on``) this way, so both must split words identically.
"""

from __future__ import annotations

import re

#: A word boundary inside an identifier: ``jobRun`` -> job|Run, ``HTTPServer`` -> HTTP|Server.
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(name: str) -> str:
    """``JobRun`` -> ``job_run``, ``scheduledOn`` -> ``scheduled_on``, ``HTTPServer`` -> ``http_server``;
    snake_case names come back lower-cased."""
    return _CAMEL_BOUNDARY.sub("_", name).lower()
