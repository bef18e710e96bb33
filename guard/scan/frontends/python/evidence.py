"""Evidence of history around a Python call that runs SQL (see :mod:`guard.scan.evidence`).

The extractor knows which call ran each statement (its *site*); this module looks around that call in the
module's tree: the driver method (``executemany``, ``execute_values``, ``copy_*``), the loops and
comprehensions that feed it, where its row values come from (``job["id"]``, ``job.get("scheduledOn")``,
``json.loads``), the function and file it sits in (a ``migrate_jobs`` batch job or a Flask route), and
whether the module is a ``__main__`` script. It also maps the statement's columns to the record keys their
values are read from, so ``guard init`` can propose ``business_column`` and ``source_field``.

It reads the stdlib ``ast`` the extractor already built; nothing here re-parses the file.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property

from guard.model import Evidence, WriteStatement
from guard.scan import evidence

#: Driver and ORM methods that send many rows in one call.
BULK_METHODS = frozenset(
    {
        "executemany",
        "execute_values",
        "execute_batch",
        "execute_mogrify",
        "copy_from",
        "copy_expert",
        "copy_records_to_table",
        "copy_to_table",
        "copy",
        "write_row",
        "add_all",
        "bulk_save_objects",
        "bulk_insert_mappings",
        "bulk_create",
        "insert_many",
        "to_sql",
    }
)
#: Decorator attribute names of web frameworks' route registrations (Flask, FastAPI, Starlette, Sanic...).
_ROUTE_ATTRS = frozenset({"route", "get", "post", "put", "patch", "delete", "api_route", "websocket", "view"})
#: Decorators that make a function a request handler by name (Django REST framework, Django).
_VIEW_DECORATORS = frozenset({"api_view", "require_http_methods", "require_POST", "require_GET", "action"})
_REQUEST_PARAMS = frozenset({"request", "req"})
_CAMEL = re.compile(r"^[a-z]+[A-Z]")
#: Placeholders as they stand in a VALUES row: positional (%s, ?), numbered ($2), named (%(x)s, :x).
_PLACEHOLDER = re.compile(r"^\s*(?:(%s|\?)|\$(\d+)|%\((\w+)\)s|:(\w+))\s*$")


@dataclass(frozen=True)
class _Rows:
    """What a call's parameters say about its rows: element expressions of one row (positional or named),
    whether many rows are passed, and the names the rows are read from."""

    positional: tuple[ast.expr, ...] = ()
    named: tuple[tuple[str, ast.expr], ...] = ()
    many: bool = False
    source: ast.expr | None = None  # the parameters argument as written


#: (line, 0-based column) of a call in the module: how the extractor names the call that runs a statement.
Site = tuple[int, int]


class HistorySignals:
    """Evidence for the calls of one module; built once per file, consulted once per write."""

    def __init__(self, tree: ast.Module | None, relpath: str) -> None:
        """``tree`` is None for a file that does not parse: only its path can then say it is a batch job."""
        self.tree = tree if tree is not None else ast.Module(body=[], type_ignores=[])
        self.relpath = relpath

    @cached_property
    def _is_script(self) -> bool:
        return any(_is_main_guard(stmt) for stmt in self.tree.body)

    def annotate(self, write: WriteStatement, sites: Sequence[Site]) -> WriteStatement:
        """``write`` with the evidence seen around the calls that run it (``sites``; a constant may be run by
        several) and its column -> record-key map. Without a known call, the file's context still counts."""
        located = [found for found in map(self._locate, sites) if found is not None]
        if not located:
            return replace(write, evidence=evidence.merge(write.evidence, self._context([])))
        found: list[Evidence] = []
        keys: tuple[tuple[str, str], ...] = ()
        for call, path in located:
            rows = _rows_of(call)
            keys = keys or _record_keys(write, rows)
            here = [*self._bulk(call, path, rows), *_external(rows, keys), *self._context(path)]
            if not here and _scalar_row(rows, _function(path)):
                here.append(Evidence(evidence.SINGLE_ROW, _method(call)))
            found += here
        merged = evidence.merge(write.evidence, found)
        return replace(write, evidence=merged, record_keys=keys or write.record_keys)

    # -- signals --

    def _bulk(self, call: ast.Call, path: Sequence[ast.AST], rows: _Rows) -> list[Evidence]:
        method = _method(call)
        if method in BULK_METHODS:
            return [Evidence(evidence.BULK, method)]
        loop = _enclosing_loop(path)
        if loop is not None:
            return [Evidence(evidence.BULK, f"{method} in a loop over {_describe(loop)}")]
        if rows.many:
            return [Evidence(evidence.BULK, f"{method} of many rows")]
        return []

    def _context(self, path: Sequence[ast.AST]) -> list[Evidence]:
        found = []
        functions = _functions(path)
        if functions and _is_request_handler(functions[0]):
            found.append(Evidence(evidence.REQUEST_HANDLER, f"{functions[0].name}()"))
        batch = next((f"{f.name}()" for f in functions if evidence.is_batch_name(f.name)), None)
        if batch is None:
            batch = evidence.batch_path(self.relpath)
        if batch is None and self._is_script:
            batch = "__main__ script"
        if batch is not None:
            found.append(Evidence(evidence.BATCH_CONTEXT, batch))
        return found

    def _locate(self, site: Site) -> tuple[ast.Call, list[ast.AST]] | None:
        """The call at ``site`` and the nodes around it, outermost first.

        Descends only through the statements whose line span covers the site, then through that statement's
        expressions whose span covers it: a few dozen nodes, never a walk of the whole module (which cost
        more than the rest of the scan on files with many writes)."""
        line, column = site
        path: list[ast.AST] = []
        node: ast.AST = self.tree
        while True:
            inner = next((c for c in ast.iter_child_nodes(node) if _is_block(c) and _covers(c, line)), None)
            if inner is None:
                break
            path.append(inner)
            node = inner
        stack: list[tuple[ast.AST, int]] = [(node, len(path))]
        while stack:
            current, depth = stack.pop()
            del path[depth:]
            if current is not node:
                path.append(current)
            if isinstance(current, ast.Call) and (current.lineno, current.col_offset) == (line, column):
                return current, path
            for child in ast.iter_child_nodes(current):
                if not _is_block(child) and _covers(child, line):
                    stack.append((child, len(path)))
        return None


