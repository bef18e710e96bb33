"""Install the guard schema 1.0: roles (if absent), registry, quarantine and violations tables, functions.

Revision ID: guard_0001
Revises:
Create Date: 2026-11-21
"""

from guard.db.schema import install_sql, run_script, uninstall_sql

revision = "guard_0001"
down_revision = None
branch_labels = ("guard",)
depends_on = None


def upgrade() -> None:
    run_script(install_sql("1.0"))


def downgrade() -> None:
    run_script(uninstall_sql("1.0"))
