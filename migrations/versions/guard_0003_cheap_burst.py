"""Upgrade the guard schema 1.1 -> 1.2: the burst guard checks only rows whose business date is far from their stamp.

Revision ID: guard_0003
Revises: guard_0002
Create Date: 2026-12-03
"""

from guard.db.schema import downgrade_sql, run_script, upgrade_sql

revision = "guard_0003"
down_revision = "guard_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script(upgrade_sql("1.1", "1.2"))


def downgrade() -> None:
    run_script(downgrade_sql("1.2", "1.1"))
