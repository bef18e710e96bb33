"""Which table ``guard protect`` is about to guard, checked before a revision is written.

A revision that names a table or column that does not exist fails at ``guard migrate`` — at deploy time, far
from the typo. So the name is resolved and checked now: against the database when ``--dsn`` is given (resolved
through the configured ``search_path`` exactly as the watch commands do), else against the project's own
catalog (the DDL, migrations and models ``guard scan`` reads from the project root). A bare name is resolved
through ``search_path`` and the result is printed, so ``protect jobs`` never silently means ``public.jobs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from guard.config import Config, normalize_table_name, split_table_name
from guard.errors import GuardError
from guard.model import TableInfo


@dataclass(frozen=True)
class ProtectTarget:
    table: str  # schema.table
    #: where the name was checked: "the database", "the project catalog", or "" (nothing to check against)
    checked_in: str
    columns: frozenset[str] | None  # the table's columns when known
    #: the mode guard.protected_tables records for the table (with --dsn), None when not guarded there
    database_mode: str | None = None
    #: how a bare name was resolved, for the user ("jobs -> titan.jobs via search_path titan, public")
    resolution: str = ""


def resolve_target(name: str, config: Config, dsn: str | None) -> ProtectTarget:
    if dsn:
        return _from_database(name, config, dsn)
    return _from_catalog(name, config, _project_catalog(config))


def require_columns(target: ProtectTarget, wanted: Mapping[str, str | None]) -> None:
    """Refuse options naming columns the table does not have (``{"--column": "created_at", ...}``)."""
    if target.columns is None:
        return
    for option, column in wanted.items():
        if column is not None and column not in target.columns:
            known = ", ".join(sorted(target.columns)) or "none"
            raise GuardError(
                f"{target.table} has no column {column!r} ({option}; checked in {target.checked_in}; "
                f"its columns: {known})"
            )


def _bare(name: str) -> bool:
    return len(split_table_name(name)) == 1


def _from_database(name: str, config: Config, dsn: str) -> ProtectTarget:
    from guard.db.session import transaction
    from guard.db.status import guard_installed
    from guard.watch.catalog import resolve_table

    with transaction(dsn, read_only=True) as conn:
        table = resolve_table(conn, name, config.search_path)
        mode = None
        if guard_installed(conn):
            row = conn.execute(
                "SELECT mode FROM guard.protected_tables WHERE table_name = %s", (table.qualified,)
            ).fetchone()
            mode = row[0] if row else None
    resolution = f"{name} -> {table.qualified} (search_path {', '.join(config.search_path)})" if _bare(name) else ""
    return ProtectTarget(
        table=table.qualified,
        checked_in="the database",
        columns=frozenset(c.name for c in table.columns),
        database_mode=mode,
        resolution=resolution,
    )


def _project_catalog(config: Config) -> list[TableInfo]:
    """Every table the project's DDL, migrations and models define (empty without a project root)."""
    from guard.scan.engine import scan

    if config.root is None or config.source is None:
        return []
    return scan(config.root, config).catalog


def _from_catalog(name: str, config: Config, catalog: list[TableInfo]) -> ProtectTarget:
    tables = {info.name: info for info in catalog}
    if _bare(name):
        candidates = [normalize_table_name(name, schema) for schema in config.search_path]
    else:
        candidates = [normalize_table_name(name)]
    found = next((tables[c] for c in candidates if c in tables), None)
    if found is None:
        chosen = candidates[0]
        if tables:
            where = f"schemas {', '.join(config.search_path)}" if _bare(name) else f"schema {chosen.split('.')[0]}"
            raise GuardError(
                f"table {name!r} is not in the project's catalog (looked in {where}; {len(tables)} table(s) known "
                f"from the DDL and models under {config.root}); check the name, pass --dsn to check the database, "
                "or --force if it is created elsewhere"
            )
        resolution = (
            f"{name} -> {chosen} (first schema of search_path; not checked: no DDL found)" if _bare(name) else ""
        )
        return ProtectTarget(table=chosen, checked_in="", columns=None, resolution=resolution)
    resolution = f"{name} -> {found.name} (search_path {', '.join(config.search_path)})" if _bare(name) else ""
    columns = frozenset(found.columns) | frozenset(found.defaults) if found.complete else None
    return ProtectTarget(table=found.name, checked_in="the project catalog", columns=columns, resolution=resolution)


def unchecked(name: str, config: Config) -> ProtectTarget:
    """``--force``: the name as written (a bare one in the first search_path schema), checked nowhere."""
    table = normalize_table_name(name, config.search_path[0])
    resolution = f"{name} -> {table} (first schema of search_path)" if _bare(name) else ""
    return ProtectTarget(table=table, checked_in="", columns=None, resolution=resolution)
