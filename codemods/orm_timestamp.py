"""The libcst edits behind ``guard patch`` for ORM and query-builder writes.

An ORM write has no SQL to edit: the fix is one more keyword or key where the row is built, named by the
model's *attribute* (``created=...`` when ``created = Column("created_at", ...)``):

* a model constructor - ``Job(status=s)`` -> ``Job(status=s, created_at=<value>)`` (``session.add``, ``add_all``,
  ``merge``, ``bulk_save_objects``, Django ``bulk_create`` and ``save()``);
* a Django manager call - ``create(...)`` gets the keyword; ``get_or_create`` gets the key in its ``defaults``
  (added when absent), ``update_or_create`` in its ``create_defaults`` (``defaults`` also applies on update);
* a Core statement - the ``.values(...)`` call (keywords, a dict, a list of dicts) or the rows passed to
  ``execute(stmt, rows)`` (dict literals, ``dict(...)``, a comprehension's dict, a list built by appends);
* ``bulk_insert_mappings(Model, rows)`` - the rows, likewise.

The value is the one ``guard patch`` uses for SQL writes (``source_field`` / ``source_expression`` read from
the payload the other values come from, else the flagged ingestion-time fallback).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Protocol

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from guard.codemods.module_index import ModuleIndex
from guard.codemods.sequences import NodeEdit, add_keys, add_keywords
from guard.codemods.values import fallback_code, infer_value
from guard.patch.site import PatchSite, SiteResult
from guard.patch.sql_edit import Unfixable
from guard.scan.frontends.python.models import FORM_SUFFIXES
from guard.scan.frontends.python.orm import VALIDATING_CONSTRUCTORS

#: ``WriteStatement.origin`` values this module patches.
ORM_ORIGINS = frozenset({"sqlalchemy-orm", "sqlalchemy-core", "django", "pandas"})
_RUN = frozenset({"execute", "exec", "execute_async"})
#: Manager calls that create the row (the site's call may be a routing call inside them: ``.using(...)``).
_CREATE_CALLS = frozenset({"create", "get_or_create", "update_or_create"})
_MAX_FOLLOW = 4


class Plan(Protocol):
    needs_datetime: bool

    def add(self, node: cst.CSTNode, edit: NodeEdit) -> None: ...


class OrmSitePatcher:
    """Plans the edit for one ORM site into ``plan``; raises :class:`Unfixable` with the reason."""

    def __init__(self, index: ModuleIndex, site: PatchSite, plan: Plan, result: SiteResult) -> None:
        self.index = index
        self.site = site
        self.plan = plan
        self.result = result
        self.key = site.attribute or site.column
        self.values: list[str] = []
        self.fallbacks: list[str] = []

    def run(self) -> None:
        if self.site.origin == "pandas":
            raise Unfixable(
                f"DataFrame.to_sql writes the frame's columns: add a {self.key} column holding the source time "
                f"to the frame before the call (df[{self.key!r}] = ...)"
            )
        call = _call_at(self.index, self.site.line, self.site.offset)
        if call is None:
            raise Unfixable("no call starts where the scanner found the write: patch by hand")
        call = self._manager_call(call)
        rows = self._rows_of_write(call)
        if all(_has_key(row, self.key) for row in rows):
            self.result.already = True
            return
        for row in rows:
            if not _has_key(row, self.key):
                self._extend(row)
        self.result.fixed = True
        self.result.uses = len(rows)
        self.result.value = " / ".join(dict.fromkeys(self.values))
        self.result.fallback = bool(self.fallbacks)
        self.result.reason = "; ".join(dict.fromkeys(self.fallbacks))

    # -- where the row is -------------------------------------------------------------------------------

    def _manager_call(self, call: cst.Call) -> cst.Call:
        """``Order.objects.using("replica").create(...)`` starts where ``...using(...)`` does: the write is the
        create call around it."""
        current = call
        while True:
            attribute = self.index.parents.get(current)
            outer = self.index.parents.get(attribute) if isinstance(attribute, cst.Attribute) else None
            if not isinstance(outer, cst.Call) or outer.func is not attribute:
                return call
            if _method(outer) in _CREATE_CALLS:
                return outer
            current = outer

    def _rows_of_write(self, call: cst.Call) -> list[Row]:
        method = _method(call)
        if self.site.origin == "sqlalchemy-core" and method != "bulk_insert":
            return self._core_rows(call)
        if method in ("bulk_insert_mappings", "bulk_insert"):
            if len(call.args) < 2:
                raise Unfixable(f"{method}() without rows")
            return self._dict_rows(call.args[1].value, call, 0)
        if method in ("get_or_create", "update_or_create"):
            return [self._defaults(call, method)]
        if method in VALIDATING_CONSTRUCTORS:  # SQLModel: Hero.model_validate(hero_in, update={...})
            return [self._keyword_dict(call, "update")]
        callee = _callee(call)
        if method.startswith("from_"):
            raise Unfixable(
                f"{callee}() builds the row in the model's factory: give the factory the source time and set "
                f"{self.key} there"
            )
        if callee.endswith(FORM_SUFFIXES):
            raise Unfixable(
                f"{callee} saves a row of its Meta.model: set {self.key} on the instance before saving "
                f"(form.instance.{self.key} = ..., serializer.save({self.key}=...))"
            )
        return [call]  # a constructor, or Model.objects.create(...)

    def _defaults(self, call: cst.Call, method: str) -> Row:
        name = "defaults" if method == "get_or_create" else "create_defaults"
        present = any(a.keyword is not None and a.keyword.value == name for a in call.args)
        if not present and method == "update_or_create":
            raise Unfixable(
                f"update_or_create(defaults=...) also applies on update: pass {self.key} in create_defaults= "
                "(Django 5.0+) or set it on the created instance by hand"
            )
        return self._keyword_dict(call, name)

    def _keyword_dict(self, call: cst.Call, name: str) -> Row:
        """The dict passed as ``name=`` (``defaults=``, SQLModel's ``update=``), or a slot adding it."""
        argument = next((a for a in call.args if a.keyword is not None and a.keyword.value == name), None)
        if argument is None:
            return _DefaultsSlot(call, name)
        return self._single_row(argument.value, call, 0)

    def _core_rows(self, insert: cst.Call) -> list[Row]:
        """The ``.values(...)`` of the statement, else the rows of the ``execute`` call that runs it."""
        found: list[Row] = []
        runs: list[cst.Call] = []
        self._follow(insert, found, runs, 0)
        if found:
            return found
        for run in runs:
            if len(run.args) > 1:
                found.extend(self._dict_rows(run.args[1].value, run, 0))
        if not found:
            raise Unfixable("the statement has no .values(...) and is run without rows guard can see")
        return found

    def _follow(self, node: cst.CSTNode, found: list[Row], runs: list[cst.Call], depth: int) -> None:
        current = node
        while True:
            parent = self.index.parents.get(current)
            if isinstance(parent, cst.Attribute) and parent.value is current:
                call = self.index.parents.get(parent)
                if not isinstance(call, cst.Call) or call.func is not parent:
                    return
                if parent.attr.value == "values":
                    found.extend(self._values_rows(call))
                current = call
                continue
            if isinstance(parent, cst.Await):
                current = parent
                continue
            if isinstance(parent, cst.Arg):
                call = self.index.parents.get(parent)
                if isinstance(call, cst.Call) and _method(call) in _RUN and call.args and call.args[0] is parent:
                    runs.append(call)
                return
            if isinstance(parent, cst.Assign) and len(parent.targets) == 1 and depth < _MAX_FOLLOW:
                target = parent.targets[0].target
                if isinstance(target, cst.Name):
                    scope = self.index.scope_of(parent)
                    for use in self.index.name_uses(scope, target.value, target):
                        self._follow(use, found, runs, depth + 1)
            return

    def _values_rows(self, call: cst.Call) -> list[Row]:
        if not call.args:
            raise Unfixable(".values() without arguments")
        if all(a.keyword is not None for a in call.args):
            return [call]
        if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
            raise Unfixable(".values(...) with positional values: name the columns")
        return self._dict_rows(call.args[0].value, call, 0)

    def _dict_rows(self, node: cst.BaseExpression, at: cst.CSTNode, depth: int) -> list[Row]:
        if isinstance(node, cst.List | cst.Tuple):
            if any(isinstance(e, cst.StarredElement) for e in node.elements):
                raise Unfixable("the rows unpack another sequence with *")
            return [self._single_row(e.value, at, depth + 1) for e in node.elements]
        if isinstance(node, cst.ListComp | cst.GeneratorExp):
            return [self._single_row(node.elt, at, depth + 1)]
        if isinstance(node, cst.Name) and depth < _MAX_FOLLOW:
            value = self._only_value(node, at)
            if isinstance(value, cst.List) and not value.elements:
                return self._appended(node.value, at)
            return self._dict_rows(value, at, depth + 1)
        return [self._single_row(node, at, depth + 1)]

    def _single_row(self, node: cst.BaseExpression, at: cst.CSTNode, depth: int) -> cst.CSTNode:
        if isinstance(node, cst.Dict):
            return node
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "dict":
            return node
        if isinstance(node, cst.Name) and depth < _MAX_FOLLOW:
            return self._single_row(self._only_value(node, at), at, depth + 1)
        raise Unfixable(f"the row is a {type(node).__name__}, built where guard cannot extend it")

    def _only_value(self, name: cst.Name, at: cst.CSTNode) -> cst.BaseExpression:
        scope = self.index.scope_of(at)
        values = self.index.assignments(scope, name.value)
        if len(values) != 1:
            where = self.index.binds_as_loop_or_parameter(scope, name.value)
            if where:
                raise Unfixable(f"the row comes from a {where} ({name.value!r}); pass {self.key} there by hand")
            raise Unfixable(f"cannot see where {name.value!r} is built (assigned {len(values)} times here)")
        return values[0]

    def _appended(self, name: str, at: cst.CSTNode) -> list[Row]:
        rows: list[Row] = []
        for node in self.index.walk(self.index.scope_of(at)):
            if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
                receiver = node.func.value
                if isinstance(receiver, cst.Name) and receiver.value == name:
                    if node.func.attr.value == "append" and len(node.args) == 1:
                        rows.append(self._single_row(node.args[0].value, node, 1))
                    elif node.func.attr.value in ("extend", "insert"):
                        raise Unfixable(f"{name}.{node.func.attr.value}() adds rows guard cannot see")
        if not rows:
            raise Unfixable(f"{name} starts empty and no {name}.append(row) is visible")
        return rows

    # -- the edit ---------------------------------------------------------------------------------------

    def _extend(self, row: Row) -> None:
        value = self._value(_row_values(row))
        if isinstance(row, _DefaultsSlot):
            entry = cst.Dict([cst.DictElement(cst.SimpleString(f'"{self.key}"'), value)])
            self.plan.add(row.call, add_keywords([(row.name, entry)]))
        elif isinstance(row, cst.Dict):
            self.plan.add(row, add_keys([(self.key, value)], _key_quote(row)))
        else:
            self.plan.add(row, add_keywords([(self.key, value)]))

    def _value(self, others: list[cst.BaseExpression]) -> cst.BaseExpression:
        inferred = infer_value(others, self.site.values, self.site.column)
        code = inferred.code
        if code is None:
            self.fallbacks.append(inferred.reason)
            if _imports_django_timezone(self.index.module):
                code = "timezone.now()"  # Django's aware now(); importing datetime.timezone would shadow it
            else:
                self.plan.needs_datetime = True
                code = fallback_code(self.index.imports_datetime_module)
        self.values.append(code)
        return cst.parse_expression(code)


@dataclass(frozen=True)
class _DefaultsSlot:
    """A ``defaults=`` keyword the call does not have yet (added holding the one key)."""

    call: cst.Call
    name: str


Row = cst.CSTNode | _DefaultsSlot


def _row_values(row: Row) -> list[cst.BaseExpression]:
    if isinstance(row, cst.Dict):
        return [e.value for e in row.elements if isinstance(e, cst.DictElement)]
    if isinstance(row, cst.Call):
        return [a.value for a in row.args]
    if isinstance(row, _DefaultsSlot):
        return [a.value for a in row.call.args]
    return []


def _imports_django_timezone(module: cst.Module) -> bool:
    """``from django.utils import timezone`` at the top of the module."""
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                source = cst.Module([]).code_for_node(small.module) if small.module is not None else ""
                if source == "django.utils" and any(
                    alias.asname is None and cst.Module([]).code_for_node(alias.name) == "timezone"
                    for alias in small.names
                ):
                    return True
    return False


def _has_key(row: Row, key: str) -> bool:
    if isinstance(row, _DefaultsSlot):
        return False
    if isinstance(row, cst.Dict):
        return any(
            isinstance(e, cst.DictElement) and isinstance(e.key, cst.SimpleString) and e.key.evaluated_value == key
            for e in row.elements
        )
    if isinstance(row, cst.Call):
        return any(a.keyword is not None and a.keyword.value == key for a in row.args)
    return False


def _key_quote(node: cst.Dict) -> str:
    for element in node.elements:
        if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString):
            return element.key.quote[0]
    return '"'


