"""Extract every string of a Python file that may be SQL, with exact positions and how it was built.

SQL in application code is rarely a literal passed straight to ``execute``: it is assigned to constants (here
or in another module), built with f-strings, ``%``, ``.format``, ``+``/``+=``, ``" ".join``, wrapped in
``text()`` or ``psycopg.sql.SQL``. The extractor runs a small abstract interpreter over one ``ast.parse`` of the
file: every name is bound to the set of string values it may hold (every branch counts), and an expression
whose value is a string becomes a *root* when nothing composes it further. Values that cannot be known become
holes (``guard_hole_<n>``), so the statement still parses and is flagged ``dynamic``.

A constant is reported once, where it is defined (that is where a fix goes), unless its only role is to be a
piece of a larger statement: then the composed statement is reported instead, located where its text begins.
Whether a candidate is really SQL is the parse stage's call; this stage only drops docstrings, bare string
statements and strings that cannot contain a write or DDL keyword.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import itertools
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from guard.model import Diagnostic, SchemaFact, SqlCandidate
from guard.scan.frontends.python.calls import call_context, message_kind, scalar_text
from guard.scan.frontends.python.dialect import dialect_of_module, may_be_foreign
from guard.scan.frontends.python.drivers import DRIVERS, CallSite
from guard.scan.frontends.python.evidence import HistorySignals, Site
from guard.scan.frontends.python.format import Arg, brace_format, join_items, percent_format
from guard.scan.frontends.python.project import ModuleMap
from guard.scan.frontends.python.schema import SCHEMA_CALLS, SchemaCollector, dotted_name, is_downgrade
from guard.scan.frontends.python.scope import (
    MAX_ALTERNATIVES,
    Binding,
    ClassInfo,
    ImportRef,
    ModuleRef,
    Scope,
    SeqValue,
    union_bindings,
)
from guard.scan.frontends.python.source import describe_error, error_line, normalize_newlines, parse_newest
from guard.scan.frontends.python.strings import (
    Deferred,
    Fragment,
    Part,
    Position,
    SourceText,
    TextRun,
    Verbatim,
    concat,
    decode_body,
    decode_fstring_body,
    hole,
    lex_string_tokens,
    pinned,
    render_candidate,
)
from guard.scan.frontends.python.textual import extract_textual, looks_like_sql, starts_like_sql

_TRANSPARENT_METHODS = frozenset({"strip", "lstrip", "rstrip", "as_string"})
_BUILTINS = frozenset(dir(builtins))
#: Lower-case words at least one of which a function body needs to hold SQL or table definitions of its own; the
#: registered drivers' write calls (``to_sql``...) are added by :func:`_body_words`.
_BODY_WORDS = ("insert", "copy", "create", "alter", "drop", "merge", "upsert", "column", "table")
_SQL_KEYWORD = re.compile(r"(?i)insert|copy|create|alter|drop|merge|upsert")
_EXTERNAL = -2  # product id of values imported from another module: reported where they are defined


@dataclass
class PythonExtraction:
    candidates: list[SqlCandidate]
    schema_facts: list[SchemaFact]
    diagnostics: list[Diagnostic]
    #: Line ranges of module-level ``downgrade()`` functions (Alembic): DDL found there undoes the upgrade.
    downgrade_lines: tuple[tuple[int, int], ...] = ()
    #: the calls of the module, for the evidence of history around each write (None: the file did not parse)
    signals: HistorySignals | None = None

    def reverts_schema(self, candidate: SqlCandidate) -> bool:
        """Whether ``candidate`` sits in a ``downgrade()``: its writes count, its DDL must not reach the catalog
        (``op.execute("DROP TABLE ...")`` replayed after the upgrade's ``CREATE TABLE`` would erase the table)."""
        return any(first <= candidate.line <= last for first, last in self.downgrade_lines)


def extract_python(text: str, relpath: str, modules: ModuleMap | None = None) -> PythonExtraction:
    """Candidates, schema facts and diagnostics of one Python file. Never raises on bad input."""
    text = normalize_newlines(text)
    text, tree = parse_newest(text, relpath)
    if not isinstance(tree, ast.Module):
        return _fallback(text, relpath, error_line(tree), f"does not parse as Python 3: {describe_error(tree)}")
    extractor = Extractor(text, relpath, modules)
    try:
        extractor.run(tree)
        candidates, facts = extractor.candidates(), extractor.schema.facts
        dialect = dialect_of_module(tree) if may_be_foreign(text) else None
        if dialect is not None:  # another database's SQL: its writes are listed, its DDL is not our schema
            candidates, facts = [replace(c, dialect=dialect) for c in candidates], []
        return PythonExtraction(candidates, facts, [], _downgrade_lines(tree), HistorySignals(tree, relpath))
    except RecursionError:
        return _fallback(text, relpath, 1, "expressions nested too deeply to analyse")
    except Exception as exc:  # a bug here must not cost the file: say so, and still scan it textually
        extraction = _fallback(text, relpath, 1, "")
        reason = f"guard could not analyse this file ({type(exc).__name__}: {exc}); scanned with a best-effort pass"
        extraction.diagnostics[:] = [Diagnostic(relpath, 1, "internal-error", reason)]
        return extraction


def _downgrade_lines(tree: ast.Module) -> tuple[tuple[int, int], ...]:
    return tuple(
        (node.lineno, node.end_lineno or node.lineno)
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and is_downgrade(node.name)
    )


def _fallback(text: str, relpath: str, line: int, reason: str) -> PythonExtraction:
    diagnostic = Diagnostic(relpath, line, "parse-error", f"{reason}; scanned with a best-effort textual pass")
    return PythonExtraction(extract_textual(text, relpath), [], [diagnostic])


@dataclass
class _Product:
    """A value stored by one assignment statement, and how the rest of the file used it."""

    fragments: list[Fragment] = field(default_factory=list)
    consumed: bool = False
    alone: bool = False
    contexts: list[str] = field(default_factory=list)
    sites: list[Site] = field(default_factory=list)


# --- the interpreter ----------------------------------------------------------------------------------------------


class Extractor:
    """The abstract interpreter over one file. ``recording`` is False while it only evaluates (looking ahead,
    resolving a table name, reading constants for :class:`ModuleEvaluator`): nothing is reported then."""

    def __init__(self, text: str, relpath: str, modules: ModuleMap | None, recording: bool = True) -> None:
        self.src = SourceText(text)
        self.relpath = relpath
        self.modules = modules
        self.recording = recording
        self.module = Scope("module")
        self.aliases: dict[str, str] = {}  # local name -> dotted name it was imported as
        self.classes: dict[str, ClassInfo] = {}
        self.products: dict[int, _Product] = {}
        self.emitted: list[tuple[Fragment, str, Site | None]] = []
        #: calls whose arguments are being visited, innermost last: the site that runs a string found there
        self._sites: list[Site] = []
        self.deferred: deque[tuple[ast.FunctionDef | ast.AsyncFunctionDef, Scope, ClassInfo | None]] = deque()
        self.in_progress: set[tuple[int, str]] = set()
        self.schema = SchemaCollector(relpath)
        self._handlers = self._statement_handlers()
        self._sql_names: dict[tuple[int, int], frozenset[str]] = {}
        self._class_attr_count = 0  # grows whenever a class attribute is recorded
        #: Compositions being evaluated, outermost first: whether one mentions SQL decides whether an imported
        #: name in it is worth a lookup.
        self._compositions: list[tuple[ast.expr, Scope]] = []
        self._mentions: dict[int, bool] = {}

    # -- driving --

    def run(self, tree: ast.Module) -> None:
        self.run_module_level(tree)
        while self.deferred:
            self._run_function(*self.deferred.popleft())

    def run_module_level(self, tree: ast.Module) -> None:
        self.module.body = tree.body
        self.exec_block(tree.body, self.module)

    def _run_function(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, parent: Scope, class_info: ClassInfo | None
    ) -> None:
        if self.recording and self._nothing_to_find(node, parent):
            return
        args = node.args
        every_arg = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        names = [a.arg for a in every_arg] + [a.arg for a in (args.vararg, args.kwarg) if a is not None]
        module_level = parent is self.module and class_info is None
        reverts = parent.reverts_schema or (module_level and is_downgrade(node.name))
        scope = Scope(
            "function",
            parent,
            body=node.body,
            params=frozenset(names),
            class_info=class_info,
            reverts_schema=reverts,
        )
        if class_info is not None and every_arg:
            scope.self_names = frozenset({every_arg[0].arg, class_info.name})
        for name in names:
            scope.env[name] = None
        self.exec_block(node.body, scope)

    def _nothing_to_find(self, node: ast.FunctionDef | ast.AsyncFunctionDef, parent: Scope) -> bool:
        """Whether a function body can be skipped: it mentions no SQL word and no name that holds SQL.

        Such a body can neither write SQL of its own nor use (compose, execute) SQL held elsewhere, so
        interpreting it would change nothing. Most functions of a file that holds SQL are like this.
        """
        start, end = self.span(node)
        body = self.src.text[start:end]
        lowered = body.lower()
        if any(word in lowered for word in _body_words()):
            return False
        return not any(name in body for name in self._names_holding_sql(parent))

    def _names_holding_sql(self, scope: Scope) -> frozenset[str]:
        """Names visible from ``scope`` (and class attributes) bound to SQL-looking text or to tree imports.

        Cached per scope; class attributes can still be added by methods, so the cache key counts them.
        """
        key = (id(scope), self._class_attr_count)
        cached = self._sql_names.get(key)
        if cached is not None:
            return cached
        names: set[str] = set()
        current: Scope | None = scope
        while current is not None:
            names.update(name for name, bindings in current.every.items() if self._may_hold_sql(bindings))
            current = current.parent
        for info in self.classes.values():
            names.update(attr for attr, fragments in info.attrs.items() if any(map(_holds_sql, fragments)))
        self._sql_names[key] = result = frozenset(names)
        return result

    def _may_hold_sql(self, bindings: list[Binding]) -> bool:
        for binding in bindings:
            if isinstance(binding, tuple) and any(_holds_sql(f) for f in binding):
                return True
            if isinstance(binding, SeqValue) and any(item and any(map(_holds_sql, item)) for item in binding.items):
                return True
            if isinstance(binding, (ImportRef, ModuleRef)) and self.modules is not None:
                module = binding.module if isinstance(binding, ModuleRef) else f"{binding.module}.{binding.name}"
                if self.modules.relpath(module) or self.modules.relpath(binding.module):
                    return True
        return False

    def records_schema(self, scope: Scope) -> bool:
        """Whether table definitions met in ``scope`` describe the schema (not while resolving, not in a
        ``downgrade()``, whose drops would otherwise be replayed after the upgrade's creates)."""
        return self.recording and not scope.reverts_schema

    # -- results --

    def candidates(self) -> list[SqlCandidate]:
        chosen: list[tuple[Fragment, str, str, tuple[Site, ...]]] = [
            (f, ctx, message_kind([ctx]), (site,) if site else ()) for f, ctx, site in self.emitted
        ]
        for product in self.products.values():
            if product.consumed and not product.alone:
                continue
            use = next((c for c in product.contexts if c and not c.startswith("log:")), "")
            kind = message_kind(product.contexts)
            sites = tuple(dict.fromkeys(product.sites))
            for fragment in product.fragments:
                chosen.append((fragment, use, kind, sites))
        out: list[SqlCandidate] = []
        seen: set[tuple[str, int, int]] = set()
        for fragment, context, kind, sites in chosen:
            text = fragment.text
            if kind == "prose" or not looks_like_sql(text) or (kind == "output" and not starts_like_sql(text)):
                continue  # exception, assert and log messages are for people, whatever they say
            origin = "constant" if fragment.product >= 0 and fragment.origin == "literal" else fragment.origin
            context = fragment.context or context.removeprefix("log:")
            candidate = replace(render_candidate(fragment, self.relpath, origin, context), sites=sites)
            key = (candidate.text, candidate.line, candidate.column)
            if key not in seen:
                seen.add(key)
                out.append(candidate)
        out.sort(key=lambda c: (c.line, c.column))
        return out

    def root(self, fragments: Sequence[Fragment], context: str) -> None:
        """String values nothing composes further: report fresh ones, note how stored ones are used."""
        if not self.recording:
            return
        for fragment in fragments:
            if fragment.product >= 0:
                product = self.products.setdefault(fragment.product, _Product())
                product.alone = True
                product.contexts.append(context)
                if self._sites and not context.startswith("log:"):
                    product.sites.append(self._sites[-1])
            elif fragment.product != _EXTERNAL:
                self.emitted.append((fragment, context, self._site()))

    def _site(self) -> Site | None:
        return self._sites[-1] if self._sites else None

    def consume(self, fragments: Iterable[Fragment | None]) -> None:
        for fragment in fragments:
            if fragment is not None and fragment.product >= 0:
                self.products.setdefault(fragment.product, _Product()).consumed = True

    # -- statements --

    def exec_block(self, body: Sequence[ast.stmt], scope: Scope) -> None:
        for stmt in body:
            self.exec_stmt(stmt, scope)

    def exec_stmt(self, stmt: ast.stmt, scope: Scope) -> None:
        handler = self._handlers.get(type(stmt))
        if handler is not None:
            handler(stmt, scope)
            return
        for child in ast.iter_child_nodes(stmt):  # del, pass, type aliases...: only expressions matter
            if isinstance(child, ast.expr):
                self.visit(child, scope, "")

    def _statement_handlers(self) -> dict[type, Callable[[Any, Scope], None]]:
        handlers: dict[type, Callable[[Any, Scope], None]] = {
            ast.Expr: self._expr_statement,
            ast.Assign: lambda stmt, scope: self._assign(stmt, stmt.targets, stmt.value, scope),
            ast.AnnAssign: self._ann_assign,
            ast.AugAssign: self._aug_assign,
            ast.Return: self._return,
            ast.If: lambda stmt, scope: self.branches(scope, self._if_chain(stmt, scope), fallthrough=False),
            ast.For: self._loop,
            ast.AsyncFor: self._loop,
            ast.While: self._loop,
            ast.With: self._with,
            ast.AsyncWith: self._with,
            ast.Try: self._try,
            ast.FunctionDef: self._function,
            ast.AsyncFunctionDef: self._function,
            ast.ClassDef: self._class,
            ast.Import: self._import,
            ast.ImportFrom: self._import,
            ast.Global: lambda stmt, scope: scope.declared_global.update(stmt.names),
            ast.Nonlocal: lambda stmt, scope: scope.declared_global.update(stmt.names),
            ast.Raise: self._raise,
            ast.Assert: self._assert,
            ast.Match: self._match,
        }
        try_star = getattr(ast, "TryStar", None)
        if try_star is not None:
            handlers[try_star] = self._try
        return handlers

    def _expr_statement(self, stmt: ast.Expr, scope: Scope) -> None:
        if not isinstance(stmt.value, (ast.Constant, ast.JoinedStr)):  # docstrings, bare strings: no effect
            self.visit(stmt.value, scope, "")

    def _ann_assign(self, stmt: ast.AnnAssign, scope: Scope) -> None:
        if stmt.value is not None:
            self._assign(stmt, [stmt.target], stmt.value, scope)

    def _return(self, stmt: ast.Return, scope: Scope) -> None:
        if stmt.value is not None:
            self.visit(stmt.value, scope, "")

    def _loop(self, stmt: ast.For | ast.AsyncFor | ast.While, scope: Scope) -> None:
        """A loop body may run or not: its values join the ones from before the loop."""
        if isinstance(stmt, ast.While):
            self.visit(stmt.test, scope, "")
        else:
            self.visit(stmt.iter, scope, "")
            self.bind_target(stmt.target, scope)
        self.branches(scope, [stmt.body], fallthrough=True)
        self.exec_block(stmt.orelse, scope)

    def _with(self, stmt: ast.With | ast.AsyncWith, scope: Scope) -> None:
        for item in stmt.items:
            self.visit(item.context_expr, scope, "")
            if self.records_schema(scope):
                self.schema.on_with(item, self.resolver(scope))
            if item.optional_vars is not None:
                self.bind_target(item.optional_vars, scope)
        self.exec_block(stmt.body, scope)

    def _function(self, stmt: ast.FunctionDef | ast.AsyncFunctionDef, scope: Scope) -> None:
        """Decorators and defaults run now; the body runs after the module (it sees every module value)."""
        for expr in [*stmt.decorator_list, *stmt.args.defaults, *filter(None, stmt.args.kw_defaults)]:
            self.visit(expr, scope, "")
        in_class = scope.kind == "class"
        parent = (scope.parent or self.module) if in_class else scope
        self.deferred.append((stmt, parent, scope.class_info if in_class else None))
        self.bind(scope, stmt.name, None)

    def _raise(self, stmt: ast.Raise, scope: Scope) -> None:
        if stmt.exc is not None:
            self.visit(stmt.exc, scope, "log:raise")

    def _assert(self, stmt: ast.Assert, scope: Scope) -> None:
        self.visit(stmt.test, scope, "")
        if stmt.msg is not None:
            self.visit(stmt.msg, scope, "log:assert")

    def _match(self, stmt: ast.Match, scope: Scope) -> None:
        self.visit(stmt.subject, scope, "")
        self.branches(scope, [case.body for case in stmt.cases], fallthrough=True)

    def branches(self, scope: Scope, bodies: Sequence[Sequence[ast.stmt]], fallthrough: bool) -> None:
        """Run alternative blocks from the same starting state; afterwards a name holds any of their values."""
        base = scope.env
        outcomes = [base] if fallthrough else []
        changed: set[str] = set()
        for body in bodies:
            scope.env = dict(base)
            mark = len(scope.writes)
            self.exec_block(body, scope)
            changed.update(scope.writes[mark:])
            outcomes.append(scope.env)
        merged = dict(base)
        for name in changed:
            values = [env[name] for env in outcomes if name in env]
            first = values[0]
            merged[name] = first if all(v is first for v in values) else union_bindings(values)
        scope.env = merged

    def _if_chain(self, stmt: ast.If, scope: Scope) -> list[list[ast.stmt]]:
        """The bodies of an ``if``/``elif``/``else`` chain, walked as a list (long chains would recurse)."""
        bodies: list[list[ast.stmt]] = []
        current: ast.If = stmt
        while True:
            self.visit(current.test, scope, "")
            bodies.append(current.body)
            orelse = current.orelse
            if len(orelse) == 1 and isinstance(orelse[0], ast.If):
                current = orelse[0]
                continue
            bodies.append(orelse)
            return bodies

    def _try(self, stmt: ast.stmt, scope: Scope) -> None:
        handlers: list[ast.excepthandler] = getattr(stmt, "handlers", [])
        alternatives: list[list[ast.stmt]] = [[*getattr(stmt, "body", []), *getattr(stmt, "orelse", [])]]
        for handler in handlers:
            if isinstance(handler, ast.ExceptHandler):
                if handler.type is not None:
                    self.visit(handler.type, scope, "")
                if handler.name:
                    self.bind(scope, handler.name, None)
                alternatives.append(handler.body)
        self.branches(scope, alternatives, fallthrough=False)
        self.exec_block(getattr(stmt, "finalbody", []), scope)

    def _class(self, stmt: ast.ClassDef, scope: Scope) -> None:
        for expr in [*stmt.decorator_list, *stmt.bases, *(k.value for k in stmt.keywords)]:
            self.visit(expr, scope, "")
        bases = [dotted_name(b) or "" for b in stmt.bases]
        info = ClassInfo(stmt.name, [b.rsplit(".", 1)[-1] for b in bases if b])
        self.classes.setdefault(stmt.name, info)
        info = self.classes[stmt.name]
        class_scope = Scope(
            "class",
            scope if scope.kind != "class" else scope.parent,
            body=stmt.body,
            class_info=info,
            reverts_schema=scope.reverts_schema,
        )
        self.exec_block(stmt.body, class_scope)
        for name, bindings in class_scope.every.items():
            strings = union_bindings(bindings)
            if isinstance(strings, tuple):
                info.attrs.setdefault(name, []).extend(strings)
                self._class_attr_count += 1
        if self.records_schema(class_scope):
            self.schema.on_class(stmt, self.resolver(class_scope))
        self.bind(scope, stmt.name, None)

    def _import(self, stmt: ast.Import | ast.ImportFrom, scope: Scope) -> None:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                local = alias.asname or alias.name.split(".", 1)[0]
                target = alias.name if alias.asname else local
                self.aliases[local] = target
                self.bind(scope, local, ModuleRef(target))
            return
        base = self.absolute_module(stmt.module or "", stmt.level)
        for alias in stmt.names:
            if alias.name == "*":
                continue
            local = alias.asname or alias.name
            self.aliases[local] = f"{base}.{alias.name}" if base else alias.name
            self.bind(scope, local, ImportRef(base, alias.name))

    def absolute_module(self, module: str, level: int) -> str:
        if not level:
            return module
        current = self.modules.module_name(self.relpath) if self.modules else None
        if current is None:
            current = self.relpath.removesuffix(".py").replace("/", ".")
        package = current.split(".")
        is_package = self.relpath.endswith("__init__.py")
        drop = level - 1 if is_package else level
        package = package[: len(package) - drop] if drop <= len(package) else []
        return ".".join([*package, module] if module else package)

    # -- binding --

    def bind(self, scope: Scope, name: str, value: Binding) -> None:
        target = self.module if name in scope.declared_global else scope
        target.bind(name, value)

    def bind_target(self, target: ast.expr, scope: Scope) -> None:
        """A target assigned something that is not a string we know (loop variables, ``with ... as``)."""
        if isinstance(target, ast.Name):
            self.bind(scope, target.id, None)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.bind_target(element.value if isinstance(element, ast.Starred) else element, scope)
        else:
            self.visit(target, scope, "")

    def _store(self, stmt: ast.AST, fragments: Sequence[Fragment]) -> tuple[Fragment, ...]:
        """Tag freshly computed values with the assignment that stores them."""
        key = id(stmt)
        product = self.products.setdefault(key, _Product()) if self.recording else None
        stored = []
        for fragment in fragments:
            if fragment.product < 0 and fragment.product != _EXTERNAL:
                fragment = fragment.with_product(key)
                if product is not None:
                    product.fragments.append(fragment)
            stored.append(fragment)
        return tuple(stored)

    def _assign(self, stmt: ast.AST, targets: Sequence[ast.expr], value: ast.expr, scope: Scope) -> None:
        if (
            len(targets) == 1
            and isinstance(targets[0], (ast.Tuple, ast.List))
            and isinstance(value, (ast.Tuple, ast.List))
            and len(targets[0].elts) == len(value.elts)
        ):
            for target, item in zip(targets[0].elts, value.elts, strict=False):
                self._assign(item, [target], item, scope)
            return
        if isinstance(value, (ast.List, ast.Tuple)) and all(isinstance(t, ast.Name) for t in targets):
            sequence = self.sequence(value, scope)
            for target in targets:
                self.bind(scope, target.id, sequence)  # type: ignore[attr-defined]
            return
        reference = self._deferred_import(value, scope)
        if reference is not None and all(isinstance(t, ast.Name) for t in targets):
            for target in targets:
                self.bind(scope, target.id, reference)  # type: ignore[attr-defined]
            return
        fragments = self.value(value, scope, "")
        stored = self._store(stmt, fragments) if fragments else None
        for target in targets:
            if isinstance(target, ast.Name):
                self.bind(scope, target.id, stored)
            elif stored and self._is_self_attr(target, scope):
                attrs = scope.class_info.attrs  # type: ignore[union-attr]
                attrs.setdefault(target.attr, []).extend(stored)  # type: ignore[attr-defined]
                self._class_attr_count += 1
            elif stored:
                self.visit(target, scope, "")
                self.root(stored, "")
            else:
                self.bind_target(target, scope)

    def _aug_assign(self, stmt: ast.AugAssign, scope: Scope) -> None:
        target = stmt.target
        if not isinstance(target, ast.Name) or not isinstance(stmt.op, (ast.Add, ast.Mod)):
            self.visit(stmt.value, scope, "")
            if isinstance(target, ast.Name):
                self.bind(scope, target.id, None)
            else:
                self.visit(target, scope, "")
            return
        left = self.strings(self.lookup(target.id, scope, target), target)
        if isinstance(stmt.op, ast.Mod):
            result = self._percent(left, stmt.value, scope, "") if left else None
        else:
            right = self.value(stmt.value, scope, "")
            result = self._concat([left, right], [target, stmt.value]) if left or right else None
        self.bind(scope, target.id, self._store(stmt, result) if result else None)

    def _is_self_attr(self, node: ast.expr, scope: Scope) -> bool:
        return (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in scope.self_names
            and scope.class_info is not None
        )

    # -- name resolution --

    def lookup(self, name: str, scope: Scope, node: ast.expr) -> Binding:
        """The current scope's value as of now; enclosing scopes' values are all they ever hold.

        A name not bound yet is looked for in enclosing scopes first and only then among the current scope's
        later assignments (used before defined, e.g. in a loop) - the rare case pays for the statement walk.
        """
        start: Scope = self.module if name in scope.declared_global else scope
        if name in start.env:
            return start.env[name]
        if name in start.params:
            return None
        current = start.parent
        while current is not None:
            if current.kind != "class":
                if name in current.every:
                    return current.merged(name)
                if name in current.params:
                    return None
                if current.kind == "module" and name in current.assignments():
                    return self._lookahead(current, name)
            current = current.parent
        if name not in _BUILTINS and name in start.assignments():
            return self._lookahead(start, name)
        return None

    def _lookahead(self, scope: Scope, name: str) -> Binding:
        """Values a name receives later in its scope (used before its definition, e.g. in a function body)."""
        key = (id(scope), name)
        if key in self.in_progress:
            return None
        self.in_progress.add(key)
        recording, self.recording = self.recording, False
        try:
            values: list[Binding] = []
            for stmt in scope.assignments()[name]:
                value = getattr(stmt, "value", None)
                if isinstance(value, (ast.List, ast.Tuple)):
                    values.append(self.sequence(value, scope))
                elif isinstance(value, ast.expr) and (reference := self._deferred_import(value, scope)) is not None:
                    values.append(reference)
                elif isinstance(value, ast.expr):
                    fragments = self.value(value, scope, "")
                    values.append(self._store(stmt, fragments) if fragments else None)
            return union_bindings(values)
        finally:
            self.recording = recording
            self.in_progress.discard(key)

    def strings(self, binding: Binding, node: ast.expr) -> list[Fragment] | None:
        """The string values a name's binding stands for (an imported constant is looked up now)."""
        if isinstance(binding, tuple):
            return list(binding)
        if isinstance(binding, ImportRef):
            return self._imported(binding, node)
        return None

    def _deferred_import(self, value: ast.expr, scope: Scope) -> ImportRef | None:
        """``X = mod.NAME`` outside a class body binds ``X`` to the import itself: the module is only asked for
        the value if ``X`` is later needed as a string (class attributes are read without a scope, so they resolve
        at once)."""
        if scope.kind == "class" or not isinstance(value, (ast.Name, ast.Attribute)):
            return None
        return self._import_of(value, scope)

    def _imported(self, reference: ImportRef, node: ast.expr) -> list[Fragment] | None:
        """The value of an imported constant, asked of the module index only now that a value is needed.

        While extracting (``recording``), only for SQL: inside a composition that mentions SQL (``f"INSERT INTO
        {names.JOBS} ..."``), or defined in a module that may hold SQL itself (``sql.INSERT_JOB + " ON CONFLICT
        DO NOTHING"``); a message template from another module, formatted for a log line, costs no parse.
        Values asked for otherwise (a table name for a schema fact, another module's constant) are always wanted.
        """
        if self.modules is None:
            return None
        needless = self.recording and not self._composing_sql()
        if needless and not self.modules.may_hold_sql(reference.module):
            return None
        text = self.modules.constant(reference.module, reference.name)
        if text is None:
            return None
        return [Fragment(pinned(text, self.at(node)).parts, "constant", product=_EXTERNAL)]

    def _import_reference(self, node: ast.expr, scope: Scope) -> ImportRef | None:
        """The module and name ``node`` denotes when it names something imported (``X``, ``mod.X``, ``pkg.mod.X``)."""
        if isinstance(node, ast.Name):
            binding = self.lookup(node.id, scope, node)
            return binding if isinstance(binding, ImportRef) else None
        dotted = dotted_name(node) if isinstance(node, ast.Attribute) else None
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        binding = self.lookup(head, scope, node)
        if isinstance(binding, ModuleRef):
            qualified = f"{binding.module}.{rest}"
        elif isinstance(binding, ImportRef):
            qualified = f"{binding.module}.{binding.name}.{rest}"
        else:
            return None
        module, _, name = qualified.rpartition(".")
        return ImportRef(module, name)

    def _attribute_value(self, node: ast.Attribute, scope: Scope) -> list[Fragment] | None:
        if self._is_self_attr(node, scope):
            return self._class_attr(scope.class_info, node.attr)  # type: ignore[arg-type]
        if isinstance(node.value, ast.Name) and node.value.id in self.classes:
            return self._class_attr(self.classes[node.value.id], node.attr)
        if dotted_name(node) is None:
            self.visit(node.value, scope, "")
            return None
        reference = self._import_reference(node, scope)
        return self._imported(reference, node) if reference is not None else None

    def _class_attr(self, info: ClassInfo, attr: str, depth: int = 0) -> list[Fragment] | None:
        if attr in info.attrs:
            return list(info.attrs[attr])
        for base in info.bases:
            if base in self.classes and base != info.name and depth < 8:
                found = self._class_attr(self.classes[base], attr, depth + 1)
                if found:
                    return found
        return None

    # -- expressions --

    def visit(self, node: ast.expr, scope: Scope, context: str) -> None:
        """An expression whose value, if a string, is used as is (an argument, a return value...)."""
        if isinstance(node, ast.Constant):  # the common case (data tables, messages): test the text first
            text = node.value
            if isinstance(text, str) and self.recording and looks_like_sql(text):
                self.emitted.append((self.literal(node, text), context, self._site()))
            return
        if isinstance(node, (ast.Name, ast.Attribute)) and self._import_of(node, scope) is not None:
            return  # an imported value used as it is: reported where it is defined, so nothing to look up
        fragments = self.value(node, scope, context)
        if fragments:
            self.root(fragments, context)

    @contextlib.contextmanager
    def _composing(self, node: ast.expr, scope: Scope) -> Iterator[None]:
        self._compositions.append((node, scope))
        try:
            yield
        finally:
            self._compositions.pop()

    def _composing_sql(self) -> bool:
        """Whether a composition being evaluated mentions SQL: a literal with a SQL keyword, or a name of this
        file holding one (examined only when an import is about to be looked up)."""
        for node, scope in self._compositions:
            mentions = self._mentions.get(id(node))
            if mentions is None:
                mentions = self._mentions[id(node)] = self._mentions_sql(node, scope)
            if mentions:
                return True
        return False

    def _mentions_sql(self, node: ast.expr, scope: Scope) -> bool:
        for child in ast.walk(node):
            if isinstance(child, ast.Constant) and isinstance(child.value, str) and _SQL_KEYWORD.search(child.value):
                return True
            if isinstance(child, ast.Name):
                binding = self.lookup(child.id, scope, child)
                if isinstance(binding, tuple) and any(map(_holds_sql, binding)):
                    return True
        return False

    def _import_of(self, node: ast.Name | ast.Attribute, scope: Scope) -> ImportRef | None:
        """Like :meth:`_import_reference`, but ``self.X`` and ``Class.X`` are this file's class attributes."""
        if isinstance(node, ast.Attribute) and (
            self._is_self_attr(node, scope) or (isinstance(node.value, ast.Name) and node.value.id in self.classes)
        ):
            return None
        return self._import_reference(node, scope)

    def visit_children(self, node: ast.AST, scope: Scope, context: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.visit(child, scope, context)
            elif isinstance(child, (ast.keyword, ast.comprehension, ast.arguments, ast.arg, ast.match_case)):
                self.visit_children(child, scope, context)

    def value(self, node: ast.expr, scope: Scope, context: str) -> list[Fragment] | None:
        """The string values ``node`` may have, or None if it is not a string we can see.

        Either way, strings nested in ``node`` that are used on their own (call arguments...) are handled.
        """
        if isinstance(node, ast.Name):
            return self.strings(self.lookup(node.id, scope, node), node)
        if isinstance(node, ast.Constant):
            return [self.literal(node, node.value)] if isinstance(node.value, str) else None
        if isinstance(node, ast.Call):
            return self._call(node, scope, context)
        if isinstance(node, ast.Attribute):
            return self._attribute_value(node, scope)
        if isinstance(node, ast.JoinedStr):
            with self._composing(node, scope):
                return self._fstring(node, scope, context)
        if isinstance(node, ast.BinOp):
            with self._composing(node, scope):
                return self._binop(node, scope, context)
        if isinstance(node, ast.IfExp):
            self.visit(node.test, scope, "")
            return self._alternatives([node.body, node.orelse], scope, context)
        if isinstance(node, ast.BoolOp):
            return self._alternatives(node.values, scope, context)
        if isinstance(node, ast.NamedExpr):
            fragments = self.value(node.value, scope, context)
            stored = self._store(node, fragments) if fragments else None
            self.bind(scope, node.target.id, stored)
            return list(stored) if stored else None
        if isinstance(node, ast.Await):
            return self.value(node.value, scope, context)
        self.visit_children(node, scope, context)
        return None

    def _alternatives(self, nodes: Sequence[ast.expr], scope: Scope, context: str) -> list[Fragment] | None:
        found: list[Fragment] = []
        for node in nodes:
            found.extend(self.value(node, scope, context) or [])
        return found[:MAX_ALTERNATIVES] or None

    def literal(self, node: ast.Constant, value: str) -> Fragment:
        return Fragment((Part(value, Verbatim(lambda: self._literal_runs(node, value))),), "literal")

    def _literal_runs(self, node: ast.expr, value: str) -> list[TextRun]:
        """Where each piece of a literal's value was written; coarse (the node's start) if lexing disagrees."""
        start, end = self.span(node)
        tokens = lex_string_tokens(self.src.text, start, end)
        if tokens is not None:
            runs = [run for t in tokens for run in decode_body(self.src, t.body_start, t.body_end, "r" in t.prefix)]
            if "".join(run.text for run in runs) == value:
                return runs
        return [TextRun(value, *self.pos(node))]

    def span(self, node: ast.expr | ast.stmt) -> tuple[int, int]:
        start = self.src.offset(node.lineno, node.col_offset)
        end = self.src.offset(node.end_lineno or node.lineno, node.end_col_offset or node.col_offset)
        return start, end

    def at(self, node: ast.expr) -> Deferred:
        """The node's position, computed only if a candidate needs it."""
        return Deferred(lambda: self.pos(node))

    def pos(self, node: ast.expr) -> Position:
        return self.locate(node.lineno, node.col_offset)

    def locate(self, lineno: int, col_offset: int) -> Position:
        return self.src.position(self.src.offset(lineno, col_offset))

    def _fstring(self, node: ast.JoinedStr, scope: Scope, context: str) -> list[Fragment]:
        chunk_positions = _FStringPositions(self, node)
        choices: list[list[Fragment | None]] = []
        chunk = 0
        for piece in node.values:
            if isinstance(piece, ast.Constant) and isinstance(piece.value, str):
                source = chunk_positions.source(chunk, piece.value)
                choices.append([Fragment((Part(piece.value, source),), "fstring")])
                chunk += 1
            elif isinstance(piece, ast.FormattedValue):
                choices.append(self._field_value(piece, scope, context))
        nodes = [p.value if isinstance(p, ast.FormattedValue) else p for p in node.values]
        return self._combine(choices, nodes, lambda parts: concat(parts, "fstring"))

    def _field_value(self, piece: ast.FormattedValue, scope: Scope, context: str) -> list[Fragment | None]:
        fragments = self.value(piece.value, scope, context)
        if piece.format_spec is not None:
            self.visit(piece.format_spec, scope, context)
        if fragments is None:
            scalar = scalar_text(piece.value)
            return [pinned(scalar, self.at(piece.value)) if scalar is not None and piece.conversion == -1 else None]
        self.consume(fragments)
        if piece.format_spec is not None:
            return [None]
        if piece.conversion in (ord("r"), ord("a")):
            return [pinned(repr(f.text), self.at(piece.value)) if not f.dynamic else None for f in fragments]
        return list(fragments)

    def _combine(
        self,
        choices: Sequence[Sequence[Fragment | None]],
        nodes: Sequence[ast.expr],
        build: Callable[[list[Fragment]], Fragment],
    ) -> list[Fragment]:
        """Every combination of the operands' alternatives (bounded); unknown operands become holes."""
        results: list[Fragment] = []
        for combo in itertools.islice(itertools.product(*choices), MAX_ALTERNATIVES):
            operands = [f if f is not None else hole(self.at(n)) for f, n in zip(combo, nodes, strict=False)]
            results.append(build(operands))
        return results

    def _concat(self, operands: Sequence[list[Fragment] | None], nodes: Sequence[ast.expr]) -> list[Fragment]:
        choices: list[list[Fragment | None]] = []
        for fragments in operands:
            if fragments:
                self.consume(fragments)
                choices.append(list(fragments))
            else:
                choices.append([None])
        return self._combine(choices, nodes, lambda parts: concat(parts, "concat"))

    def _binop(self, node: ast.BinOp, scope: Scope, context: str) -> list[Fragment] | None:
        if isinstance(node.op, ast.Add):
            operands = _flatten_add(node)
            values = [self.value(operand, scope, context) for operand in operands]
            if not any(values):
                return None
            return self._concat(values, operands)
        if isinstance(node.op, ast.Mod):
            left = self.value(node.left, scope, context)
            if left:
                return self._percent(left, node.right, scope, context)
            self.visit(node.right, scope, context)
            return None
        self.visit(node.left, scope, context)
        self.visit(node.right, scope, context)
        return None

    def _percent(self, left: list[Fragment], right: ast.expr, scope: Scope, context: str) -> list[Fragment]:
        self.consume(left)
        if isinstance(right, ast.Dict):
            named_nodes = {k.value: v for k, v in zip(right.keys, right.values, strict=False) if _is_str(k)}  # type: ignore
            for k, v in zip(right.keys, right.values, strict=False):
                if not _is_str(k):
                    self.visit(v, scope, context)
            keys = list(named_nodes)
            choices = [self._arg(named_nodes[k], scope, context) for k in keys]
            return self.format_combos(
                left, choices, lambda fmt, args: percent_format(fmt, None, dict(zip(keys, args, strict=False)))
            )
        if isinstance(right, ast.Tuple):
            choices = [self._arg(element, scope, context) for element in right.elts]
            if any(isinstance(e, ast.Starred) for e in right.elts):
                return self.format_combos(left, [], lambda fmt, args: percent_format(fmt, None, None))
            return self.format_combos(left, choices, lambda fmt, args: percent_format(fmt, args, None))
        single = self.value(right, scope, context)
        if single is None and scalar_text(right) is None:
            binding = self.lookup(right.id, scope, right) if isinstance(right, ast.Name) else None
            if isinstance(binding, SeqValue):
                choices = [list(item) if item else [None] for item in binding.items]
                return self.format_combos(left, choices, lambda fmt, args: percent_format(fmt, args, None))
            return self.format_combos(left, [], lambda fmt, args: percent_format(fmt, None, None))
        choices = [self._arg(right, scope, context, single)]
        return self.format_combos(left, choices, lambda fmt, args: percent_format(fmt, args, None))

    def _arg(
        self, node: ast.expr, scope: Scope, context: str, known: list[Fragment] | None = None
    ) -> list[Fragment | None]:
        fragments = known if known is not None else self.value(node, scope, context)
        if fragments:
            self.consume(fragments)
            return list(fragments)
        scalar = scalar_text(node)
        return [pinned(scalar, self.at(node)) if scalar is not None else None]

    def format_combos(
        self,
        formats: Sequence[Fragment],
        choices: Sequence[Sequence[Fragment | None]],
        apply: Callable[[Fragment, Sequence[Arg]], Fragment],
    ) -> list[Fragment]:
        results: list[Fragment] = []
        for fmt in formats:
            for combo in itertools.islice(itertools.product(*choices), MAX_ALTERNATIVES):
                results.append(apply(fmt, combo))
                if len(results) >= MAX_ALTERNATIVES:
                    return results
        return results

    # -- calls --

    def _call(self, node: ast.Call, scope: Scope, context: str) -> list[Fragment] | None:
        func = node.func
        dotted = dotted_name(func)
        canonical = self._canonical(dotted) if dotted else ""
        last = canonical.rsplit(".", 1)[-1]
        if isinstance(func, ast.Attribute):
            method = func.attr
            if method in ("format", "join") or method in _TRANSPARENT_METHODS:
                with self._composing(node, scope):
                    receiver = self.value(func.value, scope, context)
                    if receiver:
                        return self._string_method(node, method, receiver, scope, context)
                self.visit_arguments(node, scope, call_context(dotted, canonical))
                return None
        builders = DRIVERS.builders().get(last)
        if builders:
            call = CallSite(node, dotted, canonical, last, scope)
            for driver in builders:
                if driver.value is not None and (driver.builds is None or driver.builds(call)):
                    return driver.value(self, call)
        if canonical in ("textwrap.dedent", "inspect.cleandoc", "str") and len(node.args) == 1 and not node.keywords:
            return self.value(node.args[0], scope, context)
        if not isinstance(func, (ast.Name, ast.Attribute)):
            self.visit(func, scope, context)
        elif isinstance(func, ast.Attribute) and not isinstance(func.value, ast.Name):
            self.visit(func.value, scope, context)
        context_name = call_context(dotted, canonical)
        self._sites.append((node.lineno, node.col_offset))
        try:
            self.visit_arguments(node, scope, context_name)
        finally:
            self._sites.pop()
        if self.recording:
            writer = DRIVERS.writers().get(last)
            if writer is not None and writer.write is not None and isinstance(func, ast.Attribute):
                written = writer.write(self, CallSite(node, dotted, canonical, last, scope))
                if written is not None:
                    self.emitted.append((written, last, (node.lineno, node.col_offset)))
            if last in SCHEMA_CALLS and self.records_schema(scope):
                self.schema.on_call(node, canonical, self.resolver(scope))
        return None

    def visit_arguments(self, node: ast.Call, scope: Scope, context: str, skip_first: bool = False) -> None:
        for argument in node.args[1:] if skip_first else node.args:
            self.visit(argument.value if isinstance(argument, ast.Starred) else argument, scope, context)
        for keyword in node.keywords:
            self.visit(keyword.value, scope, context)

    def _string_method(
        self, node: ast.Call, method: str, receiver: list[Fragment], scope: Scope, context: str
    ) -> list[Fragment] | None:
        if method in _TRANSPARENT_METHODS:
            self.visit_arguments(node, scope, context)
            return receiver
        self.consume(receiver)
        if method == "join":
            if len(node.args) != 1 or node.keywords:
                self.visit_arguments(node, scope, context)
                return None
            items = self.iterable(node.args[0], scope, context)
            return self.format_combos(receiver, items if items is not None else [[None]], join_items(items is None))
        positional: list[list[Fragment | None]] = []
        unknown_positional = False
        for argument in node.args:
            if isinstance(argument, ast.Starred):
                self.visit(argument.value, scope, context)
                unknown_positional = True
            else:
                positional.append(self._arg(argument, scope, context))
        names: list[str] = []
        named: list[list[Fragment | None]] = []
        unknown_named = False
        for keyword in node.keywords:
            if keyword.arg is None:
                self.visit(keyword.value, scope, context)
                unknown_named = True
            else:
                names.append(keyword.arg)
                named.append(self._arg(keyword.value, scope, context))
        count = len(positional)

        def apply(fmt: Fragment, args: Sequence[Arg]) -> Fragment:
            pos_args = None if unknown_positional else args[:count]
            kw_args = None if unknown_named else dict(zip(names, args[count:], strict=False))
            return brace_format(fmt, pos_args, kw_args)

        return self.format_combos(receiver, [*positional, *named], apply)

    def iterable(self, node: ast.expr, scope: Scope, context: str) -> list[list[Fragment | None]] | None:
        """Items of a literal list/tuple (or a name bound to one) for ``sep.join(...)``; None if unknown."""
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)) and not any(isinstance(e, ast.Starred) for e in node.elts):
            return [self._arg(element, scope, context) for element in node.elts]
        if isinstance(node, ast.Name) and node.id not in scope.mutated():  # a list grown in a loop is unknown
            binding = self.lookup(node.id, scope, node)
            if isinstance(binding, SeqValue):
                items: list[list[Fragment | None]] = [list(item) if item else [None] for item in binding.items]
                for item in items:
                    self.consume(item)
                return items
        self.visit(node, scope, context)
        return None

    def sequence(self, node: ast.List | ast.Tuple, scope: Scope) -> SeqValue:
        items: list[tuple[Fragment, ...] | None] = []
        for element in node.elts:
            fragments = self.value(element.value if isinstance(element, ast.Starred) else element, scope, "")
            items.append(self._store(element, fragments) if fragments else None)
        return SeqValue(tuple(items))

    def _canonical(self, dotted: str) -> str:
        head, dot, rest = dotted.partition(".")
        origin = self.aliases.get(head)
        return f"{origin}{dot}{rest}" if origin else dotted

    def single(self, node: ast.expr, scope: Scope) -> str | None:
        fragments = self.value(node, scope, "")
        if fragments and len(fragments) == 1 and not fragments[0].dynamic:
            self.consume(fragments)
            return fragments[0].text
        return None

    def resolver(self, scope: Scope) -> Callable[[ast.expr], str | None]:
        """Resolve an expression to one known string without reporting anything (for schema facts)."""

        def resolve(node: ast.expr) -> str | None:
            recording, self.recording = self.recording, False
            try:
                return self.single(node, scope)
            finally:
                self.recording = recording

        return resolve


