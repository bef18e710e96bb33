"""Upgrade the guard schema 1.0 -> 1.1: audit entries only from guard's triggers, bypass only for real members.

Revision ID: guard_0002
Revises: guard_0001
Create Date: 2026-12-03
"""

from guard.db.schema import downgrade_sql, run_script, upgrade_sql

revision = "guard_0002"
down_revision = "guard_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script(upgrade_sql("1.0", "1.1"))


def downgrade() -> None:
    run_script(downgrade_sql("1.1", "1.0"))
