"""What the database says about tables: columns, their kinds, primary keys, row estimates.

Every watch command starts here so that a table name is resolved once, the way Postgres resolves it
(the configured ``search_path``, unquoted names folded to lower case), and an unknown table or column
fails with a message that names what was looked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from guard.config import normalize_table_name, split_table_name
from guard.errors import GuardError

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

#: column kinds the watch commands care about
TEMPORAL = "temporal"  # date, timestamp, timestamptz
TEXT = "text"  # text, varchar, char, name, enums
NUMERIC = "numeric"
OTHER = "other"

GUARD_SCHEMA = "guard"

_CATALOG_QUERY = """
SELECT n.nspname, c.relname,
       CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint ELSE s.n_live_tup END AS estimated_rows,
       a.attname, format_type(a.atttypid, a.atttypmod) AS type_name,
       CASE
         WHEN bt.typname IN ('date', 'timestamp', 'timestamptz') THEN 'temporal'
         WHEN bt.typcategory IN ('S', 'E') THEN 'text'
         WHEN bt.typcategory = 'N' THEN 'numeric'
         ELSE 'other'
       END AS kind,
       EXISTS (SELECT 1 FROM pg_index ix WHERE ix.indrelid = c.oid AND ix.indkey[0] = a.attnum) AS indexed,
       ARRAY(SELECT pa.attname
               FROM pg_index pk CROSS JOIN LATERAL unnest(pk.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute pa ON pa.attrelid = pk.indrelid AND pa.attnum = k.attnum
              WHERE pk.indrelid = c.oid AND pk.indisprimary
              ORDER BY k.ord) AS primary_key
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  JOIN pg_type t ON t.oid = a.atttypid
  JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
  LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND {filter}
 ORDER BY n.nspname, c.relname, a.attnum
"""


@dataclass(frozen=True)
class Column:
    name: str
    type_name: str
    kind: str  # TEMPORAL | TEXT | NUMERIC | OTHER
    indexed: bool  # leading column of some index, so min/max/range scans can use it


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    estimated_rows: int | None

    @property
    def qualified(self) -> str:
        """``schema.table``, the spelling stored in ``guard.quarantined_rows.table_name``."""
        return f"{self.schema}.{self.name}"

    @property
    def identifier(self) -> sql.Identifier:
        from psycopg import sql

        return sql.Identifier(self.schema, self.name)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def require_column(self, name: str, purpose: str, kinds: Iterable[str] | None = None) -> Column:
        """The column, or a :class:`GuardError` naming the table, the column and why it was wanted."""
        column = self.column(name)
        if column is None:
            known = ", ".join(c.name for c in self.columns)
            raise GuardError(
                f"{self.qualified} has no column {name!r} (wanted as {purpose}); columns are: {known}. "
                "Fix the column name on the command line or in the config."
            )
        allowed = tuple(kinds or ())
        if allowed and column.kind not in allowed:
            raise GuardError(
                f"{self.qualified}.{name} is {column.type_name}, but {purpose} must be a "
                f"{' or '.join(allowed)} column; choose another column in the config."
            )
        return column


def _tables_from_rows(rows: Sequence[tuple]) -> list[Table]:
    grouped: dict[tuple[str, str], list[tuple]] = {}
    for row in rows:
        grouped.setdefault((row[0], row[1]), []).append(row)
    tables = []
    for (schema, name), cols in grouped.items():
        first = cols[0]
        tables.append(
            Table(
                schema=schema,
                name=name,
                columns=tuple(Column(name=r[3], type_name=r[4], kind=r[5], indexed=r[6]) for r in cols),
                primary_key=tuple(first[7]),
                estimated_rows=None if first[2] is None else int(first[2]),
            )
        )
    return tables


def list_tables(conn: psycopg.Connection, schemas: Sequence[str]) -> list[Table]:
    """Ordinary and partitioned tables (not partitions) in ``schemas``, sorted by schema and name."""
    from psycopg import sql

    query = sql.SQL(_CATALOG_QUERY).format(filter=sql.SQL("n.nspname = ANY(%(schemas)s)"))
    rows = conn.execute(query, {"schemas": list(schemas)}).fetchall()
    return _tables_from_rows(rows)


def missing_schemas(conn: psycopg.Connection, schemas: Sequence[str]) -> list[str]:
    """Those of ``schemas`` that do not exist: a typo must not pass as "no tables, nothing stale"."""
    rows = conn.execute(
        "SELECT s FROM unnest(%s::text[]) AS s WHERE NOT EXISTS (SELECT FROM pg_namespace n WHERE n.nspname = s)",
        (list(schemas),),
    ).fetchall()
    return [row[0] for row in rows]


def resolve_table(conn: psycopg.Connection, name: str, search_path: Sequence[str]) -> Table:
    """Find ``name`` (``table`` or ``schema.table``) like Postgres would, or fail naming where we looked."""
    from psycopg import sql

    query = sql.SQL(_CATALOG_QUERY).format(filter=sql.SQL("n.nspname = %(schema)s AND c.relname = %(name)s"))
    if len(split_table_name(name)) > 1:
        candidates = [normalize_table_name(name)]
        where = f"schema {candidates[0].split('.', 1)[0]}"
    else:
        candidates = [normalize_table_name(name, schema) for schema in search_path]
        where = f"schemas {', '.join(search_path)}"
    for candidate in candidates:
        schema, relname = candidate.split(".", 1)
        rows = conn.execute(query, {"schema": schema, "name": relname}).fetchall()
        if rows:
            return _tables_from_rows(rows)[0]
    raise GuardError(
        f"table {name!r} not found (looked in {where}); check --table, or add its schema to search_path in the config"
    )
