"""ORM entities over the whole tree: which table a model maps to, its attribute -> column map, its defaults.

Model facts (:mod:`guard.scan.frontends.python.models`, and other languages' model readers) each describe one class as
written in one module; its columns may come from mixins and abstract bases defined elsewhere, its table name
from a base's naming rule (``declared_attr`` ``__tablename__``, Flask-SQLAlchemy, SQLModel) and its schema from a
base's ``MetaData(schema=...)``. This joins them: a class's columns are its own, then its bases' in order
(its own win), like Python's attribute lookup. A class is an entity when it ends up with a table.

Entity keys are ``<family>:<path>`` (``sqlalchemy:app.models.Job``); bases are named by path, and a write's
key is looked up by path too, so a key's family never decides anything. A path not defined in the tree may be
a re-export (``from app.models import Job`` with ``Job`` defined in ``app/models/job.py``): the class of that
name defined under the imported package is taken when there is exactly one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from guard.model import PROXY, SchemaFact

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
MAX_DEPTH = 12
_ORM_PACKAGES = ("sqlalchemy.", "sqlmodel.", "django.", "flask_sqlalchemy.")

#: Bases of schema classes that add no fields of a row: the libraries' roots and typing helpers.
_SCHEMA_ROOTS = ("pydantic.", "sqlmodel.", "typing.", "typing_extensions.", "abc.", "enum.")


@dataclass
class EntityInfo:
    """One mapped class, after inheritance: ``table`` as written (qualified if the model qualified it)."""

    key: str
    table: str
    columns: list[str] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)  # attribute -> column, where they differ
    defaults: dict[str, str] = field(default_factory=dict)  # column -> expression text
    kinds: dict[str, str] = field(default_factory=dict)  # column -> "database" | "orm" | "auto_now_add" | ...
    app_defaults: dict[str, str] = field(default_factory=dict)  # column -> default the ORM fills in
    relpath: str = ""
    line: int = 0

    @property
    def name(self) -> str:
        """The class name (``Job``), for messages; JS/TS keys put it after ``#`` (``drizzle:src/db/x.ts#jobs``)."""
        return self.key.rsplit("#", 1)[-1] if "#" in self.key else self.key.rsplit(".", 1)[-1]

    def column_of(self, attribute: str) -> str:
        return self.attributes.get(attribute, attribute)

    def attribute_of(self, column: str) -> str:
        return next((a for a, c in self.attributes.items() if c == column), column)


@dataclass
class _Merged:
    columns: list[str] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    app_defaults: dict[str, str] = field(default_factory=dict)
    naming: str = ""
    schema: str = ""
    parent_table: str = ""


def is_model_fact(fact: SchemaFact) -> bool:
    """A class-level model fact (resolved over the tree here, not replayed as DDL)."""
    return fact.action in ("entity", "mixin") and bool(fact.entity)


def names_entity(fact: SchemaFact) -> bool:
    """Any fact that says "entity E is table T": model facts, and ``create`` facts of model readers that see the
    whole definition at once (Prisma, Drizzle)."""
    return bool(fact.entity) and fact.action in ("entity", "mixin", "create", "create_if_missing")