class ModuleEvaluator:
    """Evaluates expressions at one module's top level with the extractor's rules, reporting nothing.

    What an importer needs of another module (:mod:`~guard.scan.frontends.python.constants`): the string a
    module-level expression holds, given the module's own names (bound with :meth:`bind`) and its imports.
    """

    def __init__(self, tree: ast.Module, text: str, relpath: str, modules: ModuleMap | None) -> None:
        self._interpreter = Extractor(text, relpath, modules, recording=False)
        self._interpreter.module.body = tree.body

    def bind(self, name: str, binding: Binding) -> None:
        """Bind a module-level name (an import) before expressions that use it are evaluated."""
        self._interpreter.module.bind(name, binding)

    def strings(self, node: ast.expr) -> list[Fragment] | None:
        """The string values a module-level expression may have, or None."""
        return self._interpreter.value(node, self._interpreter.module, "")

    def absolute_module(self, module: str, level: int) -> str:
        """The dotted name a (possibly relative) import in this module means."""
        return self._interpreter.absolute_module(module, level)


class _FStringPositions:
    """Positions of an f-string's literal chunks, lexed from the source once, on first need."""

    def __init__(self, extractor: Extractor, node: ast.JoinedStr) -> None:
        self.extractor = extractor
        self.node = node
        self.chunks: list[list[TextRun]] | None = None

    def source(self, index: int, text: str) -> Verbatim:
        """Positions of the ``index``-th literal chunk (whose decoded text is ``text``)."""
        return Verbatim(lambda: self.chunk(index, text))

    def chunk(self, index: int, text: str) -> list[TextRun]:
        if self.chunks is None:
            self.chunks = self._lex()
        if index < len(self.chunks) and "".join(run.text for run in self.chunks[index]) == text:
            return self.chunks[index]
        return [TextRun(text, *self.extractor.pos(self.node))]

    def _lex(self) -> list[list[TextRun]]:
        src = self.extractor.src
        start, end = self.extractor.span(self.node)
        tokens = lex_string_tokens(src.text, start, end) or []
        chunks: list[list[TextRun]] = []
        current: list[TextRun] = []
        for token in tokens:
            raw = "r" in token.prefix
            if "f" in token.prefix:
                items = decode_fstring_body(src, token.body_start, token.body_end, raw)
            else:
                items = list(decode_body(src, token.body_start, token.body_end, raw))
            for item in items:
                if item is None:
                    if current:
                        chunks.append(current)
                    current = []
                else:
                    current.append(item)
        if current:
            chunks.append(current)
        return chunks


