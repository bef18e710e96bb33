"""The model catalog reader: ORM model definitions of one module as entity facts for the catalog.

A write through an ORM (``session.add(Job(...))``, ``Order.objects.create(...)``) names a class, not a table.
Which table that class maps to, which attribute is which column, and whether ``created_at`` defaults to now
(and in which way) is written in the model definitions, often spread over several modules: a
``TimestampMixin`` in one, a declarative ``Base`` with ``MetaData(schema=...)`` in another, the model in a
third. Each module only says what it defines; the catalog joins the pieces over the whole tree
(:mod:`guard.scan.entities`), so a fact here names its bases by their import paths.

Read here: SQLAlchemy declarative classes (1.x ``Column``, 2.0 ``Mapped``/``mapped_column`` and
``Annotated`` column types), ``__tablename__`` (also a ``declared_attr``), ``__table_args__`` schema,
``__abstract__``, ``__table__ = Table(...)``, imperative ``Table(...)`` assigned to a name (with the schema
of its ``MetaData``), ``declarative_base(metadata=MetaData(schema=...))``; Flask-SQLAlchemy ``db.Model``
(snake_case table names); SQLModel ``table=True`` with ``Field(default_factory=...)``/``sa_column``; Django
models (``Meta.db_table`` or ``<app_label>_<model>``, ``db_column``, foreign keys' ``_id`` columns, abstract
bases, ``auto_now_add``/``auto_now``, ``default=timezone.now``, ``db_default=Now()``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from guard.model import PROXY, SchemaFact
from guard.scan.frontends.python.defaults import describe, is_now_callable, is_now_value, sql_now
from guard.scan.frontends.python.names import Names, constant_str, keyword
from guard.scan.frontends.python.schema import default_text, dotted_name

_SA_COLUMNS = frozenset({"Column", "mapped_column"})
#: Classes whose ``Meta.model`` they save through: Django forms, REST framework serializers, marshmallow schemas.
FORM_SUFFIXES = ("Form", "Serializer", "Schema")
_DJANGO_RELATIONS = frozenset({"ForeignKey", "OneToOneField"})
_DJANGO_NO_COLUMN = frozenset({"ManyToManyField", "GenericRelation", "GenericForeignKey"})
#: Declarative roots: a class deriving from one is mapped once it has (or derives) a table name.
_SA_ROOTS = ("sqlalchemy.orm.DeclarativeBase", "sqlalchemy.orm.DeclarativeBaseNoMeta", "sqlalchemy.orm.decl_api")


@dataclass
class _Column:
    attribute: str
    column: str
    server: str | None = None  # database default (SQL text)
    app: str | None = None  # now()-like default the ORM fills in (expression text)
    kind: str = ""  # of ``app``: "orm" | "auto_now_add" | "auto_now"

    def set_server(self, text: str) -> None:
        self.server = text

    def set_app(self, text: str, kind: str) -> None:
        self.app, self.kind = text, kind


@dataclass
class _Class:
    family: str = ""  # "sqlalchemy" | "django"
    table: str = ""
    schema: str = ""
    abstract: bool = False
    naming: str = ""
    columns: list[_Column] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)  # annotated names: a pydantic / SQLModel schema's fields
    model: str = ""  # ``class Meta: model = Post`` of a ModelForm / ModelSerializer / marshmallow schema
    form_fields: list[str] | None = None  # its ``Meta.fields`` when a literal list of names


def read_models(tree: ast.Module, names: Names) -> list[SchemaFact]:
    """Entity facts for the classes and ``Table`` objects ``tree`` defines at module level."""
    return _Reader(tree, names).run()


class _Reader:
    def __init__(self, tree: ast.Module, names: Names) -> None:
        self.tree = tree
        self.names = names
        self.facts: list[SchemaFact] = []
        self.annotated: dict[str, ast.Call] = {}  # ``timestamp = Annotated[datetime, mapped_column(...)]``
        self.metadata_schema: dict[str, str] = {}  # module-level MetaData(schema=...) names

    def run(self) -> list[SchemaFact]:
        for stmt in self.tree.body:
            if isinstance(stmt, ast.ClassDef):
                self._class(stmt)
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                self._assignment(stmt)
        return self.facts

    # -- module-level assignments -----------------------------------------------------------------

    def _assignment(self, stmt: ast.Assign | ast.AnnAssign) -> None:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        value = stmt.value
        if value is None or len(targets) != 1 or not isinstance(targets[0], ast.Name):
            return
        name = targets[0].id
        if isinstance(value, ast.Subscript) and (dotted_name(value.value) or "").endswith("Annotated"):
            column = _annotated_column(value)
            if column is not None:
                self.annotated[name] = column
            return
        if not isinstance(value, ast.Call):
            return
        last = (dotted_name(value.func) or "").rsplit(".", 1)[-1]
        if last == "MetaData":
            schema = constant_str(keyword(value, "schema"))
            if schema:
                self.metadata_schema[name] = schema
        elif last == "Table" and value.args:
            self._table(name, value, stmt.lineno)
        elif last in ("declarative_base", "generate_base"):
            schema = self._metadata_arg(keyword(value, "metadata"))
            # declarative_base(cls=CustomBase): the classes derive from CustomBase too (its __tablename__ rule)
            base = keyword(value, "cls")
            path = self.names.canonical(base) if base is not None else None
            bases = (path,) if path else ()
            self._add(name, _Class(family="sqlalchemy", schema=schema, abstract=True), stmt.lineno, bases)

    def _metadata_arg(self, node: ast.expr | None) -> str:
        if isinstance(node, ast.Name):
            return self.metadata_schema.get(node.id, "")
        if isinstance(node, ast.Call) and (dotted_name(node.func) or "").endswith("MetaData"):
            return constant_str(keyword(node, "schema")) or ""
        return ""

    def _table(self, name: str, call: ast.Call, line: int) -> None:
        table = self._string(call.args[0])
        if not table:
            return
        info = _Class(family="sqlalchemy", table=table)
        info.schema = self._string(keyword(call, "schema")) or (
            self._metadata_arg(call.args[1]) if len(call.args) > 1 else ""
        )
        for argument in call.args[1:]:
            if isinstance(argument, ast.Call) and _last(argument) == "Column":
                column = self._sa_column(argument, None)
                if column is not None:
                    info.columns.append(column)
        bases: tuple[str, ...] = ()
        owner = call.args[1] if len(call.args) > 1 else None
        if isinstance(owner, ast.Attribute) and owner.attr == "metadata":  # Table(..., Base.metadata): its schema
            path = self.names.canonical(owner.value)
            bases = (path,) if path else ()
        self._add(name, info, line, bases)

    # -- classes ----------------------------------------------------------------------------------

    def _class(self, node: ast.ClassDef) -> None:
        info = _Class()
        bases = []
        for base in node.bases:
            path = self.names.canonical(base)
            text = dotted_name(base) or ""
            if path is None:
                continue
            bases.append(path)
            if path.startswith("django.db.models"):
                info.family = "django"
            elif path.startswith(("sqlalchemy", "sqlmodel", "flask_sqlalchemy")):
                info.family = "sqlalchemy"
            if text.endswith("db.Model") or (text == "Model" and self.names.imports_from("flask_sqlalchemy")):
                info.family, info.naming = "sqlalchemy", "snake"  # Flask-SQLAlchemy names tables in snake_case
        if any(k.arg == "table" and isinstance(k.value, ast.Constant) and k.value.value is True for k in node.keywords):
            info.family, info.naming = "sqlalchemy", "lower"  # SQLModel: table=True, table named after the class
        for stmt in node.body:
            self._member(stmt, info)
        if not info.family and self.names.imports_from("django.db"):
            info.family = "django" if any(c.kind.startswith("auto_now") for c in info.columns) or bases else ""
        if info.family == "django" and not info.abstract and not info.table:
            info.table = f"{self._app_label(node)}_{node.name.lower()}"
        if info.model:  # ``class Meta: model = X``: not a model of its own
            if node.name.endswith(FORM_SUFFIXES):
                self._form(node, info)
            return  # test factories (factory_boy) and the like build rows through fields guard does not read
        self._constructor_stamps(node, info)
        self._factories(node, info)
        if not (bases or info.columns or info.table or info.naming):
            return
        if info.naming and not (bases or info.columns or info.table):
            info.abstract = True  # a plain class holding only a __tablename__ rule is a base to derive from
        self._add(node.name, info, node.lineno, tuple(bases))

    def _constructor_stamps(self, node: ast.ClassDef, info: _Class) -> None:
        """``def __init__(self, ...): self.created_at = datetime.now()``: the model's own constructor fills the
        column with the time of the insert - an ORM-side default like ``default=datetime.utcnow``."""
        init = next((s for s in node.body if isinstance(s, ast.FunctionDef) and s.name == "__init__"), None)
        if init is None:
            return
        for stmt in ast.walk(init):
            if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
                continue
            target = stmt.targets[0]
            if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)):
                continue
            if target.value.id != "self" or not is_now_value(stmt.value, self.names):
                continue
            column = next((c for c in info.columns if c.attribute == target.attr), None)
            if column is None:
                column = _Column(target.attr, target.attr)
                info.columns.append(column)
            if column.app is None:
                column.set_app(describe(stmt.value), "orm")

    def _factories(self, node: ast.ClassDef, info: _Class) -> None:
        """A class's ``from_*`` factories that build the instance in one call (``return cls(body=body)``): what
        they set, as a fact of their own (``app.models.Post.from_json``), so ``session.add(Post.from_json(x))``
        has known keys. A factory that builds it any other way says nothing (the write stays dynamic)."""
        for stmt in node.body:
            if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) or not stmt.name.startswith("from_"):
                continue
            returns = [r.value for r in ast.walk(stmt) if isinstance(r, ast.Return) and r.value is not None]
            keys: list[str] | None = None
            for value in returns:
                own = _constructor_keys(value, node.name)
                if own is None:
                    keys = None
                    break
                keys = own if keys is None else [key for key in keys if key in own]
            if keys is None:
                continue
            family = info.family or "python"
            self.facts.append(
                SchemaFact(
                    table="", action="mixin", relpath=self.names.relpath, line=stmt.lineno, origin=family,
                    entity=f"{family}:{self.names.module}.{node.name}.{stmt.name}", fields=tuple(keys),
                )
            )

    def _member(self, stmt: ast.stmt, info: _Class) -> None:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == "__tablename__":
            info.naming = _naming_function(stmt, self.names)  # @declared_attr def __tablename__(cls): ...
            return
        if isinstance(stmt, ast.ClassDef) and stmt.name == "Meta":
            self._django_meta(stmt, info)
            return
        target, value, annotation = _assignment(stmt)
        if target is None:
            return
        if annotation is not None and not target.startswith("_") and not _is_class_var(annotation):
            info.fields.append(target)
        if target == "__tablename__":
            info.table = self._string(value) or info.table if value is not None else info.table
        elif target == "__table_args__" and value is not None:
            info.schema = _table_args_schema(value) or info.schema
        elif target == "__abstract__":
            info.abstract = isinstance(value, ast.Constant) and value.value is True
        elif target == "__table__" and isinstance(value, ast.Call) and _last(value) == "Table" and value.args:
            info.table = self._string(value.args[0]) or info.table
            info.schema = self._string(keyword(value, "schema")) or info.schema
            for argument in value.args[1:]:
                if isinstance(argument, ast.Call) and _last(argument) == "Column":
                    column = self._sa_column(argument, None)
                    if column is not None:
                        info.columns.append(column)
        elif target == "metadata" and value is not None:
            info.schema = self._metadata_arg(value) or info.schema
        elif isinstance(value, ast.Call):
            column = self._field(value, target, info)
            if column is not None:
                info.columns.append(column)
        elif annotation is not None and not target.startswith("_"):
            column = self._annotated(annotation, target)
            if column is not None:
                info.columns.append(column)

    def _field(self, call: ast.Call, attribute: str, info: _Class) -> _Column | None:
        last = _last(call)
        path = self.names.canonical(call.func) or dotted_name(call.func) or ""
        if last in _SA_COLUMNS:
            info.family = info.family or "sqlalchemy"
            return self._sa_column(call, attribute)
        if last == "Field" and path.startswith("sqlmodel"):
            return self._sqlmodel_field(call, attribute)
        django = path.startswith("django.db.models") or (dotted_name(call.func) or "").startswith("models.")
        if django and (last.endswith("Field") or last in _DJANGO_RELATIONS):
            info.family = "django"
            return None if last in _DJANGO_NO_COLUMN else self._django_field(call, attribute, last)
        return None

    def _annotated(self, annotation: ast.expr, attribute: str) -> _Column | None:
        """``created_at: Mapped[timestamp]`` (an ``Annotated`` alias with a mapped_column) or a bare ``Mapped[T]``."""
        if not isinstance(annotation, ast.Subscript):
            return None
        head = dotted_name(annotation.value) or ""
        if not head.endswith("Mapped"):
            return None
        inner = annotation.slice
        if isinstance(inner, ast.Name) and inner.id in self.annotated:
            return self._sa_column(self.annotated[inner.id], attribute)
        if isinstance(inner, ast.Subscript) and (dotted_name(inner.value) or "").endswith("Annotated"):
            column = _annotated_column(inner)
            if column is not None:
                return self._sa_column(column, attribute)
        return _Column(attribute, attribute)

    # -- SQLAlchemy / SQLModel ------------------------------------------------------------------

    def _sa_column(self, call: ast.Call, attribute: str | None) -> _Column | None:
        name = self._string(call.args[0]) if call.args else None
        name = self._string(keyword(call, "name")) or name or attribute
        if not name:
            return None
        column = _Column(attribute or name, name)
        server = keyword(call, "server_default")
        if server is not None:
            text = default_text(server, self._string)
            if isinstance(text, str):
                column.set_server(text)
        for argument in ("default", "insert_default"):  # applied by the ORM first, even with a server default
            value = keyword(call, argument)
            if value is not None and (is_now_callable(value, self.names) or is_now_value(value, self.names)):
                column.set_app(describe(value), "orm")
        return column

    def _sqlmodel_field(self, call: ast.Call, attribute: str) -> _Column:
        inner = keyword(call, "sa_column")
        if isinstance(inner, ast.Call) and _last(inner) == "Column":
            column = self._sa_column(inner, attribute)
            if column is not None:
                return column
        column = _Column(attribute, attribute)
        extra = keyword(call, "sa_column_kwargs")
        if isinstance(extra, ast.Dict):
            for key, value in zip(extra.keys, extra.values, strict=False):
                if constant_str(key) == "server_default":
                    text = default_text(value, self._string)
                    if isinstance(text, str):
                        column.set_server(text)
        factory = keyword(call, "default_factory")
        if factory is not None and is_now_callable(factory, self.names):
            column.set_app(describe(factory), "orm")
        default = keyword(call, "default")
        if default is not None and is_now_value(default, self.names):
            column.set_app(describe(default), "orm")
        return column

    # -- Django ---------------------------------------------------------------------------------

    def _django_field(self, call: ast.Call, attribute: str, kind: str) -> _Column:
        name = self._string(keyword(call, "db_column"))
        column = _Column(attribute, name or (f"{attribute}_id" if kind in _DJANGO_RELATIONS else attribute))
        for flag in ("auto_now_add", "auto_now"):
            value = keyword(call, flag)
            if isinstance(value, ast.Constant) and value.value is True:
                column.set_app(f"{flag}=True", flag)
                return column
        db_default = keyword(call, "db_default")
        if db_default is not None and sql_now(db_default, self.names):
            column.set_server("now()")
        default = keyword(call, "default")
        if default is not None and is_now_callable(default, self.names):
            column.set_app(describe(default), "orm")
        return column

    def _form(self, node: ast.ClassDef, info: _Class) -> None:
        """A ModelForm / ModelSerializer (``class Meta: model = Post``): ``form.save()`` writes a row of the
        model, so the class stands for it (the model is its base), and with a literal ``Meta.fields`` its
        ``save`` sets at most those fields (a fact of its own, ``shop.forms.PostForm.save``)."""
        family = info.family or "python"
        self._add(node.name, _Class(family=family, naming=PROXY), node.lineno, (info.model,))
        if info.form_fields is not None:
            self.facts.append(
                SchemaFact(
                    table="", action="mixin", relpath=self.names.relpath, line=node.lineno, origin=family,
                    entity=f"{family}:{self.names.module}.{node.name}.save", fields=tuple(info.form_fields),
                )
            )

    def _django_meta(self, meta: ast.ClassDef, info: _Class) -> None:
        info.family = "django"
        for stmt in meta.body:
            target, value, _ = _assignment(stmt)
            if target == "model" and isinstance(value, (ast.Name, ast.Attribute)):
                info.model = self.names.canonical(value) or ""
            elif target == "fields" and isinstance(value, (ast.List, ast.Tuple)):
                names = [constant_str(item) for item in value.elts]
                info.form_fields = None if any(n is None for n in names) else [n for n in names if n is not None]
            elif target == "db_table" and value is not None:
                info.table = self._string(value) or info.table
            elif target == "abstract":
                info.abstract = isinstance(value, ast.Constant) and value.value is True
            elif target == "app_label" and value is not None:
                info.naming = f"app_label={self._string(value) or ''}"

    def _app_label(self, node: ast.ClassDef) -> str:
        """Django's default app label: the package that holds ``models.py`` (or the ``models/`` package)."""
        if self._explicit_label(node):
            return self._explicit_label(node)
        parts = self.names.relpath.removesuffix(".py").removesuffix("/__init__").split("/")
        if "models" in parts:  # app/models.py, app/models/order.py, app/models/__init__.py
            at = len(parts) - 1 - parts[::-1].index("models")
            return parts[at - 1] if at >= 1 else parts[0]
        return parts[-2] if len(parts) >= 2 else parts[-1]

    @staticmethod
    def _explicit_label(node: ast.ClassDef) -> str:
        for stmt in node.body:
            if isinstance(stmt, ast.ClassDef) and stmt.name == "Meta":
                for inner in stmt.body:
                    target, value, _ = _assignment(inner)
                    if target == "app_label" and isinstance(value, ast.Constant) and isinstance(value.value, str):
                        return value.value
        return ""

    # -- shared ---------------------------------------------------------------------------------

    def _string(self, node: ast.expr | None) -> str | None:
        text = constant_str(node)
        if text is not None or not isinstance(node, ast.Name):
            return text
        return constant_str(self.names.assignments.get(node.id))

    def _add(self, name: str, info: _Class, line: int, bases: tuple[str, ...]) -> None:
        if info.naming.startswith("app_label="):
            info.naming = ""
        table = f"{info.schema}.{info.table}" if info.schema and info.table and "." not in info.table else info.table
        columns = info.columns
        self.facts.append(
            SchemaFact(
                table=table,
                action="mixin" if info.abstract else "entity",
                columns=tuple(c.column for c in columns),
                defaults=tuple((c.column, c.server) for c in columns if c.server is not None),
                relpath=self.names.relpath,
                line=line,
                origin=info.family or "python",
                entity=f"{info.family or 'python'}:{self.names.module}.{name}",
                attributes=tuple((c.attribute, c.column) for c in columns if c.attribute != c.column),
                default_kinds=tuple(
                    (c.column, c.kind or "database") for c in columns if c.app is not None or c.server is not None
                ),
                app_defaults=tuple((c.column, c.app) for c in columns if c.app is not None),
                bases=bases,
                naming=info.naming,
                schema=info.schema if not info.table else "",
                fields=tuple(info.fields),
            )
        )


