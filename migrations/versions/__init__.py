"""Revisions of the guard lineage."""
