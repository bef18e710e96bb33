"""The statements a guard migration runs, rendered once in Python: what ``guard migrate`` executes is what
``guard migrate --sql`` prints.

0.1 wrapped each step in a call to a schema function (``SELECT guard.protect_table(...)``), so a DBA reviewing
the script, or a migration linter such as squawk, could not see which locks were taken or what changed. Every
guard operation is now a list of plain statements (``LOCK TABLE``, ``ALTER TABLE ... SET DEFAULT``,
``ADD CONSTRAINT ... NOT VALID``, ``CREATE OR REPLACE TRIGGER``, the registry row), built here from the
operation's settings and, where the old state matters (the default to restore on unguard), from the registry
row read from the database.

Statements are written so the text does not depend on the table's current state: the registry row captures
the original default and whether the ingestion column exists with ``INSERT ... SELECT`` from the catalog at run
time, and the ingestion column is added with ``IF NOT EXISTS``. So the offline script and the online run are the
same text. The checks that only reject bad input (``guard.require_column``/``guard.require_mode``) stay calls
of the schema's check functions: they change nothing and lock nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from guard.db.intervals import margin_literal

#: the value guard puts in an omitted timestamp: no real row can hold it, and the CHECK rejects it
SENTINEL = "-infinity"
TIMESTAMP_TYPES = ("timestamp with time zone", "timestamp without time zone")
BUSINESS_TYPES = (*TIMESTAMP_TYPES, "date")
#: guard's triggers, in the order ``unguard`` drops them
TRIGGERS = ("zz_guard_burst", "zz_guard_burst_row", "zz_guard_report", "zz_guard_omitted_timestamp")
#: PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes
_MAX_IDENTIFIER_BYTES = 63


@dataclass(frozen=True)
class GuardSettings:
    """How one table is guarded: what ``op.guard_table`` takes and ``guard.protected_tables`` records."""

    column: str = "created_at"
    business_column: str | None = None
    mode: str = "audit"
    min_rows: int = 100
    window: str = "1 minute"
    min_span: str = "180 days"
    ingested_column: str | None = "warehouse_ingested_at"


@dataclass(frozen=True)
class GuardState:
    """A guarded table's registry row: its settings plus what unguarding must put back."""

    settings: GuardSettings
    original_default: str | None
    ingested_column_added: bool


def _table(table: str) -> sql.Composable:
    schema, _, name = table.partition(".")
    return sql.Identifier(schema, name)


def _text(statement: sql.Composable) -> str:
    return statement.as_string(None)


def check_name(table: str, column: str) -> str:
    """The CHECK constraint's name; the same rule as ``guard.check_name()`` in the schema (tested equal)."""
    name = f"{table.partition('.')[2]}_{column}_must_be_explicit"
    while len(name.encode("utf-8")) > _MAX_IDENTIFIER_BYTES:
        name = name[:-1]
    return name


def lock_statement(table: str, mode: str) -> str:
    return _text(sql.SQL("LOCK TABLE {} IN {} MODE").format(_table(table), sql.SQL(mode)))


def _require_column(table: str, column: str, types: tuple[str, ...], role: str) -> str:
    return _text(
        sql.SQL("SELECT guard.require_column({}::regclass, {}, ARRAY[{}], {})").format(
            sql.Literal(_text(_table(table))),
            sql.Literal(column),
            sql.SQL(", ").join(sql.Literal(t) for t in types),
            sql.Literal(role),
        )
    )


def _require_mode(table: str, mode: str, business_column: sql.Composable) -> str:
    return _text(
        sql.SQL("SELECT guard.require_mode({}::regclass, {}, {})").format(
            sql.Literal(_text(_table(table))), sql.Literal(mode), business_column
        )
    )


