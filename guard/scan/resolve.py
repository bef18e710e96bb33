"""Stage 4b: decide what each parsed write really does to the timestamp column.

The parser reports what the statement says (``INSERT INTO jobs (a, b) ...``); this stage adds what the
catalog and the config know: which schema ``jobs`` lives in, which column is the table's timestamp, whether
its default is now()-like (a *guarded* table), and whether a positional row reaches that column.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence

from guard.config import Config
from guard.model import HOLE_PREFIX, Evidence, ResolvedWrite, Severity, TableInfo, WriteStatement
from guard.scan import evidence
from guard.scan.catalog import Catalog, is_now_like
from guard.scan.entities import EntityInfo

#: Default kinds filled in by the ORM, not the database: they apply only to writes through the model.
APP_DEFAULT_KINDS = frozenset({"orm", "auto_now_add", "auto_now"})
#: Django kinds that overwrite the timestamp on create whatever value the write passes.
OVERWRITING_KINDS = frozenset({"auto_now_add", "auto_now"})

_HOLE = re.compile(re.escape(HOLE_PREFIX) + r"[A-Za-z0-9_]*")


def has_hole(name: str) -> bool:
    """True when an identifier contains a value the extractor could not know."""
    return HOLE_PREFIX in name


def column_list_is_dynamic(write: WriteStatement) -> bool:
    return write.columns is not None and any(has_hole(c) for c in write.columns)


def readable_name(name: str) -> str:
    """``guard_hole_0.jobs`` -> ``{?}.jobs``, for messages."""
    return _HOLE.sub("{?}", name)


class Resolver:
    """Resolves writes against one catalog and config; cheap to call once per write."""

    def __init__(self, catalog: Catalog, config: Config) -> None:
        self.catalog = catalog
        self.config = config
        self._guarded: dict[str, Severity] | None = None

    def resolve(self, write: WriteStatement) -> ResolvedWrite:
        if write.dialect is not None:  # another database's table: not in this catalog, never judged
            column = self.config.timestamp_column
            table = None if not write.table or has_hole(write.table) else write.table
            return ResolvedWrite(write, table, column, None, None, guarded=False, table_known=False)
        if write.entity:
            return self._resolve_entity(write)
        return self._resolve_table(write)

    def _resolve_table(self, write: WriteStatement) -> ResolvedWrite:
        if not write.table or has_hole(write.table):
            column = self.config.timestamp_column
            sets, value = supplies_timestamp(write, column, None)
            return ResolvedWrite(
                write, None, column, sets, value, guarded=False, table_known=False, evidence=write.evidence
            )
        info = self.catalog.lookup(write.table)
        table = info.name if info else self.qualify(write.table)
        column = self.timestamp_column(table, info)
        write = self.with_fields(write, column)
        sets, value = supplies_timestamp(write, column, info)
        return ResolvedWrite(
            write=write,
            table=table,
            timestamp_column=column,
            sets_timestamp=sets,
            timestamp_value=value,
            guarded=self.is_guarded(table, info),
            table_known=self.is_known(table, info),
            default=info.defaults.get(column) if info else None,
            evidence=evidence.merge(
                self._history_copied(write, sets), write.evidence, self._business(write, table, info)
            ),
        )

    def timestamp_column(self, table: str, info: TableInfo | None) -> str:
        """The column whose default is the hazard on ``table``.

        A table's own ``timestamp_column`` in guard.toml wins. Otherwise, when the catalog knows the table, the
        first creation column (global ``timestamp_column``, then ``creation_columns``) it has with a now()-like
        default, else the first it has at all: real schemas call it ``created``, ``inserted_at``, ``createdAt``,
        or store it as epoch milliseconds. A table guard knows nothing about gets the global name.
        """
        table_cfg = self.config.table(table)
        if table_cfg is not None and table_cfg.timestamp_column:
            return table_cfg.timestamp_column
        fallback = self.config.timestamp_column
        if info is None:
            return fallback
        present = creation_columns_of(info, [fallback, *self.config.creation_columns])
        for column in present:
            if is_now_like(info.defaults.get(column)):
                return column
        return present[0] if present else fallback

    def _history_copied(self, write: WriteStatement, sets: bool | None) -> list[Evidence]:
        """``INSERT ... SELECT`` from a relation with a creation or business time of its own that the write
        does not carry: the source's history is about to be stamped with the copy's minute."""
        if sets is not False or not write.sources:
            return []
        for source in write.sources:
            if has_hole(source):
                continue
            info = self.catalog.lookup(source)
            if info is None:
                continue
            own = self.timestamp_column(info.name, info)
            timed = creation_columns_of(info, [own, *self.config.creation_columns])
            timed += evidence.business_date_columns(list(info.columns) or list(info.defaults), own)
            if timed:
                return [Evidence(evidence.HISTORY_COPIED, f"{info.name}.{timed[0]}")]
        return []

    def _business(self, write: WriteStatement, table: str, info: TableInfo | None) -> list[Evidence]:
        """The write sets the table's business date: business time exists, so the load time is a lie."""
        if write.columns is None:
            return []
        table_cfg = self.config.table(table)
        if table_cfg and table_cfg.business_column:
            dates = [table_cfg.business_column]
        else:
            known = list(info.columns) if info else []
            dates = evidence.business_date_columns(known or write.columns, self.timestamp_column(table, info))
        keys = dict(write.record_keys)
        for name in dates:
            if name in write.columns:
                detail = f"{name} <- {keys[name]}" if name in keys else name
                return [Evidence(evidence.BUSINESS_DATE, detail)]
        return []

    def _resolve_entity(self, write: WriteStatement) -> ResolvedWrite:
        """A write through an ORM model: the model gives the table and maps the attribute names the code used to
        columns; a Python-side default of the model counts like a database default, and Django's
        ``auto_now_add`` replaces whatever value the write passes."""
        key = write.entity
        assert key is not None
        model = key.split(":", 1)[-1].rsplit(".", 1)[-1]
        entity = self.catalog.entity(key)
        if entity is not None and entity.name != model:  # a form / serializer standing for its Meta.model
            write = dataclasses.replace(write, entity=entity.key)
        if entity is None and write.table:
            return self._resolve_table(write)  # the builder named its table too
        if entity is None:
            column = self.config.timestamp_column
            sets, value = supplies_timestamp(write, column, None)
            # table_known: a class the tree defines that maps no table is not a model (see not_a_model)
            known = write.inferred or (write.entity_in_tree and self.catalog.entities.is_plain_class(key))
            return ResolvedWrite(
                write, None, column, sets, value, guarded=False, table_known=known, model=model, evidence=write.evidence
            )
        info = self.catalog.lookup(entity.table)
        table = info.name if info else self.qualify(entity.table)
        column = self._entity_column(table, info, entity)
        write = self.with_fields(write, entity.attribute_of(column))
        by_column = _by_column(write, entity)
        sets, value = supplies_timestamp(by_column, column, info)
        default, kind = self._entity_default(entity, column, info)
        if kind in OVERWRITING_KINDS:
            sets, value = False, None
        return ResolvedWrite(
            write=write,
            table=table,
            timestamp_column=column,
            sets_timestamp=sets,
            timestamp_value=value,
            guarded=self.is_guarded(table, info) or kind in APP_DEFAULT_KINDS,
            table_known=True,
            default=default,
            default_kind=kind,
            attribute=entity.attribute_of(column),
            model=entity.name,
            evidence=evidence.merge(write.evidence, self._business(by_column, table, info)),
        )

    def with_fields(self, write: WriteStatement, timestamp: str) -> WriteStatement:
        """The write with the fields of the schema objects its rows carry (``**tag_in.dict()``) named, when the
        catalog knows every class; unchanged (still dynamic) otherwise, or when only some fields may be passed
        (``exclude_unset=True``) and the timestamp is one of them."""
        if not write.fields_of or write.columns is None:
            return write
        names = [name for name in write.columns if not has_hole(name)]
        for path, excluded, partial in write.fields_of:
            fields = self.catalog.entities.fields_of(path)
            if fields is None:
                return write
            fields = [name for name in fields if name not in excluded]
            if partial and timestamp in fields:
                return write
            names += [name for name in fields if name not in names]
        return dataclasses.replace(write, columns=tuple(names), dynamic=False)

    def _entity_column(self, table: str, info: TableInfo | None, entity: EntityInfo) -> str:
        """The timestamp column for a write through a model: as for any table, except that a creation column
        the ORM fills with now() (``default=datetime.utcnow``) counts like one the database fills, and a Django
        ``auto_now_add`` field is the creation time whatever it is called (``placed_at``, ``date``): that is
        what the option means."""
        table_cfg = self.config.table(table)
        if table_cfg is not None and table_cfg.timestamp_column:
            return table_cfg.timestamp_column
        candidates = [self.config.timestamp_column, *self.config.creation_columns]
        for column in candidates:
            if column in entity.app_defaults and entity.kinds.get(column) in APP_DEFAULT_KINDS:
                return column
        column = self.timestamp_column(table, info)
        if info is not None and is_now_like(info.defaults.get(column)):
            return column
        stamped = [c for c in entity.columns if entity.kinds.get(c) == "auto_now_add"]
        return stamped[0] if stamped else column

    @staticmethod
    def _entity_default(entity: EntityInfo, column: str, info: TableInfo | None) -> tuple[str | None, str | None]:
        """The timestamp column's now()-like default and its kind, for a write through the model: the ORM fills
        its own default before the row is sent (SQLAlchemy ``default=`` wins over ``server_default=``), else the
        database's applies."""
        kind = entity.kinds.get(column)
        if column in entity.app_defaults and kind in APP_DEFAULT_KINDS:
            return entity.app_defaults[column], kind
        database = info.defaults.get(column) if info else None
        if database is not None and is_now_like(database):
            return database, "database"
        if kind in APP_DEFAULT_KINDS:  # a model reader that keeps the ORM's default in ``defaults`` (Prisma)
            return entity.defaults.get(column), kind
        return database, "database" if database is not None else None

    def qualify(self, name: str) -> str:
        """Schema-qualify a name the catalog has never seen: a config-listed table on the search_path wins."""
        if "." not in name:
            for schema in self.config.search_path:
                if f"{schema}.{name}" in self.config.tables:
                    return f"{schema}.{name}"
        return self.catalog.qualify(name)

    def is_known(self, table: str, info: TableInfo | None) -> bool:
        """Whether guard can tell if the table has its timestamp column (catalog or config)."""
        if self.config.table(table) is not None:
            return True
        column = self.timestamp_column(table, info)
        return info is not None and (info.complete or info.has_column(column))

    def is_guarded(self, table: str, info: TableInfo | None) -> bool:
        """Config ``guarded`` wins; a config-listed table is guarded unless the catalog proves it lacks the
        column; otherwise the column must have a now()-like default."""
        column = self.timestamp_column(table, info)
        table_cfg = self.config.table(table)
        if table_cfg is not None and table_cfg.guarded is not None:
            return table_cfg.guarded
        if table_cfg is not None:
            return not (info is not None and info.complete and not info.has_column(column))
        if info is not None and info.guard_mode is not None:
            return True  # guard's own protection: the sentinel default means "timestamp required"
        default = info.defaults.get(column) if info else None
        return default is not None and is_now_like(default)

    def guarded_tables(self) -> dict[str, Severity]:
        """Every table known to be guarded, with the severity its findings get."""
        if self._guarded is None:
            self._guarded = self._find_guarded_tables()
        return self._guarded

    def _find_guarded_tables(self) -> dict[str, Severity]:
        names = {info.name: info for info in self.catalog.tables()}
        candidates = set(names) | set(self.config.tables)
        guarded = {}
        for name in sorted(candidates):
            if self.is_guarded(name, names.get(name)):
                guarded[name] = table_severity(self.config, name)
        return guarded

    def guarded_matches(self, name: str) -> list[str]:
        """Guarded tables a partly dynamic name (``{?}.jobs``, ``titan.{?}``) may denote, most severe first.
        A name with no literal part matches nothing: it says nothing about its target."""
        if not _HOLE.sub("", name).strip("._"):
            return []
        pattern = _name_pattern(name, self.config.search_path)
        matches = [(table, sev) for table, sev in self.guarded_tables().items() if pattern.fullmatch(table)]
        return [table for table, _ in sorted(matches, key=lambda item: (-item[1].rank, item[0]))]