def _is_block(node: ast.AST) -> bool:
    return isinstance(node, (ast.stmt, ast.excepthandler, ast.match_case))


def _covers(node: ast.AST, line: int) -> bool:
    first = getattr(node, "lineno", None)
    if first is None:  # arguments, comprehension, keyword...: no position of their own in older Pythons
        return True
    return first <= line <= (getattr(node, "end_lineno", None) or first)


def _functions(path: Sequence[ast.AST]) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The functions around a call, innermost first."""
    return [n for n in reversed(path) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _function(path: Sequence[ast.AST]) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    functions = _functions(path)
    return functions[0] if functions else None


def _enclosing_loop(path: Sequence[ast.AST]) -> ast.AST | None:
    """The nearest loop or comprehension around the call inside its function (a caller's loop is out of
    sight). A ``for`` whose iterable holds the call runs it once, so it does not count."""
    nodes = list(path)
    for index in range(len(nodes) - 1, -1, -1):
        ancestor = nodes[index]
        if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            return None
        inside = nodes[index + 1] if index + 1 < len(nodes) else None
        if isinstance(ancestor, (ast.For, ast.AsyncFor)) and inside is not ancestor.iter:
            return ancestor
        if isinstance(ancestor, ast.While):
            return ancestor
        if isinstance(ancestor, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            return ancestor.generators[0]
    return None


def _method(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else "call"


def _describe(loop: ast.AST) -> str:
    source = getattr(loop, "iter", None)
    if source is not None:
        return ast.unparse(source)[:40]
    return "a while condition"


def _is_main_guard(stmt: ast.stmt) -> bool:
    if not isinstance(stmt, ast.If) or not isinstance(stmt.test, ast.Compare):
        return False
    names = [stmt.test.left, *stmt.test.comparators]
    dunder = any(isinstance(n, ast.Name) and n.id == "__name__" for n in names)
    main = any(isinstance(n, ast.Constant) and n.value == "__main__" for n in names)
    return dunder and main


def _is_request_handler(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute) and target.attr in _ROUTE_ATTRS:
            return True
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name in _VIEW_DECORATORS:
            return True
    params = function.args.posonlyargs + function.args.args
    first = (
        params[1] if params and params[0].arg in ("self", "cls") and len(params) > 1 else params[0] if params else None
    )
    return first is not None and first.arg in _REQUEST_PARAMS


def _rows_of(call: ast.Call) -> _Rows:
    """The parameters argument of an execute-like call, read as one row of element expressions; for a call
    with no SQL argument (an ORM constructor ``Job(status=job["s"])``, ``.values(**)``, ``objects.create``)
    its keyword arguments are the row."""
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    params = next(
        (keywords[k] for k in ("params", "vars", "vars_list", "argslist", "parameters", "args") if k in keywords), None
    )
    if params is None:
        params = call.args[1] if len(call.args) > 1 else None
    if params is None and keywords:
        return _Rows(named=tuple(keywords.items()))
    if params is None and len(call.args) == 1 and isinstance(call.args[0], (ast.Dict, ast.List, ast.ListComp)):
        return replace(_row_shape(call.args[0], many=False), source=call.args[0])  # .values({...}), bulk rows
    if params is None:
        return _Rows()
    if len(call.args) > 2 and _method(call) not in BULK_METHODS:  # asyncpg: execute(sql, a, b, c)
        return _Rows(positional=tuple(call.args[1:]))
    return replace(_row_shape(params, many=False), source=params)


def _row_shape(node: ast.expr, many: bool) -> _Rows:
    if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
        return replace(_row_shape(node.elt, many=True), many=True)
    if isinstance(node, ast.DictComp):
        return _Rows(many=True)
    if isinstance(node, (ast.Tuple, ast.List)):
        inner = node.elts
        if inner and all(isinstance(e, (ast.Tuple, ast.List, ast.Dict)) for e in inner):
            return replace(_row_shape(inner[0], many=True), many=len(inner) > 1 or many)
        return _Rows(positional=tuple(inner), many=many)
    if isinstance(node, ast.Dict):
        named = tuple(
            (k.value, v)
            for k, v in zip(node.keys, node.values, strict=True)
            if isinstance(k, ast.Constant) and isinstance(k.value, str)
        )
        return _Rows(named=named, many=many)
    return _Rows(many=many)


def _record_key(node: ast.expr) -> str | None:
    """``job["scheduledOn"]``, ``job.get("scheduledOn")``, ``job.get("x", default)`` -> the key."""
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
        return node.slice.value
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return node.args[0].value
    if isinstance(node, ast.Call) and node.args:  # parse_date(job["createdOn"]), int(job["id"])
        return _record_key(node.args[0])
    if isinstance(node, ast.BoolOp):
        return next((k for k in map(_record_key, node.values) if k), None)
    return None


def _record_keys(write: WriteStatement, rows: _Rows) -> tuple[tuple[str, str], ...]:
    """Each column whose value is a placeholder bound to a record key, or (writes without SQL text: ORM
    constructors, dict rows) the keyword/key of the same name: (column, key)."""
    if write.columns is None:
        return ()
    named = dict(rows.named)
    values = dict(write.column_values)
    mapping = []
    position = 0
    for column in write.columns:
        match = _PLACEHOLDER.match(values.get(column, ""))
        expr: ast.expr | None = named.get(column)
        if match:
            positional, number, name, colon = match.groups()
            if positional:
                expr = rows.positional[position] if position < len(rows.positional) else None
                position += 1
            elif number:
                index = int(number) - 1
                expr = rows.positional[index] if index < len(rows.positional) else None
            else:
                expr = named.get(name or colon)
        key = _record_key(expr) if expr is not None else None
        if key:
            mapping.append((column, key))
    return tuple(mapping)


def _external(rows: _Rows, keys: Sequence[tuple[str, str]]) -> list[Evidence]:
    """Row values read from mappings: the record keys, or a json.loads/camelCase key anywhere in the row."""
    elements = [*rows.positional, *(v for _, v in rows.named)]
    seen = [k for _, k in keys] or [k for k in map(_record_key, elements) if k]
    if seen:
        camel = [k for k in seen if _CAMEL.match(k)]
        sample = ", ".join(repr(k) for k in (camel or seen)[:3])
        return [Evidence(evidence.EXTERNAL_RECORDS, f"row values from record keys {sample}")]
    if any(_calls_json_loads(e) for e in [*elements, *([rows.source] if rows.source is not None else [])]):
        return [Evidence(evidence.EXTERNAL_RECORDS, "json.loads")]
    return []


def _calls_json_loads(node: ast.expr) -> bool:
    return any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("loads", "load")
        for n in ast.walk(node)
    )


def _scalar_row(rows: _Rows, function: ast.FunctionDef | ast.AsyncFunctionDef | None) -> bool:
    """One row whose values are the function's own parameters (or constants): a live, single-row create."""
    if rows.many or function is None:
        return False
    params = {a.arg for a in function.args.posonlyargs + function.args.args + function.args.kwonlyargs}
    elements = [*rows.positional, *(v for _, v in rows.named)]
    if not elements:
        return False
    return all(isinstance(e, ast.Constant) or (isinstance(e, ast.Name) and e.id in params) for e in elements)