class Entities:
    """Every entity the tree's model facts define, resolved lazily and cached."""

    def __init__(self, facts: Iterable[SchemaFact]) -> None:
        self._by_path: dict[str, SchemaFact] = {}
        self._by_name: dict[str, list[str]] = {}
        for fact in sorted(facts, key=lambda f: (f.relpath, f.line)):
            path = _path(fact.entity)
            self._by_path[path] = fact
            self._by_name.setdefault(path.rsplit(".", 1)[-1], []).append(path)
        self._merged: dict[str, _Merged | None] = {}
        self._resolved: dict[str, EntityInfo | None] = {}

    def __iter__(self) -> Iterator[EntityInfo]:
        for path in self._by_path:
            info = self.lookup(path)
            if info is not None and info.key == self._by_path[path].entity:
                yield info

    def lookup(self, key: str) -> EntityInfo | None:
        """The entity ``key`` (``family:path`` or ``path``) denotes, or None when the tree does not map it."""
        path = self._find(_path(key))
        if path is None:
            return None
        if path not in self._resolved:
            self._resolved[path] = self._resolve(path)
        return self._resolved[path]

    def is_plain_class(self, key: str) -> bool:
        """Whether a class the tree defines (the caller knows it does) is not a model at all
        (``seen.add(Point(...))``): model definitions always reach the catalog, and this one either did not or
        shows nothing of a model. A model whose table guard cannot work out is not plain: it is reported."""
        found = self._find(_path(key))
        return found is None or not self._looks_mapped(found, 0)

    def _looks_mapped(self, path: str, depth: int) -> bool:
        """Whether a class the tree defines is meant to be a model: it declares columns or a table, or derives
        from an ORM's base (directly or through the tree's own bases)."""
        fact = self._by_path[path]
        if fact.columns or fact.table or fact.naming or depth > MAX_DEPTH:
            return True
        for base in fact.bases:
            if base.startswith(_ORM_PACKAGES):
                return True
            found = self._find(base)
            if found is not None and found != path and self._looks_mapped(found, depth + 1):
                return True
        return False

    def fields_of(self, key: str, depth: int = 0) -> list[str] | None:
        """The fields of a schema class (pydantic, SQLModel) the tree defines, its bases' included; None when
        they cannot all be known (a base outside the tree that is not the library's own root, ``**extra``)."""
        path = self._find(_path(key))
        if path is None or depth > MAX_DEPTH:
            return None
        fact = self._by_path[path]
        fields = list(fact.fields)
        for base in fact.bases:
            if base.startswith(_SCHEMA_ROOTS):
                continue
            inherited = self.fields_of(base, depth + 1)
            if inherited is None:
                return None
            fields += [name for name in inherited if name not in fields]
        return fields

    def _find(self, path: str) -> str | None:
        if path in self._by_path:
            return path
        module, _, name = path.rpartition(".")
        under = [p for p in self._by_name.get(name, []) if p.startswith(module + ".")]
        return under[0] if len(under) == 1 else None

    def _resolve(self, path: str) -> EntityInfo | None:
        fact = self._by_path[path]
        if fact.action == "mixin":
            return None
        if fact.naming == PROXY:
            return self.lookup(fact.bases[0]) if fact.bases else None
        merged = self._merge(path, 0)
        if merged is None:
            return None
        table = fact.table
        if not table:
            name = path.rsplit(".", 1)[-1]
            if merged.naming == "lower":
                table = name.lower()
            elif merged.naming == "snake":
                table = _CAMEL.sub("_", name).lower()
            else:
                table = merged.parent_table
        if table and merged.schema and "." not in table:
            table = f"{merged.schema}.{table}"  # a base's MetaData(schema=...)
        if not table:
            return None
        return EntityInfo(
            key=fact.entity,
            table=table,
            columns=merged.columns,
            attributes=merged.attributes,
            defaults=merged.defaults,
            kinds=merged.kinds,
            app_defaults=merged.app_defaults,
            relpath=fact.relpath,
            line=fact.line,
        )

    def _merge(self, path: str, depth: int) -> _Merged | None:
        if path in self._merged:
            return self._merged[path]
        self._merged[path] = None  # a cycle stops here
        fact = self._by_path.get(path)
        if fact is None or depth > MAX_DEPTH:
            return None
        merged = _Merged(
            columns=list(fact.columns),
            attributes=dict(fact.attributes),
            defaults=dict(fact.defaults),
            kinds=dict(fact.default_kinds),
            app_defaults=dict(fact.app_defaults),
            naming=fact.naming,
            schema=fact.schema,
        )
        own_attributes = {merged.attributes.get(c, c) for c in fact.columns} | set(merged.attributes)
        for base in fact.bases:
            found = self._find(base)
            inherited = self._merge(found, depth + 1) if found is not None else None
            if inherited is None:
                continue
            for column in inherited.columns:
                attribute = next((a for a, c in inherited.attributes.items() if c == column), column)
                if attribute in own_attributes or column in merged.columns:
                    continue
                merged.columns.append(column)
                if attribute != column:
                    merged.attributes[attribute] = column
                if column in inherited.defaults:
                    merged.defaults[column] = inherited.defaults[column]
                if column in inherited.app_defaults:
                    merged.app_defaults[column] = inherited.app_defaults[column]
                if column in inherited.kinds:
                    merged.kinds[column] = inherited.kinds[column]
            merged.naming = merged.naming or inherited.naming
            merged.schema = merged.schema or inherited.schema
            base_fact = self._by_path[found]  # type: ignore[index]
            if not merged.parent_table and base_fact.action == "entity":
                merged.parent_table = base_fact.table or inherited.parent_table
        self._merged[path] = merged
        return merged


def _path(key: str) -> str:
    return key.split(":", 1)[1] if ":" in key else key