# --- helpers ------------------------------------------------------------------------------------------------------


def _flatten_add(node: ast.BinOp) -> list[ast.expr]:
    """Operands of a left-nested ``a + b + c`` chain, without recursion (long chains exist)."""
    operands: list[ast.expr] = []
    current: ast.expr = node
    while isinstance(current, ast.BinOp) and isinstance(current.op, ast.Add):
        operands.append(current.right)
        current = current.left
    operands.append(current)
    operands.reverse()
    return operands


def _is_str(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


_DRIVER_WORDS: tuple[int, tuple[str, ...]] = (-1, ())


def _body_words() -> tuple[str, ...]:
    """:data:`_BODY_WORDS` plus every registered driver's write calls (rebuilt when the registry changes)."""
    global _DRIVER_WORDS
    version, words = _DRIVER_WORDS
    if version != DRIVERS.version:
        extra = sorted(name.lower() for name in DRIVERS.writers() if not any(w in name.lower() for w in _BODY_WORDS))
        words = (*_BODY_WORDS, *extra)
        _DRIVER_WORDS = (DRIVERS.version, words)
    return words


def _holds_sql(fragment: Fragment) -> bool:
    """Loose test (a keyword anywhere): a piece like ``"INSERT INTO t (a"`` counts."""
    return _SQL_KEYWORD.search(fragment.text) is not None