def creation_columns_of(info: TableInfo, names: Iterable[str]) -> list[str]:
    """The table's columns that ``names`` denote, in the order of ``names``; a name matches a column of any
    case (``createdAt`` is ``"createdAt"`` when quoted and ``createdat`` when not)."""
    by_lower: dict[str, str] = {}
    for column in [*info.columns, *info.defaults]:
        by_lower.setdefault(column.lower(), column)
    found: list[str] = []
    for name in names:
        match = by_lower.get(name.lower())
        if match is not None and match not in found:
            found.append(match)
    return found


def table_severity(config: Config, table: str | None, found: Sequence[Evidence] = ()) -> Severity:
    """The severity of a finding on ``table``: its own ``severity`` in guard.toml, else ``default_severity``
    when the config sets one, else the rank of the write's evidence (history copied ranks above a live
    single-row create). One definition for the rules and the table summary, so they agree."""
    table_cfg = config.table(table) if table else None
    if table_cfg and table_cfg.severity:
        return table_cfg.severity
    return config.default_severity or evidence.rank(found)


def not_a_model(resolved: ResolvedWrite) -> bool:
    """A "write" through a class of the scanned tree that maps no table (``seen.add(Point(...))``), or an inferred
    write (an instance handed to a helper) of a class that is no known model: not a write."""
    return bool(resolved.write.entity) and resolved.table is None and resolved.table_known


