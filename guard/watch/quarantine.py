"""Reversible quarantine: record rows' primary keys, never delete, and keep a clean view without them.

The incident was handled with a hand-made ``quarantined_jobs`` table and a ``LEFT JOIN`` in every clean
query. Here the keys go to ``guard.quarantined_rows`` (one batch per ``--apply``, in one transaction) and
``<schema>.<table>_clean`` is a view of the base table minus the keys of batches not yet released. Releasing
a batch only stamps ``released_at``; the view then returns the original rows again. Nothing is ever deleted.

The view matches keys with ``NOT EXISTS`` on ``row_key = jsonb_build_object(<pk columns>)``, which Postgres
runs as a hash anti-join: one pass over the base table, the quarantine list hashed once, and it can use the
``(table_name, row_key, ...)`` unique index for point lookups.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guard.config import Config, TableConfig
from guard.db.session import transaction_on
from guard.db.status import guard_installed, require_guard_schema
from guard.envelope import iso
from guard.errors import GuardError
from guard.watch.catalog import GUARD_SCHEMA, Table
from guard.watch.detect import find_burst_window
from guard.watch.predicate import validate_predicate
from guard.watch.rowkeys import actively_quarantined, row_key

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

CLEAN_SUFFIX = "_clean"
VIEW_MARKER = "Managed by guard quarantine"
MAX_IDENTIFIER_BYTES = 63


@dataclass(frozen=True)
class Selection:
    """Which rows to quarantine: a boolean condition over the base table's (table-qualified) columns."""

    description: str
    condition: sql.Composable
    expected_rows: int | None = None  # what `guard detect` counted when the selection came from its report


@dataclass(frozen=True)
class Preview:
    table: str
    selection: str
    matching_rows: int
    already_quarantined: int | None  # None when the guard schema is not installed yet
    sample_columns: tuple[str, ...]
    sample: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class Applied:
    table: str
    batch_id: str
    selection: str
    reason: str
    matching_rows: int
    recorded_rows: int
    clean_view: str


@dataclass(frozen=True)
class Released:
    batch_id: str
    tables: tuple[str, ...]
    released_rows: int
    already_released: int


def require_primary_key(table: Table) -> None:
    if not table.primary_key:
        raise GuardError(
            f"{table.qualified} has no primary key, so quarantined rows could not be identified reliably; "
            "add one (ALTER TABLE ... ADD PRIMARY KEY) before quarantining"
        )


def clean_view_name(table: Table) -> tuple[str, str]:
    """``(schema, table_clean)``; refused when Postgres would silently truncate the name."""
    name = table.name + CLEAN_SUFFIX
    if len(name.encode()) > MAX_IDENTIFIER_BYTES:
        raise GuardError(
            f"the clean view name {name!r} is longer than {MAX_IDENTIFIER_BYTES} bytes and Postgres would truncate "
            "it; rename the table or create the view by hand from guard.quarantined_rows"
        )
    return table.schema, name


def burst_selection(conn: psycopg.Connection, table: Table, cfg: Config, burst: str, window: float) -> Selection:
    """The rows of burst ``burst`` (an ID printed by ``guard detect``)."""
    start, end = find_burst_window(conn, table, cfg, window, burst)
    column = cfg.timestamp_column_for(table.qualified)
    return Selection(
        description=f"phantom burst {burst} ({column} in [{iso(start)}, {iso(end)}))",
        condition=_range_condition(table, column, start, end),
    )


def where_selection(conn: psycopg.Connection, table: Table, text: str) -> Selection:
    predicate = validate_predicate(conn, text, table)
    return Selection(description=f"where {predicate.canonical}", condition=predicate.composable())


