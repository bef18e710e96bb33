"""ORM and query-builder writes of one module, as :class:`~guard.model.WriteStatement` entries, and its models.

These writes have no SQL text: ``session.add(Job(...))`` or ``Order.objects.create(...)`` become rows in the
same write inventory as SQL ``INSERT`` statements, with the entity (the model) or the table they write, the
keys they set (model attribute names, resolved to columns by the catalog) and where the fix goes. Each driver
family (SQLAlchemy ORM, SQLAlchemy Core, Django, pandas) is a driver module under :mod:`.drivers` that reads the
calls it knows; this module holds what they share: the per-module context, instances built by a constructor
call, how a write is recorded, the byte prefilter, and :func:`extract_orm`, which runs the registered drivers
over every function body and reads the module's model definitions (:mod:`.models`) for the catalog.

Positions are where ``guard patch`` edits: the constructor call for an instance, the ``insert(...)`` call for a
Core statement, the manager call for Django, the ``to_sql`` call for pandas.
"""

from __future__ import annotations

import ast
import bisect
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from guard.model import HOLE_PREFIX, SchemaFact, WriteStatement
from guard.scan.frontends.python.defaults import is_now_value
from guard.scan.frontends.python.models import read_models
from guard.scan.frontends.python.names import Names, TreeModules
from guard.scan.frontends.python.rows import Body, FieldsOf, RowKeys, bodies
from guard.scan.frontends.python.schema import dotted_name
from guard.scan.frontends.python.wordscan import TextWords, Words

#: Receivers that are a database session whatever the module imports (``session``, ``db.session``, ``s``...).
_SESSION_WORDS = ("session", "sess", "uow", "unit_of_work")
_SESSION_NAMES = frozenset({"s", "db", "dbs", "tx"})
_MAX_LABEL = 80
#: Class methods that build a new instance from another object (SQLModel / pydantic): the fields are unknown.
VALIDATING_CONSTRUCTORS = frozenset({"model_validate", "from_orm", "parse_obj", "model_construct", "validate"})
#: Names generic code keeps a model class in (``self.model(**data)`` in a CRUD base, ``model_class(...)``): the
#: call builds a new instance of a model guard cannot name.
_MODEL_VARIABLES = frozenset({"model", "_model", "model_class", "model_cls", "_model_class", "klass", "cls"})


@dataclass
class Instance:
    """A model instance constructed in this body: ``Job(...)``, with what the constructor and later attribute
    assignments set."""

    call: ast.Call
    path: str  # the class's import path; "" for a model held in a variable (``self.model(...)``)
    row: RowKeys