def _by_column(write: WriteStatement, entity: EntityInfo) -> WriteStatement:
    """The write with the model's attribute names replaced by the column names they map to."""
    if write.columns is None:
        return write
    return dataclasses.replace(
        write,
        columns=tuple(entity.column_of(name) for name in write.columns),
        column_values=tuple((entity.column_of(name), value) for name, value in write.column_values),
    )


def supplies_timestamp(write: WriteStatement, column: str, info: TableInfo | None) -> tuple[bool | None, str | None]:
    """(does the write give ``column`` a value, the SQL text of that value). None = cannot tell."""
    if column in write.default_columns:
        return False, None
    if write.columns is not None:
        if column in write.columns:
            return True, write.value_of(column)
        return (None, None) if column_list_is_dynamic(write) else (False, None)
    if write.kind == "copy":
        return True, None  # COPY without a column list reads every column, the timestamp included
    if info is None or not info.complete:
        return None, None
    if column not in info.columns:
        return False, None
    if write.values_width is None:
        return None, None
    index = info.columns.index(column)
    if write.values_width <= index:
        return False, None
    # The parser keys positional values "#1", "#2", ... (1-based), as it has no column names to use.
    position = f"#{index + 1}"
    if position in write.default_columns:
        return False, None
    return True, write.value_of(position)


def _name_pattern(name: str, search_path: Iterable[str]) -> re.Pattern[str]:
    parts = name.split(".")
    if len(parts) == 1:
        schemas = "|".join(re.escape(s) for s in search_path) or "public"
        prefix = f"(?:{schemas})\\."
    else:
        prefix = ""
    regex = "\\.".join(".*".join(re.escape(p) for p in _HOLE.split(part)) for part in parts)
    return re.compile(prefix + regex)
