"""Alembic environment of the guard lineage; the logic lives in guard.db.alembic_env."""

from guard.db.alembic_env import run

run()
