"""Table shapes declared in Python: Alembic operations and SQLAlchemy tables/models, as :class:`SchemaFact`.

Many repositories have no ``CREATE TABLE`` in SQL at all: the schema lives in Alembic migrations
(``op.create_table``, ``op.add_column``, ``op.alter_column(server_default=...)``) or in SQLAlchemy metadata
(``sa.Table``, declarative models with ``server_default=func.now()``). These are what tell the resolver that
``created_at`` defaults to ``now()``. Only *server* defaults count: ``default=datetime.utcnow`` runs in Python
and never fills a column that an INSERT leaves out.

SQLAlchemy quotes names that need it, so names are kept exactly as written (``"Jobs"`` stays ``Jobs``).
The collector is fed by the extractor's single walk (:meth:`on_call`, :meth:`on_with`, :meth:`on_class`).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

from guard.model import SchemaFact

Resolve = Callable[[ast.expr], "str | None"]

_ALEMBIC_RECEIVERS = frozenset({"op"})
_COLUMN_FACTORIES = frozenset({"Column", "mapped_column"})
#: SQL spelling of SQLAlchemy ``func.<name>()`` calls that Postgres writes without parentheses.
_BARE_FUNCTIONS = {
    "current_timestamp": "CURRENT_TIMESTAMP",
    "localtimestamp": "LOCALTIMESTAMP",
    "current_date": "CURRENT_DATE",
    "current_time": "CURRENT_TIME",
    "localtime": "LOCALTIME",
}
_UNKNOWN = object()
#: Calls the collector reads (by their last name); the extractor only hands these over.
SCHEMA_CALLS = frozenset(
    {"create_table", "add_column", "alter_column", "drop_column", "drop_table", "rename_table", "Table"}
)


def is_downgrade(function_name: str) -> bool:
    """An Alembic revision's ``downgrade()`` (``downgrade_<engine>()`` in the multi-database template)."""
    return function_name == "downgrade" or function_name.startswith("downgrade_")


@dataclass(frozen=True)
class _Column:
    name: str
    default: str | None  # server default expression text, None when the column has none we can read


