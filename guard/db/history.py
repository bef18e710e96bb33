"""What the guard revisions in ``migrations_dir`` say each table's mode will be once they are all applied.

``guard protect --from-scan`` and ``guard rollout --apply-ready`` write new revisions, so they must know what
the existing ones already do: a table guarded by a committed (maybe not yet applied) revision must get a
mode change, never a second ``guard_table``. The revisions are read, not imported: each file is parsed with
the stdlib ``ast`` and its ``upgrade()`` calls to ``op.guard_table`` / ``op.guard_set_mode`` /
``op.unguard_table`` are replayed in revision order (Alembic's own graph orders the files).
"""

from __future__ import annotations

import ast
from pathlib import Path

from alembic.script import ScriptDirectory

from guard.config import normalize_table_name
from guard.db.migrate import alembic_config
from guard.errors import GuardError


def planned_modes(migrations_dir: Path) -> dict[str, str]:
    """``{table: mode}`` after every revision in ``migrations_dir``; unguarded tables are absent."""
    if not migrations_dir.is_dir():
        return {}
    script = ScriptDirectory.from_config(alembic_config(None, migrations_dir))
    root = migrations_dir.resolve()
    revisions = [rev for rev in script.walk_revisions() if Path(rev.path).resolve().is_relative_to(root)]
    modes: dict[str, str] = {}
    for revision in reversed(revisions):  # walk_revisions goes from the heads down
        for call, table, mode in _guard_calls(Path(revision.path)):
            if call == "unguard_table":
                modes.pop(table, None)
            elif mode is not None:
                modes[table] = mode
    return modes


def _guard_calls(path: Path) -> list[tuple[str, str, str | None]]:
    """``(operation, table, mode)`` for each guard operation in the file's ``upgrade()``, in order."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, UnicodeDecodeError) as exc:
        raise GuardError(f"{path}: cannot read this revision ({exc}); fix it before writing a new one") from None
    upgrade = next((node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "upgrade"), None)
    found: list[tuple[int, int, str, str, str | None]] = []
    for node in ast.walk(upgrade) if upgrade is not None else ():
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        operation = node.func.attr
        if operation not in ("guard_table", "guard_set_mode", "unguard_table") or not node.args:
            continue
        table = _constant(node.args[0])
        if table is None:
            continue
        mode = None
        if operation == "guard_table":
            mode = _keyword(node, "mode") or "audit"
        elif operation == "guard_set_mode":
            mode = _constant(node.args[1]) if len(node.args) > 1 else _keyword(node, "mode")
        found.append((node.lineno, node.col_offset, operation, normalize_table_name(table), mode))
    return [(operation, table, mode) for _, _, operation, table, mode in sorted(found)]  # source order


def _constant(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _keyword(call: ast.Call, name: str) -> str | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return _constant(keyword.value)
    return None
