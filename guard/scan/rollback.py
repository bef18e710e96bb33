"""Rollback (down) migrations: their DDL undoes a migration, it does not describe the schema.

Migration tools keep the undo of each step next to it: ``rollback/``, ``down/`` or ``revert/`` directories
(sqitch), ``0042_add_jobs.down.sql`` files (golang-migrate, node-pg-migrate), Flyway's ``U42__undo.sql``, and
dbmate's ``-- migrate:down`` and goose's ``-- +goose Down`` sections. Replayed like any other DDL they would drop
the very tables the up migrations create, and every write into them would look like a write into an unknown
table. Their writes are still writes; only their schema facts are ignored.
"""

from __future__ import annotations

import re

#: Directory names that hold only rollback scripts (compared case-insensitively; ``rollback*`` by prefix).
_ROLLBACK_DIRS = frozenset({"down", "downs", "revert", "reverts", "undo", "downgrade", "downgrades"})
_ROLLBACK_DIR_PREFIX = "rollback"
#: File stems (before ``.sql``) that name a rollback script: ``*.down``, ``*_down``, ``*-rollback``, ``down``.
_ROLLBACK_STEM_WORDS = ("down", "rollback", "revert", "undo")
_FLYWAY_UNDO = re.compile(r"^U\d+(?:[._]\d+)*__")  # a file name, not SQL: Flyway's naming scheme
#: Markers after which a migration file holds its rollback: dbmate, goose, sql-migrate (case-insensitive).
DOWN_MARKERS = ("-- migrate:down", "-- +goose down", "-- +migrate down")


def is_rollback_path(relpath: str) -> bool:
    """Whether the file at ``relpath`` (``/`` separators) is a rollback script by its location or name."""
    parts = relpath.split("/")
    for directory in parts[:-1]:
        lowered = directory.lower()
        if lowered in _ROLLBACK_DIRS or lowered.startswith(_ROLLBACK_DIR_PREFIX):
            return True
    name = parts[-1]
    if _FLYWAY_UNDO.match(name):
        return True
    stem = name.rsplit(".", 1)[0].lower() if name.lower().endswith((".sql", ".psql", ".pgsql")) else ""
    if not stem:
        return False
    for word in _ROLLBACK_STEM_WORDS:
        if stem == word or any(stem.endswith(separator + word) for separator in "._-"):
            return True
    return False


def down_section_line(text: str) -> int | None:
    """The line of a rollback-section marker (``-- migrate:down``, ``-- +goose Down``) on a line of its own."""
    lowered = text.lower()
    best: int | None = None
    for marker in DOWN_MARKERS:
        position = lowered.find(marker)
        while position >= 0:
            line_start = lowered.rfind("\n", 0, position) + 1
            if not lowered[line_start:position].strip():
                line = lowered.count("\n", 0, position) + 1
                best = line if best is None else min(best, line)
                break
            position = lowered.find(marker, position + 1)
    return best