class SchemaCollector:
    """Accumulates the schema facts of one file."""

    def __init__(self, relpath: str) -> None:
        self.relpath = relpath
        self.facts: list[SchemaFact] = []
        self._batch_tables: dict[str, tuple[str, int]] = {}  # ``with op.batch_alter_table(...) as name``
        self._column_sets: dict[str, list[_Column]] = {}  # class name -> its own columns (mixins included)

    # -- hooks --

    def on_call(self, node: ast.Call, canonical: str, resolve: Resolve) -> None:
        func = node.func
        method = canonical.rsplit(".", 1)[-1]
        receiver = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else None
        if receiver in _ALEMBIC_RECEIVERS:
            self._alembic(node, method, resolve)
        elif receiver in self._batch_tables:
            self._batch(node, method, receiver, resolve)
        elif method == "Table":  # sqlalchemy.Table, sa.Table, Flask-SQLAlchemy db.Table: known by its Columns
            self._core_table(node, resolve)

    def on_with(self, item: ast.withitem, resolve: Resolve) -> None:
        expr = item.context_expr
        if not (isinstance(expr, ast.Call) and isinstance(item.optional_vars, ast.Name)):
            return
        func = expr.func
        if isinstance(func, ast.Attribute) and func.attr == "batch_alter_table" and expr.args:
            table = self._table(expr.args[0], _keyword(expr, "schema"), resolve)
            if table is not None:
                self._batch_tables[item.optional_vars.id] = (table, expr.lineno)

    def on_class(self, node: ast.ClassDef, resolve: Resolve) -> None:
        """Declarative models: ``__tablename__``, ``__table_args__`` schema, Column/mapped_column attributes."""
        tablename: str | None = None
        schema: str | None = None
        columns: list[_Column] = []
        for stmt in node.body:
            target, value, annotation = _assignment(stmt)
            if target is None:
                continue
            if target == "__tablename__" and value is not None:
                tablename = resolve(value)
            elif target == "__table_args__" and value is not None:
                schema = _table_args_schema(value, resolve)
            elif value is not None and _factory(value) in _COLUMN_FACTORIES:
                column = _column(value, resolve, target)
                if column is not None:
                    columns.append(column)
            elif value is None and annotation is not None and _is_mapped_annotation(annotation):
                columns.append(_Column(target, None))
        for base in node.bases:
            base_name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
            for column in self._column_sets.get(base_name, []):
                if all(column.name != c.name for c in columns):
                    columns.append(column)
        self._column_sets[node.name] = columns
        if tablename is None or not columns:
            return
        name = f"{schema}.{tablename}" if schema and "." not in tablename else tablename
        self._add(name, "create", node.lineno, "sqlalchemy", columns=columns)

    # -- Alembic --

    def _alembic(self, node: ast.Call, method: str, resolve: Resolve) -> None:
        if not node.args:
            return
        table = self._table(node.args[0], _keyword(node, "schema"), resolve)
        if table is None:
            return
        rest = node.args[1:]
        if method == "create_table":
            columns = [c for c in (_column(a, resolve) for a in rest if _factory(a) == "Column") if c]
            self._add(table, "create", node.lineno, "alembic", columns=columns)
        elif method == "drop_table":
            self._add(table, "drop_table", node.lineno, "alembic")
        elif method == "rename_table" and rest:
            new = resolve(rest[0])
            schema = resolve(_keyword(node, "schema")) if _keyword(node, "schema") is not None else None  # type: ignore[arg-type]
            if new is not None:
                new_name = f"{schema}.{new}" if schema else new
                self.facts.append(
                    SchemaFact(
                        table,
                        "rename_table",
                        new_name=new_name,
                        relpath=self.relpath,
                        line=node.lineno,
                        origin="alembic",
                    )
                )
        else:
            self._column_op(node, method, table, rest, resolve)

    def _batch(self, node: ast.Call, method: str, receiver: str, resolve: Resolve) -> None:
        table, _ = self._batch_tables[receiver]
        self._column_op(node, method, table, node.args, resolve)

    def _column_op(self, node: ast.Call, method: str, table: str, args: list[ast.expr], resolve: Resolve) -> None:
        """``add_column``/``drop_column``/``alter_column`` (the table argument already consumed)."""
        if method == "add_column" and args and _factory(args[0]) == "Column":
            column = _column(args[0], resolve)
            if column is not None:
                self._add(table, "add_column", node.lineno, "alembic", columns=[column])
        elif method == "drop_column" and args:
            name = resolve(args[0])
            if name is not None:
                self._add(table, "drop_column", node.lineno, "alembic", columns=[_Column(name, None)])
        elif method == "alter_column" and args:
            name = resolve(args[0])
            default_node = _keyword(node, "server_default")
            if name is None or default_node is None:
                return
            if isinstance(default_node, ast.Constant) and default_node.value is None:
                self._add(table, "drop_default", node.lineno, "alembic", columns=[_Column(name, None)])
                return
            default = default_text(default_node, resolve)
            if isinstance(default, str):
                self._add(table, "set_default", node.lineno, "alembic", columns=[_Column(name, default)])

    # -- SQLAlchemy Core --

    def _core_table(self, node: ast.Call, resolve: Resolve) -> None:
        if not node.args:
            return
        table = self._table(node.args[0], _keyword(node, "schema"), resolve)
        columns = [c for c in (_column(a, resolve) for a in node.args[1:] if _factory(a) == "Column") if c]
        if table is not None and columns:
            self._add(table, "create", node.lineno, "sqlalchemy", columns=columns)

    # -- shared --

    def _table(self, name_node: ast.expr, schema_node: ast.expr | None, resolve: Resolve) -> str | None:
        name = resolve(name_node)
        if not name:
            return None
        schema = resolve(schema_node) if schema_node is not None else None
        return f"{schema}.{name}" if schema else name

    def _add(self, table: str, action: str, line: int, origin: str, columns: list[_Column] | None = None) -> None:
        columns = columns or []
        self.facts.append(
            SchemaFact(
                table=table,
                action=action,
                columns=tuple(c.name for c in columns),
                defaults=tuple((c.name, c.default) for c in columns if c.default is not None),
                relpath=self.relpath,
                line=line,
                origin=origin,
            )
        )