@dataclass
class Module:
    """One module being read: its text, names and the writes found so far."""

    text: str
    relpath: str
    names: Names
    writes: list[WriteStatement] = field(default_factory=list)
    _lines: list[str] = field(default_factory=list)
    _seen: set[tuple[int, int, str]] = field(default_factory=set)
    _written: set[int] = field(default_factory=set)  # ids of nodes a write is located at
    _session_module: bool | None = None

    def written(self, node: ast.AST) -> bool:
        return id(node) in self._written

    def __post_init__(self) -> None:
        self._lines = self.text.split("\n")

    def position(self, node: ast.expr) -> tuple[int, int]:
        """(line, 1-based character column) of ``node`` (ast columns count UTF-8 bytes)."""
        line = self._lines[node.lineno - 1] if node.lineno <= len(self._lines) else ""
        column = len(line.encode("utf-8")[: node.col_offset].decode("utf-8", "replace"))
        return node.lineno, column + 1

    def source(self, node: ast.AST) -> str:
        """The node's text as written (``ast.get_source_segment`` splits the whole file on every call)."""
        first, last = getattr(node, "lineno", 0), getattr(node, "end_lineno", 0)
        start, end = getattr(node, "col_offset", None), getattr(node, "end_col_offset", None)
        if not first or not last or start is None or end is None or last > len(self._lines):
            return ast.unparse(node)
        lines = [line.encode("utf-8") for line in self._lines[first - 1 : last]]
        if len(lines) == 1:
            return lines[0][start:end].decode("utf-8", "replace")
        lines[0], lines[-1] = lines[0][start:], lines[-1][:end]
        return b"\n".join(lines).decode("utf-8", "replace")

    def lines_with(self, words: Sequence[str]) -> list[int]:
        """Numbers of the lines holding one of ``words``, ascending (one pass over the file for all of them)."""
        matches = TextWords(words).starts(self.text)
        if not matches:
            return []
        starts = list(itertools.accumulate((len(line) + 1 for line in self._lines[:-1]), initial=0))
        return sorted({bisect.bisect_right(starts, at) for at in matches})

    def emit(
        self,
        node: ast.expr,
        *,
        row: RowKeys,
        label: str,
        origin: str,
        parser: str = "orm",
        entity: str | None = None,
        table: str | None = None,
        kind: str = "insert",
        on_conflict: str | None = None,
        end: ast.AST | None = None,
        inferred: bool = False,
    ) -> None:
        """Record one write located at ``node`` (once per node and driver)."""
        line, column = self.position(node)
        key = (line, column, origin)
        if key in self._seen:
            return
        self._seen.add(key)
        self._written.add(id(node))
        # a value that is the current time is written as SQL's now(), so GRD002 reads it like a SQL write's
        values = tuple((k, "now()" if is_now_value(v, self.names) else ast.unparse(v)) for k, v in row.values.items())
        self.writes.append(
            WriteStatement(
                relpath=self.relpath,
                line=line,
                column=column,
                kind=kind,
                table=table,
                columns=row.columns(),
                sql=self.source(end or node),
                column_values=values,
                on_conflict=on_conflict,
                dynamic=row.unknown or (entity is None and (table is None or HOLE_PREFIX in table)),
                parser=parser,
                origin=origin,
                context=label if len(label) <= _MAX_LABEL else label[: _MAX_LABEL - 3] + "...",
                end_line=getattr(end or node, "end_lineno", None) or line,
                entity=entity,
                inferred=inferred,
                entity_in_tree=entity is not None and self.names.is_tree_path(entity.split(":", 1)[-1]),
                # the schema objects' fields name the row once the catalog knows them, if nothing else is unknown
                fields_of=() if row.dynamic else tuple((s.path, s.excluded, s.partial) for s in row.sources),
            )
        )

    # -- shared readings ----------------------------------------------------------------------------

    def class_path(self, node: ast.expr) -> str | None:
        """The import path of a class named by ``node`` (``Job``, ``models.Job``); None for anything that is not
        spelled like a class (``make_job(...)``) or not imported/defined in the module (a local variable)."""
        text = dotted_name(node)
        if text is None or not text.rsplit(".", 1)[-1][:1].isupper():
            return None
        return self.names.canonical(node)

    def instances(self, node: ast.expr, body: Body) -> list[Instance]:
        """Instances ``node`` evaluates to that were constructed in this body: ``Job(...)`` itself, or a name
        assigned ``Job(...)`` (attributes assigned to it later count as set). Anything else (a loaded object,
        a parameter) is not a new instance: adding it back is an update."""
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in VALIDATING_CONSTRUCTORS:
                return self._validated(node, func, body)
            if isinstance(func, ast.Attribute) and func.attr.startswith("from_"):
                # a factory of the class (``Post.from_json(payload)``): a new instance, with what the factory sets
                # when the catalog can read it (``return cls(body=...)``), else unknown
                factory = self.class_path(func.value)
                if factory is None:
                    return []
                return [Instance(node, factory, RowKeys(sources=[FieldsOf(f"{factory}.{func.attr}")]))]
            path = self.class_path(node.func)
            if path is None and (dotted_name(func) or "").rsplit(".", 1)[-1] in _MODEL_VARIABLES:
                path = ""
            if path is None:
                return []
            row = RowKeys()
            body.keywords_into(row, node.keywords)
            row.dynamic = row.dynamic or bool(node.args)  # positional fields: guard cannot name them
            return [Instance(node, path, row)]
        if isinstance(node, ast.Name):
            # what reaches the use: values bound before it (``form = PostForm()`` in the GET branch after the
            # POST branch's save is another object)
            values = [v for v in body.assigned.get(node.id, []) if getattr(v, "lineno", 0) <= node.lineno]
            found = [i for value in values for i in self.instances(value, body) if isinstance(value, ast.Call)]
            for instance in found:
                for attribute, value in body.attributes.get(node.id, []):
                    instance.row.add(attribute, value)
                instance.row.dynamic = instance.row.dynamic or node.id in body.opaque
            return found
        return []

    def _validated(self, node: ast.Call, func: ast.Attribute, body: Body) -> list[Instance]:
        """``Job.model_validate(job_in, update={...})`` (SQLModel, pydantic): a new instance whose fields come from
        another object - the fields of its schema class when the class can be told (``job_in: JobCreate``), else
        unknown - plus the ``update`` keys."""
        path = self.class_path(func.value)
        if path is None:
            return []
        row = RowKeys()
        source = node.args[0] if node.args else None
        source_class = body.class_of(source) if source is not None else None
        if source_class is not None:
            row.sources.append(FieldsOf(source_class))
        elif isinstance(source, (ast.Dict, ast.Call)):
            row = body.dict_row(source)  # model_validate({...}) / model_validate(job_in.model_dump())
        else:
            row.dynamic = True
        update = next((k.value for k in node.keywords if k.arg == "update"), None)
        if update is not None:
            extra = body.dict_row(update)
            for key in extra.keys:
                row.add(key, None)
            row.dynamic = row.dynamic or extra.dynamic
        return [Instance(node, path, row)]

    def sequence_instances(self, node: ast.expr, body: Body) -> list[Instance]:
        elements = body.elements(node)
        if elements is None:
            return []
        return [i for element in elements for i in self.instances(element, body)]

    def is_session(self, receiver: ast.expr) -> bool:
        """``session``, ``db.session``, ``self.session``, ``async_session``, ``s`` - or any receiver in a module
        that imports an ORM (the model decides then)."""
        text = (dotted_name(receiver) or "").lower()
        if _session_name(text.rsplit(".", 1)[-1]):
            return True
        return self.is_session_module()

    def is_session_module(self) -> bool:
        """A module that imports an ORM or the tree's models (``from app.models import Job``); asked per call,
        answered once."""
        if self._session_module is None:
            self._session_module = self.names.imports_from("sqlalchemy", "sqlmodel", "flask_sqlalchemy") or any(
                "models" in origin.split(".")[:-1] for origin in self.names.imports.values()
            )
        return self._session_module