def detect_file_selection(path: Path, table: Table) -> Selection:
    """The bursts of ``table`` listed in a ``guard detect --format json`` report."""
    from psycopg import sql

    try:
        report = json.loads(path.read_text())
    except OSError as exc:
        raise GuardError(f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise GuardError(f"{path} is not JSON ({exc}); pass the output of `guard detect --format json`") from None
    if not isinstance(report, dict) or report.get("command") != "detect" or not isinstance(report.get("tables"), list):
        raise GuardError(f"{path} is not a `guard detect --format json` report")
    bursts = [
        burst
        for scan in report["tables"]
        if isinstance(scan, dict)
        for burst in scan.get("bursts", [])
        if isinstance(burst, dict) and burst.get("table") == table.qualified
    ]
    if not bursts:
        raise GuardError(f"{path} lists no bursts for {table.qualified}; nothing to quarantine")
    try:
        ranges = [
            (burst["timestamp_column"], _parse_time(burst["window_start"]), _parse_time(burst["window_end"]))
            for burst in bursts
        ]
        expected = sum(int(burst["rows"]) for burst in bursts)
    except (KeyError, TypeError, ValueError) as exc:
        raise GuardError(f"{path}: a burst entry is incomplete or malformed ({exc}); re-run guard detect") from None
    for column, _, _ in ranges:
        table.require_column(column, "the burst's timestamp column")
    condition = sql.SQL(" OR ").join(_range_condition(table, column, start, end) for column, start, end in ranges)
    ids = ", ".join(str(burst.get("id")) for burst in bursts)
    return Selection(
        description=f"bursts {ids} from {path.name}",
        condition=sql.SQL("(") + condition + sql.SQL(")"),
        expected_rows=expected,
    )


def _parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _range_condition(table: Table, column: str, start: dt.datetime, end: dt.datetime) -> sql.Composable:
    from psycopg import sql

    ident = sql.Identifier(table.schema, table.name, column)
    return sql.SQL("({} >= {} AND {} < {})").format(ident, sql.Literal(start), ident, sql.Literal(end))


def sample_columns(table: Table, cfg: Config) -> tuple[str, ...]:
    """Key, timestamp and configured business/money columns: what a reviewer needs to judge a sample."""
    settings = cfg.table(table.qualified) or TableConfig()
    wanted = [
        *table.primary_key,
        cfg.timestamp_column_for(table.qualified),
        settings.business_column,
        settings.money_column,
        *settings.signature_columns,
    ]
    seen: list[str] = []
    for name in wanted:
        if name and name not in seen and table.column(name) is not None:
            seen.append(name)
    return tuple(seen)


def preview(
    conn: psycopg.Connection, table: Table, selection: Selection, columns: tuple[str, ...], sample_size: int = 5
) -> Preview:
    """Count and sample the selected rows (run it in a read-only transaction)."""
    from psycopg import sql

    require_primary_key(table)
    installed = guard_installed(conn)
    already = sql.SQL("count(*) FILTER (WHERE {})").format(actively_quarantined(table)) if installed else sql.NULL
    row = conn.execute(
        sql.SQL("SELECT count(*), {} FROM {} WHERE {}").format(already, table.identifier, selection.condition)
    ).fetchone()
    assert row is not None
    sample = conn.execute(
        sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT {}").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in columns),
            table.identifier,
            selection.condition,
            sql.SQL(", ").join(sql.Identifier(c) for c in table.primary_key),
            sql.Literal(sample_size),
        )
    ).fetchall()
    return Preview(
        table=table.qualified,
        selection=selection.description,
        matching_rows=int(row[0]),
        already_quarantined=None if row[1] is None else int(row[1]),
        sample_columns=columns,
        sample=tuple(tuple(r) for r in sample),
    )


def new_batch_id() -> str:
    """``q20260403-041500-1a2b3c``: sortable by time, unique enough to never collide in practice."""
    now = dt.datetime.now(dt.timezone.utc)
    return f"q{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


#: session-local table holding the keys a selection matched, between the read-only and the writing transaction
_SELECTED = "guard_selected_keys"


def lock_table_batches(conn: psycopg.Connection, table: str) -> None:
    """Serialise quarantine batches of one table (held to the end of the caller's transaction).

    Two ``--apply`` runs (or an apply and a release) on one table would otherwise each see the other's rows as
    not yet quarantined and record them twice; the unique index on active keys would then fail one of them.
    """
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('guard.quarantine'), hashtext(%s))", (table,))