def default_text(node: ast.expr, resolve: Resolve) -> str | object:
    """SQL text of a ``server_default`` value, or ``_UNKNOWN`` when it cannot be read statically.

    ``func.now()`` -> ``now()``, ``text("X")``/``literal_column("X")`` -> ``X``, a plain string -> the quoted
    literal SQLAlchemy renders (``'now()'`` is a constant, not a call, in Postgres).
    """
    if isinstance(node, ast.Call):
        name = dotted_name(node.func) or ""
        last = name.rsplit(".", 1)[-1]
        if last in ("text", "literal_column") and node.args:
            return resolve(node.args[0]) or _UNKNOWN
        if last == "DefaultClause" and node.args:
            return default_text(node.args[0], resolve)
        if ".func." in f".{name}" or name.startswith("func.") or ".functions." in name:
            if last.lower() in _BARE_FUNCTIONS and not node.args:
                return _BARE_FUNCTIONS[last.lower()]
            arguments = [default_text(a, resolve) for a in node.args]
            if any(a is _UNKNOWN for a in arguments):
                return _UNKNOWN
            return f"{last}({', '.join(arguments)})"  # type: ignore[arg-type]
        return _UNKNOWN
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return str(node.value)
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return "true" if node.value else "false"
    value = resolve(node)
    if value is None:
        return _UNKNOWN
    return "'" + value.replace("'", "''") + "'"


def _column(node: ast.expr, resolve: Resolve, attribute: str | None = None) -> _Column | None:
    if not isinstance(node, ast.Call):
        return None
    name = None
    if node.args and isinstance(node.args[0], (ast.Constant, ast.Name, ast.Attribute, ast.JoinedStr)):
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and not isinstance(first.value, str)):
            name = resolve(first)
    explicit = _keyword(node, "name")
    if explicit is not None:
        name = resolve(explicit) or name
    name = name or attribute
    if not name:
        return None
    default_node = _keyword(node, "server_default")
    default = default_text(default_node, resolve) if default_node is not None else None
    return _Column(name, default if isinstance(default, str) else None)


def _factory(node: ast.expr) -> str | None:
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _keyword(node: ast.Call, name: str) -> ast.expr | None:
    for keyword in node.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _assignment(stmt: ast.stmt) -> tuple[str | None, ast.expr | None, ast.expr | None]:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id, stmt.value, None
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id, stmt.value, stmt.annotation
    return None, None, None


def _is_mapped_annotation(annotation: ast.expr) -> bool:
    if isinstance(annotation, ast.Subscript):
        base = annotation.value
        return (isinstance(base, ast.Name) and base.id == "Mapped") or (
            isinstance(base, ast.Attribute) and base.attr == "Mapped"
        )
    return (
        isinstance(annotation, ast.Constant)
        and isinstance(annotation.value, str)
        and annotation.value.startswith("Mapped[")
    )


def _table_args_schema(node: ast.expr, resolve: Resolve) -> str | None:
    if isinstance(node, ast.Tuple) and node.elts:
        node = node.elts[-1]
    if isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values, strict=False):
            if isinstance(key, ast.Constant) and key.value == "schema":
                return resolve(value)
    return None


def dotted_name(node: ast.expr) -> str | None:
    names: list[str] = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    names.append(node.id)
    return ".".join(reversed(names))