#: Between the parts of ``receiver . method (``: blanks, line continuations, whole comments (inside brackets).
#: A comment runs to its line's end, so there is one way to match it (no backtracking over ``#`` runs).
_BETWEEN = rb"(?:[ \t\r\n\f\v\\]|#[^\n]*\n)*"
#: Calls that hand instances to a session (found from the method: a receiver-first pattern would be tried at every
#: word of the file), then the receiver's last name just before, as :meth:`Module.is_session` reads it.
_SESSION_METHOD = re.compile(
    rb"\." + _BETWEEN + rb"(?:add|add_all|merge|bulk_save_objects|bulk_insert_mappings)" + _BETWEEN + rb"\("
)
_RECEIVER = re.compile(rb"(?<!\w)(\w+)" + _BETWEEN + rb"\Z")
#: Imports that make every receiver a session (:meth:`Module.is_session_module`): an ORM, or a ``models`` module.
_SESSION_IMPORT = re.compile(rb"sqlalchemy|sqlmodel|(?:from|import)[ \t]+\.*(?:[\w.]*\.)?models(?:\.|[ \t]|$)", re.M)
_RELATIVE_IMPORT = re.compile(rb"from[ \t]+\.")


def may_have_session(data: bytes, relpath: str | None = None) -> bool:
    """Whether a file (as bytes) may hold what :meth:`Module.is_session` and :meth:`Module.is_session_module`
    accept, so that a SQLAlchemy session write can be found in it at all: a call like ``session.add(`` whose
    receiver reads as a session, or an import of an ORM or of a ``models`` module (a relative import inside a
    ``models`` package counts: it resolves to one; ``relpath`` None: any relative import counts). A superset of
    what the driver accepts, on bytes: files that fail it cannot hold such a write, and are not parsed for it."""
    if _SESSION_IMPORT.search(data):
        return True
    if (relpath is None or "models" in relpath.split("/")[:-1]) and _RELATIVE_IMPORT.search(data):
        return True
    for match in _SESSION_METHOD.finditer(data):
        receiver = _RECEIVER.search(data, max(0, match.start() - 300), match.start())
        if receiver is not None and _session_name(receiver.group(1).decode("ascii", "replace").lower()):
            return True
    return False


