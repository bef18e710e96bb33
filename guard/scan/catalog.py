"""Stage 4 of the scanner: what the tables look like, merged from every source we have.

Facts found in the scanned tree (DDL in ``.sql`` files and migration strings, Alembic and SQLAlchemy
definitions) are replayed in file order, then the live database's catalog (``--dsn``) is laid over them: the
database is the truth where they disagree. Names are ``schema.table`` folded like Postgres folds them;
unqualified names resolve through ``search_path`` the way Postgres resolves them.

:func:`is_now_like` decides whether a default is "the time of the insert" — the default that turns a
forgotten ``created_at`` into a phantom timestamp.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from typing import Any

from guard.model import SchemaFact, TableInfo
from guard.scan.entities import Entities, EntityInfo, is_model_fact, names_entity
from guard.scan.rollback import is_rollback_path

#: Functions (and SQL value functions) whose value is the time of the insert. ``CURRENT_DATE`` is included:
#: a ``created_on date DEFAULT CURRENT_DATE`` column suffers the same phantom as ``created_at``.
#: ``CURRENT_TIME``/``LOCALTIME`` (time of day only) are not creation timestamps and are left out.
NOW_LIKE = frozenset(
    {
        "now",
        "transaction_timestamp",
        "statement_timestamp",
        "clock_timestamp",
        "current_timestamp",
        "localtimestamp",
        "current_date",
    }
)
_NOW_LIKE_VALUE_FUNCTIONS = frozenset(
    {
        "SVFOP_CURRENT_TIMESTAMP",
        "SVFOP_CURRENT_TIMESTAMP_N",
        "SVFOP_LOCALTIMESTAMP",
        "SVFOP_LOCALTIMESTAMP_N",
        "SVFOP_CURRENT_DATE",
    }
)
#: Qualifiers a now-like function may carry: the system schema, and SQLAlchemy's ``func.now()``/``sa.func.now()``.
_ALLOWED_QUALIFIERS = frozenset({"pg_catalog", "func", "sa", "sqlalchemy"})
#: Functions that keep "the time of the insert" when applied to it: time-zone shifts and truncation.
_TRANSPARENT_FUNCTIONS = frozenset({"timezone", "date_trunc"})
#: The magic string Postgres turns into the current time when cast (``'now'::text::timestamptz``).
_NOW_STRINGS = frozenset({"now"})
#: ``extract(epoch FROM x)`` / ``date_part('epoch', x)``: the instant ``x`` as seconds since 1970.
_EPOCH_FUNCTIONS = frozenset({"extract", "date_part"})
#: Functions that keep an epoch number an epoch number (rounding to whole seconds or milliseconds).
_EPOCH_ROUNDING = frozenset({"floor", "ceil", "ceiling", "round", "trunc"})
#: Scaling an epoch by a constant changes its unit (``* 1000``: milliseconds), not what it means.
_EPOCH_SCALING = frozenset({"*", "/"})
#: ``to_timestamp(epoch)`` turns an epoch number back into an instant.
_FROM_EPOCH = frozenset({"to_timestamp"})


@functools.lru_cache(maxsize=4096)
def is_now_like(default_expr: str | None) -> bool:
    """Whether ``default_expr`` evaluates to the time of the insert.

    True for ``now()``, ``CURRENT_TIMESTAMP``, ``transaction_timestamp()``, ``statement_timestamp()``,
    ``clock_timestamp()``, ``LOCALTIMESTAMP``, ``CURRENT_DATE``, ``'now'::text::timestamptz``, any cast of
    these (``now()::timestamp``), time-zone shifts (``now() AT TIME ZONE 'utc'``, ``timezone('utc', now())``),
    truncation (``date_trunc('second', now())``), the same instant as an epoch number (``(EXTRACT(epoch FROM
    now()) * 1000)::bigint``, ``floor(date_part('epoch', clock_timestamp()))``) and SQLAlchemy spellings
    (``func.now()``, ``text('now()')``).

    False for arithmetic that moves the instant (``now() + interval '30 days'`` is an expiry, not a creation time), for
    constants and for anything that does not parse. The expression is read by Postgres' parser, never by regex.
    """
    if not default_expr or not default_expr.strip():
        return False
    from pglast.parser import parse_sql_json

    try:
        tree = json.loads(parse_sql_json(f"SELECT {default_expr}"))
        statements = tree.get("stmts", [])
        if len(statements) != 1:
            return False
        targets = statements[0]["stmt"]["SelectStmt"]["targetList"]
    except Exception:
        return False
    if len(targets) != 1:
        return False
    value = targets[0]["ResTarget"].get("val")
    return _now_like_node(value) or _epoch_of_now(value)


def _now_like_node(node: Any) -> bool:
    if not isinstance(node, dict) or len(node) != 1:
        return False
    kind, body = next(iter(node.items()))
    if kind == "TypeCast":
        argument = body.get("arg", {})
        constant = argument.get("A_Const", {}).get("sval", {}).get("sval")
        return constant in _NOW_STRINGS or _now_like_node(argument) or _epoch_of_now(argument)
    if kind == "SQLValueFunction":
        return body.get("op") in _NOW_LIKE_VALUE_FUNCTIONS
    if kind == "FuncCall":
        return _now_like_call(body)
    return False


def _now_like_call(call: dict[str, Any]) -> bool:
    names = [part["String"]["sval"].lower() for part in call.get("funcname", []) if "String" in part]
    if not names or not set(names[:-1]) <= _ALLOWED_QUALIFIERS:
        return False
    name = names[-1]
    arguments = call.get("args", [])
    if name in NOW_LIKE:
        return not arguments
    if name in _TRANSPARENT_FUNCTIONS:
        return len(arguments) == 2 and _now_like_node(arguments[1])
    if name in _FROM_EPOCH:
        return len(arguments) == 1 and _epoch_of_now(arguments[0])
    if name == "text" and len(arguments) == 1:  # SQLAlchemy text("now()")
        inner = arguments[0].get("A_Const", {}).get("sval", {}).get("sval")
        return isinstance(inner, str) and is_now_like(inner)
    return False


def _epoch_of_now(node: Any) -> bool:
    """Whether ``node`` is the insert time as a number: ``extract(epoch FROM now())``, cast, rounded or scaled
    by a constant (``* 1000`` for milliseconds). Adding to it (``+ 3600``) moves the instant: not creation time."""
    if not isinstance(node, dict) or len(node) != 1:
        return False
    kind, body = next(iter(node.items()))
    if kind == "TypeCast":
        return _epoch_of_now(body.get("arg"))
    if kind == "A_Expr":
        operator = [part["String"]["sval"] for part in body.get("name", []) if "String" in part]
        if body.get("kind") != "AEXPR_OP" or operator[-1:] not in ([op] for op in _EPOCH_SCALING):
            return False
        left, right = body.get("lexpr"), body.get("rexpr")
        if _is_number(right):
            return _epoch_of_now(left)
        return operator == ["*"] and _is_number(left) and _epoch_of_now(right)
    if kind != "FuncCall":
        return False
    names = [part["String"]["sval"].lower() for part in body.get("funcname", []) if "String" in part]
    if not names or not set(names[:-1]) <= _ALLOWED_QUALIFIERS:
        return False
    arguments = body.get("args", [])
    if names[-1] in _EPOCH_FUNCTIONS and len(arguments) == 2:
        field = _uncast(arguments[0]).get("A_Const", {}).get("sval", {}).get("sval", "")
        return field.lower() == "epoch" and _now_like_node(arguments[1])
    if names[-1] in _EPOCH_ROUNDING and arguments:
        return _epoch_of_now(arguments[0]) and all(_is_number(argument) for argument in arguments[1:])
    return False


def _is_number(node: Any) -> bool:
    constant = _uncast(node).get("A_Const", {})
    return "ival" in constant or "fval" in constant


def _uncast(node: Any) -> dict[str, Any]:
    """``node`` without casts: the live catalog prints constants as ``(1000)::double precision``."""
    while isinstance(node, dict) and "TypeCast" in node:
        node = node["TypeCast"].get("arg")
    return node if isinstance(node, dict) else {}


class Catalog:
    """Tables by qualified name, built from schema facts and the live database."""

    def __init__(self, search_path: Sequence[str] = ("public",)) -> None:
        schemas = [schema.strip().strip('"') for schema in search_path if schema.strip() not in ("$user", "")]
        self.search_path: tuple[str, ...] = tuple(schemas) or ("public",)
        self._tables: dict[str, TableInfo] = {}
        self.entities = Entities(())

    @classmethod
    def build(
        cls,
        facts: Iterable[SchemaFact],
        live: Iterable[TableInfo] = (),
        search_path: Sequence[str] = ("public",),
    ) -> Catalog:
        """Replay ``facts`` (sorted by file, then line: migrations sort chronologically), then lay the ORM models
        over them (a model fills in a table nothing else defines, and adds the defaults the migrations do not
        show), then apply ``live``.

        Facts from rollback scripts (``down/``, ``*.down.sql``...) undo a migration and are skipped."""
        catalog = cls(search_path)
        facts = list(facts)
        for fact in sorted(facts, key=lambda fact: (fact.relpath, fact.line)):
            if not is_model_fact(fact) and not is_rollback_path(fact.relpath):
                catalog._apply(fact)
        catalog.entities = Entities(fact for fact in facts if names_entity(fact))
        for entity in catalog.entities:
            catalog._apply_entity(entity)
        for info in live:
            catalog._apply_live(info)
        return catalog

    def lookup(self, name: str) -> TableInfo | None:
        """The table ``name`` (as written, already folded) refers to, resolving unqualified names by search_path."""
        parts = name.split(".")
        if len(parts) > 1:
            return self._tables.get(".".join(parts[-2:]))
        for schema in self.search_path:
            info = self._tables.get(f"{schema}.{name}")
            if info is not None:
                return info
        return None

    def qualify(self, name: str) -> str:
        """``jobs`` -> ``public.jobs``: the first search_path schema holding it, else the first schema."""
        parts = name.split(".")
        if len(parts) > 1:
            return ".".join(parts[-2:])
        info = self.lookup(name)
        return info.name if info is not None else f"{self.search_path[0]}.{name}"

    def entity(self, key: str) -> EntityInfo | None:
        """The ORM model ``key`` names (``sqlalchemy:app.models.Job``), None when the tree does not map it."""
        return self.entities.lookup(key)

    def tables(self) -> list[TableInfo]:
        return sorted(self._tables.values(), key=lambda info: info.name)

    # -- replaying facts -------------------------------------------------------------------------------------

    def _apply(self, fact: SchemaFact) -> None:
        name = self.qualify(fact.table)
        source = f"{fact.origin}:{fact.relpath}:{fact.line}"
        handler = _FACT_HANDLERS.get(fact.action)
        if handler is not None:
            handler(self, name, fact, source)

    def _table(self, name: str, source: str) -> TableInfo:
        info = self._tables.get(name)
        if info is None:
            info = self._tables[name] = TableInfo(name=name)
        if source not in info.sources:
            info.sources.append(source)
        return info

    def _create(self, name: str, fact: SchemaFact, source: str) -> None:
        earlier = self._tables.get(name)
        info = TableInfo(
            name=name,
            columns=list(fact.columns),
            defaults=database_defaults(fact),
            complete=True,
            sources=[source],
            default_kinds={c: k for c, k in fact.default_kinds if k != "database"},
        )
        if earlier is not None and not earlier.complete:
            # Columns added by facts that sorted before the CREATE (another file) are kept, after the CREATE's.
            info.columns.extend(column for column in earlier.columns if column not in info.columns)
            info.defaults = {**earlier.defaults, **info.defaults}
            info.sources = [*earlier.sources, source]
        self._tables[name] = info

    def _create_if_missing(self, name: str, fact: SchemaFact, source: str) -> None:
        """``CREATE TABLE IF NOT EXISTS``: a no-op when an earlier CREATE already made the table."""
        earlier = self._tables.get(name)
        if earlier is None or not earlier.complete:
            self._create(name, fact, source)

    def _add_column(self, name: str, fact: SchemaFact, source: str) -> None:
        info = self._table(name, source)
        info.columns.extend(column for column in fact.columns if column not in info.columns)
        info.defaults.update(database_defaults(fact))

    def _drop_column(self, name: str, fact: SchemaFact, source: str) -> None:
        info = self._table(name, source)
        for column in fact.columns:
            if column in info.columns:
                info.columns.remove(column)
            info.defaults.pop(column, None)

    def _set_default(self, name: str, fact: SchemaFact, source: str) -> None:
        info = self._table(name, source)
        for column, expression in fact.defaults:
            if column not in info.columns:
                info.columns.append(column)  # the column exists, or its default could not be set
            info.defaults[column] = expression

    def _drop_default(self, name: str, fact: SchemaFact, source: str) -> None:
        info = self._table(name, source)
        for column in fact.columns:
            info.defaults.pop(column, None)

    def _drop_table(self, name: str, fact: SchemaFact, source: str) -> None:
        self._tables.pop(name, None)

    def _rename_table(self, name: str, fact: SchemaFact, source: str) -> None:
        if not fact.new_name:
            return
        schema = name.rsplit(".", 1)[0]
        new_name = fact.new_name if "." in fact.new_name else f"{schema}.{fact.new_name}"
        info = self._tables.pop(name, None) or TableInfo(name=name)
        info.name = new_name
        info.sources.append(source)
        self._tables[new_name] = info

    def _rename_column(self, name: str, fact: SchemaFact, source: str) -> None:
        info = self._table(name, source)
        if not fact.columns or not fact.new_name:
            return
        old, new = fact.columns[0], fact.new_name
        info.columns = [new if column == old else column for column in info.columns]
        if old in info.defaults:
            info.defaults[new] = info.defaults.pop(old)

    def _partition_of(self, name: str, fact: SchemaFact, source: str) -> None:
        parent = self.lookup(fact.new_name or "")
        info = self._table(name, source)
        if parent is not None:
            info.columns = list(parent.columns)
            info.defaults = dict(parent.defaults)
            info.complete = parent.complete

    def _apply_entity(self, entity: EntityInfo) -> None:
        """A model's table: created from the model when nothing else defined it; otherwise the DDL's shape is
        kept and only defaults it does not show are added. Python-side defaults are recorded by kind only:
        ``defaults`` stays what the database itself does."""
        name = self.qualify(entity.table)
        source = f"model:{entity.relpath}:{entity.line}"
        info = self._tables.get(name)
        database = {
            c: d
            for c, d in entity.defaults.items()
            if entity.kinds.get(c, "database") == "database" or c in entity.app_defaults
        }
        if info is None:
            info = self._tables[name] = TableInfo(
                name=name, columns=list(entity.columns), defaults=database, complete=True, sources=[source]
            )
        else:
            info.sources.append(source)
            for column in entity.columns:
                if column not in info.columns and not info.complete:
                    info.columns.append(column)
            for column, default in database.items():
                info.defaults.setdefault(column, default)
        for column, kind in entity.kinds.items():
            if kind != "database":
                info.default_kinds.setdefault(column, kind)

    def _apply_live(self, live: TableInfo) -> None:
        info = self._table(live.name, "database")
        info.columns = list(live.columns)
        info.defaults = dict(live.defaults)
        info.complete = True
        info.guard_mode = live.guard_mode


def database_defaults(fact: SchemaFact) -> dict[str, str]:
    """The defaults of a fact that the database itself applies (not those an ORM fills in)."""
    kinds, separate = dict(fact.default_kinds), dict(fact.app_defaults)
    return {
        column: text
        for column, text in fact.defaults
        if kinds.get(column, "database") == "database" or column in separate
    }


_FACT_HANDLERS = {
    "create": Catalog._create,
    "create_if_missing": Catalog._create_if_missing,
    "add_column": Catalog._add_column,
    "drop_column": Catalog._drop_column,
    "set_default": Catalog._set_default,
    "drop_default": Catalog._drop_default,
    "drop_table": Catalog._drop_table,
    "rename_table": Catalog._rename_table,
    "rename_column": Catalog._rename_column,
    "partition_of": Catalog._partition_of,
}