def _last(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _assignment(stmt: ast.stmt) -> tuple[str | None, ast.expr | None, ast.expr | None]:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id, stmt.value, None
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id, stmt.value, stmt.annotation
    return None, None, None


def _constructor_keys(value: ast.expr, class_name: str) -> list[str] | None:
    """The keywords of ``cls(a=..., b=...)`` / ``ClassName(...)``; None for anything else or ``**kwargs``."""
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)):
        return None
    if value.func.id not in ("cls", class_name) or value.args or any(k.arg is None for k in value.keywords):
        return None
    return [k.arg for k in value.keywords if k.arg is not None]


def _is_class_var(annotation: ast.expr) -> bool:
    head = annotation.value if isinstance(annotation, ast.Subscript) else annotation
    return (dotted_name(head) or "").rsplit(".", 1)[-1] == "ClassVar"


def _annotated_column(node: ast.Subscript) -> ast.Call | None:
    elements = node.slice.elts if isinstance(node.slice, ast.Tuple) else []
    for element in elements[1:]:
        if isinstance(element, ast.Call) and _last(element) == "mapped_column":
            return element
    return None


def _table_args_schema(node: ast.expr) -> str | None:
    if isinstance(node, ast.Tuple) and node.elts:
        node = node.elts[-1]
    if isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values, strict=False):
            if constant_str(key) == "schema":
                return constant_str(value)
    return None


def _naming_function(function: ast.FunctionDef | ast.AsyncFunctionDef, names: Names, depth: int = 0) -> str:
    """How a ``declared_attr`` ``__tablename__`` names tables: ``cls.__name__.lower()`` is "lower"; a helper
    that converts CamelCase (``re.sub``/``re.split`` on capitals, ``snake``, ``camel_to_snake``, inflection's
    ``underscore``) is "snake", also when it is a function of the module the rule calls
    (``return resolve_table_name(cls.__name__)``); anything else is unknown."""
    text = ast.unparse(function).lower()
    if any(word in text for word in ("snake", "re.sub", "re.split", "underscore")):
        return "snake"
    if "__name__.lower()" in text:
        return "lower"
    if depth < 2:
        for node in ast.walk(function):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names.functions:
                found = _naming_function(names.functions[node.func.id], names, depth + 1)
                if found:
                    return found
    return ""
