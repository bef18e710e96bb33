"""How a quarantined row is identified: its primary key as a jsonb object in ``guard.quarantined_rows``.

Shared by ``guard quarantine`` (which records keys) and ``guard detect`` (which asks how much of a burst is
already quarantined), so both match rows exactly the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from guard.watch.catalog import GUARD_SCHEMA, Table

if TYPE_CHECKING:
    from psycopg import sql


def row_key(table: Table) -> sql.Composable:
    """``jsonb_build_object('id', schema.table.id, ...)``: the key as stored in ``row_key``."""
    from psycopg import sql

    pairs = sql.SQL(", ").join(
        sql.SQL("{}, {}").format(sql.Literal(column), sql.Identifier(table.schema, table.name, column))
        for column in table.primary_key
    )
    return sql.SQL("jsonb_build_object({})").format(pairs)


def actively_quarantined(table: Table) -> sql.Composable:
    """A condition on ``table``'s rows: the row is in a quarantine batch not yet released."""
    from psycopg import sql

    return sql.SQL(
        "EXISTS (SELECT 1 FROM {quarantine} AS q WHERE q.table_name = {name} AND q.row_key = {key}"
        " AND q.released_at IS NULL)"
    ).format(
        quarantine=sql.Identifier(GUARD_SCHEMA, "quarantined_rows"),
        name=sql.Literal(table.qualified),
        key=row_key(table),
    )
