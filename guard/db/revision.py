"""Write the reviewable Alembic revision that ``guard protect`` produces.

The file is plain Python using guard's custom operations, appended to the project's migrations
directory after its newest revision (or after guard's own lineage when the directory is new), so
``guard migrate`` or ``alembic upgrade heads`` applies it in order.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import rev_id

from guard.db.migrate import alembic_config
from guard.db.operations import GuardSettings, table_spelling
from guard.errors import GuardError


def in_user_environment(migrations_dir: Path) -> bool:
    """``migrations_dir`` is the ``versions/`` of the project's own Alembic environment (its ``env.py`` is beside it).

    There, guard's revisions must never be named in the project's files: ``alembic revision`` does not load
    guard's lineage (see :mod:`guard.alembic`), so a file naming one would break it.
    """
    return (migrations_dir.resolve().parent / "env.py").is_file()


def parent_revision(migrations_dir: Path) -> str | None:
    """The revision a new file must follow: the head of ``migrations_dir``, else guard's lineage head (None: a
    new root, in the project's own Alembic environment)."""
    script = ScriptDirectory.from_config(alembic_config(None, migrations_dir))
    heads = [script.get_revision(head) for head in script.get_heads()]
    own = sorted(rev.revision for rev in heads if rev is not None and _inside(Path(rev.path), migrations_dir))
    if len(own) > 1:
        raise GuardError(
            f"{migrations_dir} has several heads ({', '.join(own)}); merge them first (alembic merge) "
            "so the new revision has one parent"
        )
    if own:
        return own[0]
    if in_user_environment(migrations_dir):
        return None
    guard_heads = sorted(rev.revision for rev in heads if rev is not None)
    if len(guard_heads) != 1:
        raise GuardError(f"cannot choose a parent revision among {', '.join(guard_heads)}; merge the heads first")
    return guard_heads[0]


def _inside(path: Path, directory: Path) -> bool:
    return path.resolve().is_relative_to(directory.resolve())


def render_guard_table(table: str, settings: GuardSettings) -> tuple[str, str, str]:
    """(message, upgrade body, downgrade body) of a revision guarding ``table``."""
    s = settings
    spelled = table_spelling(table)
    upgrade = (
        f"op.guard_table(\n        {spelled!r},\n        column={s.column!r},\n"
        f"        business_column={s.business_column!r},\n        mode={s.mode!r},\n"
        f"        min_rows={s.min_rows!r},\n        window={s.window!r},\n        min_span={s.min_span!r},\n"
        f"        ingested_column={s.ingested_column!r},\n    )"
    )
    return f"guard {table} ({s.mode} mode)", upgrade, f"op.unguard_table({spelled!r})"


def render_set_mode(table: str, mode: str, from_mode: str) -> tuple[str, str, str]:
    """(message, upgrade body, downgrade body) of a revision moving ``table`` from ``from_mode`` to ``mode``."""
    spelled = table_spelling(table)
    return (
        f"guard {table}: {from_mode} -> {mode}",
        f"op.guard_set_mode({spelled!r}, {mode!r}, from_mode={from_mode!r})",
        f"op.guard_set_mode({spelled!r}, {from_mode!r}, from_mode={mode!r})",
    )


_TEMPLATE = '''"""{message}

Written by `guard protect`. Review it, commit it, then apply it with `guard migrate --dsn ...`
(or `alembic upgrade heads` in your own Alembic environment; see `guard docs database`).

Revision ID: {revision}
Revises: {down_revision}
Create Date: {created}
"""

from alembic import op

import guard.db.operations  # noqa: F401  (registers op.guard_table, op.guard_set_mode, op.unguard_table)

revision = {revision!r}
down_revision = {down_revision!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    {upgrade}


def downgrade() -> None:
    {downgrade}
'''


def _docstring_text(text: str) -> str:
    """``text`` safe inside the revision's docstring: a quote in a table name must not end it early."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def write_revision(migrations_dir: Path, message: str, upgrade: str, downgrade: str) -> Path:
    """Create ``migrations_dir`` if needed and write a new revision file; returns its path."""
    migrations_dir.mkdir(parents=True, exist_ok=True)
    down_revision = parent_revision(migrations_dir)
    revision = rev_id()
    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:48]
    path = migrations_dir / f"{revision}_{slug}.py"
    created = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    path.write_text(
        _TEMPLATE.format(
            message=_docstring_text(message),
            revision=revision,
            down_revision=down_revision,
            created=created,
            upgrade=upgrade,
            downgrade=downgrade,
        ),
        encoding="utf-8",
    )
    return path
