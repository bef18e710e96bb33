"""Which database a statement is for, when Postgres' parser rejects it and it is not PostgreSQL.

guard protects PostgreSQL tables; ClickHouse or MySQL DDL that Postgres' parser rejects is not "SQL guard could
not read", and a write into such a table is not a finding. sqlglot's PostgreSQL reading is lenient, so a
statement it accepts still counts as foreign when its tree holds a construct PostgreSQL does not have
(``ENGINE = MergeTree``, ``AUTO_INCREMENT``, ``INSERT OR REPLACE``, ``ON DUPLICATE KEY``, ``COPY INTO @stage``);
one it rejects is foreign when another dialect reads it. The client a Python module talks through is the other,
stronger signal (:mod:`guard.scan.frontends.python.dialect`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

#: Dialects tried, in order, for a statement PostgreSQL cannot read.
FOREIGN_DIALECTS = ("clickhouse", "mysql", "sqlite", "snowflake", "bigquery")


@dataclass(frozen=True)
class SqlglotReading:
    """sqlglot's reading of a statement: its trees and, when it is not PostgreSQL, the dialect."""

    trees: tuple[Any, ...]
    dialect: str | None = None


def read_statement(text: str, probe_other_dialects: bool = True) -> SqlglotReading | None:
    """sqlglot's reading of a statement Postgres' parser rejected: as PostgreSQL (``dialect`` None) when nothing
    in it betrays another database, else in the dialect it is recognisably written in; None when unreadable.

    ``probe_other_dialects=False`` skips reading it in every other dialect when PostgreSQL's reading fails (a
    statement with holes is broken by what guard cannot know, not by its dialect; five more parses are wasted).
    """
    # sqlglot logs a warning for each statement it can only keep as an opaque "Command"; guard treats those as
    # unreadable itself (and says so in a diagnostic), so the warning is noise on the user's terminal.
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    postgres = _read(text, "postgres")
    if postgres is not None:
        marked = _marker_dialect(postgres)
        if marked is None:
            return SqlglotReading(postgres)  # PostgreSQL as far as anyone can tell: Postgres' own parser disliked it
        trees = _read(text, marked)
        return SqlglotReading(trees if trees is not None else postgres, marked)
    for dialect in FOREIGN_DIALECTS if probe_other_dialects else ():
        trees = _read(text, dialect)
        if trees is not None:
            return SqlglotReading(trees, dialect)
    return None


def foreign_dialect(text: str) -> SqlglotReading | None:
    """The reading of ``text`` when it is recognisably another database's SQL, else None."""
    reading = read_statement(text)
    return reading if reading is not None and reading.dialect is not None else None


def _read(text: str, dialect: str) -> tuple[Any, ...] | None:
    """sqlglot's trees of ``text`` in ``dialect``; None if it cannot read every statement properly."""
    import sqlglot
    from sqlglot import exp

    try:
        trees = sqlglot.parse(text, read=dialect)
    except Exception:
        return None
    if not trees or any(tree is None or isinstance(tree, exp.Command) for tree in trees):
        return None
    return tuple(trees)


def _marker_dialect(trees: tuple[Any, ...]) -> str | None:
    """A dialect betrayed by a construct PostgreSQL does not have, in trees sqlglot read as PostgreSQL."""
    from sqlglot import exp

    for tree in trees:
        for node in tree.walk():
            if isinstance(node, exp.EngineProperty):
                engine = node.this.name if hasattr(node.this, "name") else str(node.this)
                return "mysql" if engine.lower() in ("innodb", "myisam", "memory", "aria") else "clickhouse"
            if isinstance(node, (exp.CharacterSetProperty, exp.CollateProperty)) and isinstance(
                node.parent, exp.Properties
            ):
                return "mysql"
            if isinstance(node, exp.AutoIncrementColumnConstraint):
                return "mysql"
            if isinstance(node, exp.OnConflict) and node.args.get("duplicate"):
                return "mysql"  # ON DUPLICATE KEY UPDATE
            if isinstance(node, exp.Insert) and node.args.get("alternative"):
                return "sqlite"  # INSERT OR REPLACE / OR IGNORE
            if isinstance(node, exp.Copy) and _names_a_stage(node):
                return "snowflake"
    return None


def _names_a_stage(copy: Any) -> bool:
    """``COPY INTO t FROM @stage``: Snowflake loads from stages, PostgreSQL has no such thing."""
    return any(str(item.sql()).startswith("@") for item in copy.args.get("files") or ())


def created_tables(reading: SqlglotReading) -> list[str]:
    """Names of the tables a reading's ``CREATE TABLE`` statements create (as written, unqualified)."""
    from sqlglot import exp

    names: list[str] = []
    for tree in reading.trees:
        if isinstance(tree, exp.Create) and str(tree.args.get("kind", "")).upper() == "TABLE":
            table = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
            if isinstance(table, exp.Table) and table.name:
                qualified = f"{table.db}.{table.name}" if table.db else table.name
                names.extend({qualified, table.name})
    return names