def _session_name(last: str) -> bool:
    """The last name of a receiver that is a database session whatever the module imports."""
    return any(word in last for word in _SESSION_WORDS) or last in _SESSION_NAMES


class RowDriver(Protocol):
    """What :func:`extract_orm` needs of a driver (:class:`~.drivers.base.Driver` has it)."""

    @property
    def rows(self) -> Callable[..., None] | None: ...

    @property
    def finish(self) -> Callable[..., None] | None: ...

    @property
    def row_anchors(self) -> tuple[bytes, ...]: ...

    @property
    def row_gates(self) -> tuple[bytes, ...]: ...

    @property
    def row_confirm(self) -> Callable[[bytes, str | None], bool] | None: ...


#: Bytes a model definition cannot do without (case-sensitive).
_MODEL_ANCHORS = (
    b"olumn(",  # Column(, db.Column(, mapped_column(
    b"Mapped[",
    b"__tablename__",
    b"Field(",  # SQLModel Field(, Django models.XField(
    b"SQLModel",
    b"eclarative",  # declarative_base(), DeclarativeBase
    b"Table(",
    b"MetaData(",
    b"models.Model",
    b"BaseModel",  # pydantic schemas: their fields are the keys of rows built from them (``**item.dict()``)
    b"Base)",  # a schema deriving from the app's own base (``class ItemCreate(ItemBase):``)
)
#: What a file with model definitions mentions: the ORM's import, Flask-SQLAlchemy's ``db.``, or pydantic.
_MODEL_GATES = (b"sqlalchemy", b"sqlmodel", b"db.", b"models", b"__tablename__", b"pydantic", b"schemas")


Confirm = Callable[[bytes, str | None], bool]


@dataclass(frozen=True)
class _Family:
    gates: frozenset[bytes]
    anchors: frozenset[bytes]
    confirm: Confirm | None = None  # a closer byte test, run only once the family's words are there


@dataclass(frozen=True)
class _Plan:
    """The byte tests for one set of drivers: every gate word at once (a file with none is rejected after that
    one pass), then every anchor at once, a family counting only when one of its own gates occurred."""

    gates: Words
    anchors: Words
    families: tuple[_Family, ...]


_PLANS: dict[tuple[int, ...], _Plan] = {}


def _plan(drivers: Sequence[RowDriver]) -> _Plan:
    key = tuple(id(driver) for driver in drivers)
    plan = _PLANS.get(key)
    if plan is None:
        families = [_Family(frozenset(_MODEL_GATES), frozenset(_MODEL_ANCHORS))]
        families += [
            _Family(frozenset(d.row_gates), frozenset(d.row_anchors), d.row_confirm)
            for d in drivers
            if d.row_anchors and d.row_gates
        ]
        gates = Words(sorted({gate for family in families for gate in family.gates}))
        anchors = Words(sorted({anchor for family in families for anchor in family.anchors}))
        plan = _PLANS[key] = _Plan(gates, anchors, tuple(families))
    return plan


def may_hold_orm(data: bytes, drivers: Sequence[RowDriver], relpath: str | None = None) -> bool:
    """Whether a Python file (as bytes) may define a model or write through one of ``drivers``: it mentions an
    ORM the way a family needs (a gate: an import, a session, the tree's ``models``...), holds one of that
    family's anchors (a model definition, a driver's call) and passes the family's closer test if it has one
    (:func:`may_have_session`). Gates first (rare in code without ORM writes), each set of words found in one
    pass: this runs on every file of the tree. No drivers (all unregistered): nothing to read."""
    if not drivers:
        return False
    plan = _plan(drivers)
    present = plan.gates.present(data)
    if not present:
        return False
    families = [family for family in plan.families if not family.gates.isdisjoint(present)]
    if not families:
        return False
    found = plan.anchors.present(data)
    return any(
        not family.anchors.isdisjoint(found) and (family.confirm is None or family.confirm(data, relpath))
        for family in families
    )


