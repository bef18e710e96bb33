"""Upgrade the guard schema 1.2 -> 1.3: the burst guard's row trigger skips rows stamped long before the write.

Revision ID: guard_0004
Revises: guard_0003
Create Date: 2026-12-03
"""

from guard.db.schema import downgrade_sql, run_script, upgrade_sql

revision = "guard_0004"
down_revision = "guard_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script(upgrade_sql("1.2", "1.3"))


def downgrade() -> None:
    run_script(downgrade_sql("1.3", "1.2"))