def apply(
    conn: psycopg.Connection, table: Table, selection: Selection, reason: str, statement_timeout: float
) -> Applied:
    """Record the selected rows' keys as a new batch and refresh the clean view.

    ``conn`` is outside a transaction. The selection (which may hold a user's ``--where``) is evaluated in a
    READ ONLY transaction that only copies the matching keys into a temporary table; the batch is then written
    in a transaction of its own under the table's batch lock, so whatever the predicate calls cannot write.
    """
    from psycopg import sql

    require_primary_key(table)
    selected = sql.Identifier("pg_temp", _SELECTED)
    with transaction_on(conn, read_only=False, statement_timeout=statement_timeout):
        create = sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} (row_key jsonb NOT NULL)")
        conn.execute(create.format(sql.Identifier(_SELECTED)))
        conn.execute(sql.SQL("TRUNCATE {}").format(selected))
    with transaction_on(conn, read_only=True, statement_timeout=statement_timeout):
        matching = conn.execute(
            sql.SQL("INSERT INTO {} SELECT {} FROM {} WHERE {}").format(
                selected, row_key(table), table.identifier, selection.condition
            )
        ).rowcount
    batch_id = new_batch_id()
    with transaction_on(conn, read_only=False, statement_timeout=statement_timeout, snapshot=False):
        require_guard_schema(conn)
        lock_table_batches(conn, table.qualified)
        recorded = conn.execute(
            sql.SQL(
                "INSERT INTO {quarantine} (table_name, row_key, batch_id, reason)"
                " SELECT {name}, k.row_key, {batch}, {reason} FROM {selected} AS k"
                " WHERE NOT EXISTS (SELECT 1 FROM {quarantine} AS q WHERE q.table_name = {name}"
                " AND q.row_key = k.row_key AND q.released_at IS NULL)"
            ).format(
                quarantine=sql.Identifier(GUARD_SCHEMA, "quarantined_rows"),
                name=sql.Literal(table.qualified),
                batch=sql.Literal(batch_id),
                reason=sql.Literal(reason),
                selected=selected,
            )
        ).rowcount
        view_schema, view_name = refresh_clean_view(conn, table)
    return Applied(
        table=table.qualified,
        batch_id=batch_id,
        selection=selection.description,
        reason=reason,
        matching_rows=matching,
        recorded_rows=recorded,
        clean_view=f"{view_schema}.{view_name}",
    )


def refresh_clean_view(conn: psycopg.Connection, table: Table) -> tuple[str, str]:
    """Create or replace ``<schema>.<table>_clean``; refuse to overwrite anything guard did not create."""
    from psycopg import sql

    schema, name = clean_view_name(table)
    existing = conn.execute(
        """
        SELECT c.relkind, coalesce(obj_description(c.oid, 'pg_class'), '')
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = %s AND c.relname = %s
        """,
        (schema, name),
    ).fetchone()
    if existing and (existing[0] != "v" or not existing[1].startswith(VIEW_MARKER)):
        raise GuardError(
            f"{schema}.{name} already exists and was not created by guard; rename or drop it, "
            "then re-run guard quarantine --apply"
        )
    view = sql.Identifier(schema, name)
    conn.execute(
        sql.SQL("CREATE OR REPLACE VIEW {view} AS SELECT * FROM {table} WHERE NOT {active}").format(
            view=view, table=table.identifier, active=actively_quarantined(table)
        )
    )
    comment = (
        f"{VIEW_MARKER}: {table.qualified} without the rows of unreleased batches in guard.quarantined_rows. "
        "Refreshed by `guard quarantine --apply`; do not edit."
    )
    conn.execute(sql.SQL("COMMENT ON VIEW {} IS {}").format(view, sql.Literal(comment)))
    return schema, name


def release(conn: psycopg.Connection, batch_id: str) -> Released:
    """Mark every row of ``batch_id`` released; the clean views then show those rows again.

    Run it in a READ COMMITTED transaction: after the batch lock each statement sees every batch committed
    before it. Keys are unique among active batches, so every row released is back in the clean view.
    """
    require_guard_schema(conn)
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT DISTINCT table_name FROM guard.quarantined_rows WHERE batch_id = %s ORDER BY 1", (batch_id,)
        )
    ]
    for table in tables:  # in name order, so two releases never wait on each other crosswise
        lock_table_batches(conn, table)
    totals = conn.execute(
        "SELECT count(*), count(released_at), coalesce(array_agg(DISTINCT table_name), '{}')"
        " FROM guard.quarantined_rows WHERE batch_id = %s",
        (batch_id,),
    ).fetchone()
    assert totals is not None
    if totals[0] == 0:
        raise GuardError(f"no quarantine batch {batch_id!r}; list batches with `guard release --list`")
    cursor = conn.execute(
        "UPDATE guard.quarantined_rows SET released_at = now(), released_by = session_user"
        " WHERE batch_id = %s AND released_at IS NULL",
        (batch_id,),
    )
    return Released(
        batch_id=batch_id,
        tables=tuple(sorted(totals[2])),
        released_rows=cursor.rowcount,
        already_released=int(totals[1]),
    )


@dataclass(frozen=True)
class Batch:
    batch_id: str
    table: str
    rows: int
    reason: str
    quarantined_by: str
    quarantined_at: dt.datetime
    released_at: dt.datetime | None


def list_batches(conn: psycopg.Connection) -> list[Batch]:
    """Every batch, newest first."""
    require_guard_schema(conn)
    rows = conn.execute(
        """
        SELECT batch_id, table_name, count(*), min(reason), min(quarantined_by), min(quarantined_at), max(released_at)
          FROM guard.quarantined_rows
         GROUP BY batch_id, table_name
         ORDER BY min(quarantined_at) DESC, batch_id
        """
    ).fetchall()
    return [Batch(*row) for row in rows]