@dataclass
class OrmExtraction:
    writes: list[WriteStatement] = field(default_factory=list)
    facts: list[SchemaFact] = field(default_factory=list)


def extract_orm(
    tree: ast.Module, text: str, relpath: str, drivers: Sequence[RowDriver], modules: TreeModules | None = None
) -> OrmExtraction:
    """Model facts and ORM / query-builder writes of one parsed module (``text`` with ``\\n`` newlines)."""
    names = Names.of(tree, relpath, modules)
    module = Module(text, relpath, names)
    marked = module.lines_with(_body_words(names, drivers))

    def worth(node: ast.AST) -> bool:  # a line of the body holds an anchor or a class of the module
        if isinstance(node, ast.Module):  # no line numbers of its own: module-level code is anywhere in the file
            return bool(marked)
        first = getattr(node, "lineno", 1)
        last = getattr(node, "end_lineno", None) or first
        at = bisect.bisect_left(marked, first)
        return at < len(marked) and marked[at] <= last

    for body in bodies(tree, worth, names.canonical):
        calls = [node for node in body.walk() if isinstance(node, ast.Call)]
        for call in calls:
            for driver in drivers:
                if driver.rows is not None:
                    driver.rows(module, body, call)
        for driver in drivers:
            if driver.finish is not None:
                driver.finish(module, body, calls)
    module.writes.sort(key=lambda w: (w.line, w.column))
    return OrmExtraction(module.writes, read_models(tree, names))


def _body_words(names: Names, drivers: Sequence[RowDriver]) -> list[str]:
    """What a function body must mention to hold a write: a driver's anchor, or a call of a class the module
    imports or defines (an instance built and handed over)."""
    words = [anchor.decode("ascii", "replace") for driver in drivers for anchor in driver.row_anchors]
    classes = [*names.classes, *(local for local in names.imports if local[:1].isupper())]
    modules = [local for local, origin in names.imports.items() if local[:1].islower() and names.is_tree_path(origin)]
    return [*words, *(f"{name}(" for name in classes), *(f"{name}." for name in [*classes, *modules])]


def handed_over(module: Module, body: Body, call: ast.Call) -> bool:
    """Whether the instance built by ``call`` leaves the body: passed to a call (``create_and_refresh(db, job)``),
    returned, or yielded - directly or through the name it is assigned to."""
    parent = body.parent(call)
    if isinstance(parent, (ast.Return, ast.Yield, ast.YieldFrom)):
        return True
    if (isinstance(parent, ast.Call) and call in parent.args) or isinstance(parent, ast.keyword):
        return True
    if isinstance(parent, (ast.Assign, ast.AnnAssign)):
        targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
        names = {t.id for t in targets if isinstance(t, ast.Name)}
        for node in body.walk():
            if isinstance(node, ast.Name) and node.id in names and isinstance(node.ctx, ast.Load):
                user = body.parent(node)
                if isinstance(user, (ast.Return, ast.Yield, ast.keyword)) or (
                    isinstance(user, ast.Call) and node in user.args
                ):
                    return True
    return False


def entity_key(family: str, path: str) -> str | None:
    """The key of the model at ``path``; None for a model held in a variable (written, target unknown)."""
    return f"{family}:{path}" if path else None


def label_of(module: Module, node: ast.AST, shorten: ast.Call | None = None) -> str:
    """``session.add(Job(...))``: the call as written, the arguments of ``shorten`` elided."""
    text = module.source(node)
    if shorten is not None:
        inner = module.source(shorten)
        head = module.source(shorten.func)
        text = text.replace(inner, f"{head}(...)", 1)
    return " ".join(text.split())
