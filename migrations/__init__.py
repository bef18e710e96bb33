"""Alembic lineage (branch label ``guard``) that installs and upgrades the guard schema."""