def protect_statements(table: str, settings: GuardSettings) -> list[str]:
    """Guard ``table``: checks, one ACCESS EXCLUSIVE lock taken first, the registry row, the ALTERs, triggers.

    The CHECK constraint is added ``NOT VALID`` (a catalog change, no scan); :func:`validate_statement` checks
    the stored rows later under a weaker lock.
    """
    s = settings
    target = _table(table)
    statements = [
        _require_mode(table, s.mode, sql.Literal(s.business_column)),
        _require_column(table, s.column, TIMESTAMP_TYPES, "timestamp column"),
    ]
    if s.business_column is not None:
        statements.append(_require_column(table, s.business_column, BUSINESS_TYPES, "business column"))
    statements.append(lock_statement(table, "ACCESS EXCLUSIVE"))
    regclass = sql.SQL("{}::regclass").format(sql.Literal(_text(target)))
    # Read from the catalog when it runs, so this text is right whatever the table looks like then.
    statements.append(
        _text(
            sql.SQL(
                "INSERT INTO guard.protected_tables (table_name, timestamp_column, business_column, ingested_column,"
                " ingested_column_added, mode, original_default, min_rows, window_interval, min_span)"
                " SELECT {name}, {column}, {business}, {ingested}, {added}, {mode},"
                " (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid) FROM pg_catalog.pg_attrdef AS d"
                " JOIN pg_catalog.pg_attribute AS a ON a.attrelid = d.adrelid AND a.attnum = d.adnum"
                " WHERE d.adrelid = {regclass} AND a.attname = {column}),"
                " {min_rows}, {window}::interval, {min_span}::interval"
            ).format(
                name=sql.Literal(table),
                column=sql.Literal(s.column),
                business=sql.Literal(s.business_column),
                ingested=sql.Literal(s.ingested_column),
                added=(
                    sql.SQL(
                        "NOT EXISTS (SELECT FROM pg_catalog.pg_attribute WHERE attrelid = {} AND attname = {}"
                        " AND NOT attisdropped)"
                    ).format(regclass, sql.Literal(s.ingested_column))
                    if s.ingested_column is not None
                    else sql.SQL("false")
                ),
                mode=sql.Literal(s.mode),
                regclass=regclass,
                min_rows=sql.Literal(s.min_rows),
                window=sql.Literal(s.window),
                min_span=sql.Literal(s.min_span),
            )
        )
    )
    if s.ingested_column is not None:
        ingested = sql.Identifier(s.ingested_column)
        # Nullable first, default second: stored rows stay NULL instead of being stamped with today.
        statements.append(
            _text(sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} timestamptz").format(target, ingested))
        )
        statements.append(_text(sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT now()").format(target, ingested)))
    column = sql.Identifier(s.column)
    statements.append(
        _text(sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}").format(target, column, sql.Literal(SENTINEL)))
    )
    # OR short-circuits: guard.reject_omitted() runs only for a row holding the sentinel, and raises.
    statements.append(
        _text(
            sql.SQL(
                "ALTER TABLE {} ADD CONSTRAINT {}"
                " CHECK ({} IS NULL OR {} <> {} OR guard.reject_omitted({}, {})) NOT VALID"
            ).format(
                target,
                sql.Identifier(check_name(table, s.column)),
                column,
                column,
                sql.Literal(SENTINEL),
                sql.Literal(table),
                sql.Literal(s.column),
            )
        )
    )
    statements.extend(trigger_statements(table, s, replacing=False))
    return statements


def trigger_statements(table: str, settings: GuardSettings, *, replacing: bool) -> list[str]:
    """The triggers of ``settings.mode``; ``replacing``: the table may have another mode's triggers to drop.

    Enforce mode needs no row trigger (the CHECK constraint enforces); audit and quarantine divert or count
    the sentinel row by row and report per statement. The burst guard needs a business column.
    """
    s = settings
    target = _table(table)
    statements = []
    column, mode, name = sql.Literal(s.column), sql.Literal(s.mode), sql.Literal(table)
    if s.mode == "enforce":
        if replacing:
            statements += [
                _text(sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(sql.Identifier(trigger), target))
                for trigger in ("zz_guard_omitted_timestamp", "zz_guard_report")
            ]
    else:
        statements.append(
            _text(
                sql.SQL(
                    "CREATE OR REPLACE TRIGGER zz_guard_omitted_timestamp BEFORE INSERT ON {} FOR EACH ROW"
                    " WHEN (NEW.{} = {}) EXECUTE FUNCTION guard.on_omitted_timestamp({}, {}, {})"
                ).format(target, sql.Identifier(s.column), sql.Literal(SENTINEL), column, mode, name)
            )
        )
        statements.append(
            _text(
                sql.SQL(
                    "CREATE OR REPLACE TRIGGER zz_guard_report AFTER INSERT ON {} FOR EACH STATEMENT"
                    " EXECUTE FUNCTION guard.on_insert_report({}, {}, {})"
                ).format(target, column, mode, name)
            )
        )
    if s.business_column is not None:
        statements.append(_burst_row_trigger(table, s, s.business_column))
        statements.append(
            _text(
                sql.SQL(
                    "CREATE OR REPLACE TRIGGER zz_guard_burst AFTER INSERT ON {} FOR EACH STATEMENT"
                    " EXECUTE FUNCTION guard.on_insert_burst({}, {}, {}, {}, {}, {}, {})"
                ).format(
                    target,
                    column,
                    sql.Literal(s.business_column),
                    mode,
                    sql.Literal(str(s.min_rows)),
                    sql.Literal(s.window),
                    sql.Literal(s.min_span),
                    name,
                )
            )
        )
    return statements


def _burst_row_trigger(table: str, s: GuardSettings, business_column: str) -> str:
    """The burst guard's row trigger (schema 1.3): only rows stamped no earlier than the margin before their
    transaction began, whose business date is more than the margin from that stamp, reach PL/pgSQL and the tally
    (see triggers/guard--1.2--1.3.sql: a backfill of history fails the first comparison and costs nothing more).
    The margin is a literal, as ``guard.install_triggers`` writes it, computed here from the settings
    (:mod:`guard.db.intervals`), so this text is the same offline; for settings in months or years, a call of
    ``guard.burst_margin`` instead."""
    stamp, business = sql.Identifier(s.column), sql.Identifier(business_column)
    literal = margin_literal(s.window, s.min_span)
    margin = (
        sql.SQL("{}::interval").format(sql.Literal(literal))
        if literal is not None
        else sql.SQL("guard.burst_margin({}, {})").format(sql.Literal(s.window), sql.Literal(s.min_span))
    )
    return _text(
        sql.SQL(
            "CREATE OR REPLACE TRIGGER zz_guard_burst_row AFTER INSERT ON {target} FOR EACH ROW"
            " WHEN (NEW.{stamp}::timestamptz > pg_catalog.now() - {margin}"
            " AND (NEW.{business}::timestamptz < NEW.{stamp}::timestamptz - {margin}"
            " OR NEW.{business}::timestamptz > NEW.{stamp}::timestamptz + {margin}))"
            " EXECUTE FUNCTION guard.on_burst_row({column}, {business_name}, {mode}, {name})"
        ).format(
            target=_table(table),
            business=business,
            stamp=stamp,
            margin=margin,
            column=sql.Literal(s.column),
            business_name=sql.Literal(business_column),
            mode=sql.Literal(s.mode),
            name=sql.Literal(table),
        )
    )


def validate_statement(table: str, column: str) -> str:
    """Check the stored rows against the constraint (SHARE UPDATE EXCLUSIVE: writers go on)."""
    return _text(
        sql.SQL("ALTER TABLE {} VALIDATE CONSTRAINT {}").format(
            _table(table), sql.Identifier(check_name(table, column))
        )
    )


def set_mode_statements(table: str, settings: GuardSettings, from_mode: str | None) -> list[str]:
    """Move a guarded table to ``settings.mode``: registry row and triggers, under SHARE ROW EXCLUSIVE."""
    statements = [_require_mode(table, settings.mode, sql.Literal(settings.business_column))]
    statements.append(lock_statement(table, "SHARE ROW EXCLUSIVE"))
    expected = sql.SQL(" AND mode = {}").format(sql.Literal(from_mode)) if from_mode is not None else sql.SQL("")
    statements.append(
        _text(
            sql.SQL(
                "UPDATE guard.protected_tables SET mode = {}, mode_changed_at = now() WHERE table_name = {}{}"
            ).format(sql.Literal(settings.mode), sql.Literal(table), expected)
        )
    )
    statements.extend(trigger_statements(table, settings, replacing=True))
    return statements


def unprotect_statements(table: str, state: GuardState) -> list[str]:
    """Remove the guard: triggers, constraint, the original default back, the ingestion column if guard added it."""
    s = state.settings
    target = _table(table)
    statements = [lock_statement(table, "ACCESS EXCLUSIVE")]
    statements += [
        _text(sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(sql.Identifier(trigger), target))
        for trigger in TRIGGERS
    ]
    statements.append(
        _text(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}").format(
                target, sql.Identifier(check_name(table, s.column))
            )
        )
    )
    column = sql.Identifier(s.column)
    if state.original_default is None:
        statements.append(_text(sql.SQL("ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT").format(target, column)))
    else:
        # pg_get_expr() output recorded by the protect step from the catalog, not user input.
        statements.append(
            _text(
                sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}").format(
                    target, column, sql.SQL(state.original_default)
                )
            )
        )
    if state.ingested_column_added and s.ingested_column is not None:
        statements.append(
            _text(sql.SQL("ALTER TABLE {} DROP COLUMN IF EXISTS {}").format(target, sql.Identifier(s.ingested_column)))
        )
    statements.append(
        _text(sql.SQL("DELETE FROM guard.protected_tables WHERE table_name = {}").format(sql.Literal(table)))
    )
    return statements


#: the registry rows as :class:`GuardState` fields, for :func:`read_states`
STATE_SQL = """
SELECT table_name, timestamp_column, business_column, mode, min_rows, window_interval::text, min_span::text,
       ingested_column, original_default, ingested_column_added
FROM guard.protected_tables
"""


def state_from_row(row: tuple[object, ...]) -> tuple[str, GuardState]:
    """One ``STATE_SQL`` row as ``(table, state)``."""
    table, column, business, mode, min_rows, window, min_span, ingested, default, added = row
    settings = GuardSettings(
        column=str(column),
        business_column=None if business is None else str(business),
        mode=str(mode),
        min_rows=int(str(min_rows)),
        window=str(window),
        min_span=str(min_span),
        ingested_column=None if ingested is None else str(ingested),
    )
    return str(table), GuardState(settings, None if default is None else str(default), bool(added))