def _method(call: cst.Call) -> str:
    func = call.func
    return func.attr.value if isinstance(func, cst.Attribute) else ""


def _callee(call: cst.Call) -> str:
    """``Post.from_json`` / ``OrderForm``: the called name as written (its last two parts at most)."""
    func = call.func
    if isinstance(func, cst.Attribute):
        owner = func.value.value if isinstance(func.value, cst.Name) else ""
        return f"{owner}.{func.attr.value}" if owner else func.attr.value
    return func.value if isinstance(func, cst.Name) else ""


#: Where each call of a module starts, computed once per module (libcst positions cost a full pass).
_CALL_STARTS: weakref.WeakKeyDictionary[ModuleIndex, dict[tuple[int, int], list[cst.Call]]] = (
    weakref.WeakKeyDictionary()
)


def _call_at(index: ModuleIndex, line: int, column: int) -> cst.Call | None:
    """The call whose text starts at ``line``/``column`` (1-based, as the scanner reports it)."""
    starts = _CALL_STARTS.get(index)
    if starts is None:
        starts = {}
        positions = MetadataWrapper(index.module, unsafe_skip_copy=True).resolve(PositionProvider)
        for node, where in positions.items():
            if isinstance(node, cst.Call):
                starts.setdefault((where.start.line, where.start.column + 1), []).append(node)
        _CALL_STARTS[index] = starts
    best: cst.Call | None = None
    for node in starts.get((line, column), []):
        if best is None or _contains(best, node):
            best = node  # the innermost call starting there is the write's (``Job(...)`` in ``Job(...).save()``)
    return best


def _contains(outer: cst.CSTNode, inner: cst.CSTNode) -> bool:
    return outer is not inner and inner in list(_descendants(outer))


def _descendants(node: cst.CSTNode) -> list[cst.CSTNode]:
    found: list[cst.CSTNode] = []
    stack = list(node.children)
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(current.children)
    return found
