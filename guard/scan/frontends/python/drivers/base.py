"""What a database driver (or SQL-building library) contributes to the Python front-end, as data.

Each driver family lives in one module of this package and exports one :class:`Driver`. A driver says:

* which byte shapes make a file worth parsing (:class:`Anchor`, for the prefilter: a file that only calls
  ``copy_records_to_table`` has no SQL keyword in it);
* which calls run SQL and how their parameters are passed (``run_one``, ``run_many``...): the patcher follows the
  SQL to these calls to add the new value to every row;
* which calls *build* SQL text (``text()``, ``sql.SQL``): ``builds``/``value`` turn such a call into the string
  values it stands for;
* which calls *write without SQL text* (``copy_records_to_table``, ``to_sql``): ``writes``/``write`` return the
  statement the driver sends, as a fragment located at the call.

Drivers never see the extractor's internals: they receive an :class:`ExpressionReader` (the few questions they may ask
about expressions) and return what they found. That keeps this package free of any import of the extractor, so
the extractor can import the registry without a cycle.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from guard.scan.frontends.python.format import Arg
from guard.scan.frontends.python.scope import Binding, Scope, SeqValue
from guard.scan.frontends.python.strings import Deferred, Fragment, Position, concat, hole, pinned


@dataclass(frozen=True)
class Anchor:
    """A prefilter test: ``word`` is found (with every other anchor, in one pass) in the lower-cased file, then
    ``shape`` (a regular expression over lower-cased bytes) must match at that position. Anchors are cheap; shapes
    keep them tight."""

    word: bytes
    shape: bytes


@dataclass(frozen=True)
class CallSite:
    """One call as the extractor sees it: ``dotted`` as written (``cur.execute``), ``canonical`` with import aliases
    resolved (``psycopg.sql.SQL``), ``last`` its final name (``execute``), in ``scope``."""

    node: ast.Call
    dotted: str | None
    canonical: str
    last: str
    scope: Scope


class ExpressionReader(Protocol):
    """The questions a driver may ask about the expressions of the file being extracted."""

    def value(self, node: ast.expr, scope: Scope, context: str) -> list[Fragment] | None:
        """The string values ``node`` may have (strings nested in it are handled too), or None."""

    def visit_arguments(self, node: ast.Call, scope: Scope, context: str, skip_first: bool = False) -> None:
        """Handle the call's arguments as strings used on their own (they may hold SQL of their own)."""

    def iterable(self, node: ast.expr, scope: Scope, context: str) -> list[list[Fragment | None]] | None:
        """Items of a literal list/tuple (or a name bound to one); None if unknown."""

    def format_combos(
        self,
        formats: Sequence[Fragment],
        choices: Sequence[Sequence[Fragment | None]],
        apply: Callable[[Fragment, Sequence[Arg]], Fragment],
    ) -> list[Fragment]:
        """``apply`` over every (bounded) combination of a format's and its arguments' alternatives."""

    def single(self, node: ast.expr, scope: Scope) -> str | None:
        """The one fully known string ``node`` holds (consumed as a piece), or None."""

    def resolver(self, scope: Scope) -> Callable[[ast.expr], str | None]:
        """Resolve an expression to one known string without reporting anything."""

    def lookup(self, name: str, scope: Scope, node: ast.expr) -> Binding:
        """What ``name`` may hold at ``node``."""

    def at(self, node: ast.expr) -> Deferred:
        """The node's position, computed only if a candidate needs it."""

    def locate(self, lineno: int, col_offset: int) -> Position:
        """1-based (line, column) of an AST position."""


@dataclass(frozen=True)
class Driver:
    """One driver family's contribution; every field is optional (a driver may only run SQL, only build it...)."""

    name: str
    #: Prefilter tests for files that write through this driver without a SQL keyword in the file.
    anchors: tuple[Anchor, ...] = ()
    #: Methods that run one statement with one row of parameters (``cur.execute(sql, row)``).
    run_one: frozenset[str] = frozenset()
    #: Methods that run one statement once per row of a sequence (``cur.executemany(sql, rows)``).
    run_many: frozenset[str] = frozenset()
    #: Helpers ``f(cursor, sql, rows)`` that run once per row (``psycopg2.extras.execute_batch``).
    run_helpers: frozenset[str] = frozenset()
    #: Among the helpers, those that fill a ``VALUES %s`` template with every row (``execute_values``).
    fills_values_template: frozenset[str] = frozenset()
    #: Methods that open a ``COPY`` stream whose rows are written with ``write_row`` (psycopg 3 ``cur.copy``).
    copy_streams: frozenset[str] = frozenset()
    #: Keyword arguments that carry the parameters.
    param_keywords: tuple[str, ...] = ()
    #: Functions whose first argument is the SQL text (``text(sql)``): the patcher looks through them.
    wrappers: frozenset[str] = frozenset()
    #: Final names of calls that may build SQL text (``SQL``, ``text``); ``builds`` confirms a call is this
    #: driver's, ``value`` evaluates it.
    builders: frozenset[str] = frozenset()
    builds: Callable[[CallSite], bool] | None = None
    value: Callable[[ExpressionReader, CallSite], list[Fragment] | None] | None = None
    #: Method names that write rows without SQL text; ``write`` returns the statement the driver sends (or None
    #: when the call's target cannot be known).
    writes: frozenset[str] = frozenset()
    write: Callable[[ExpressionReader, CallSite], Fragment | None] | None = None
    #: ORM and query-builder writes, which have no SQL text at all (``session.add(Job(...))``,
    #: ``Order.objects.create(...)``): ``rows(module, body, call)`` records the writes one call makes as
    #: :class:`~guard.model.WriteStatement` entries of the :class:`~guard.scan.frontends.python.orm.Module`;
    #: ``finish(module, body, calls)`` runs once per function body after every call was seen (writes inferred
    #: from what is left). A file is read for them when it holds one of ``row_anchors`` (case-sensitive bytes)
    #: and one of ``row_gates`` (an ORM import, a session...), and passes ``row_confirm(data, relpath)`` when set:
    #: a closer byte test that must accept every file the driver can find a write in (it saves the parse).
    rows: Callable[..., None] | None = None
    finish: Callable[..., None] | None = None
    row_anchors: tuple[bytes, ...] = ()
    row_gates: tuple[bytes, ...] = ()
    row_confirm: Callable[[bytes, str | None], bool] | None = None


def column_names(ev: ExpressionReader, node: ast.expr, scope: Scope) -> list[str] | None:
    """The names of a literal list/tuple of column names (or a name bound to one); None if any is unknown."""
    if isinstance(node, ast.Name):
        binding = ev.lookup(node.id, scope, node)
        if isinstance(binding, SeqValue):
            items = binding.items
            if all(item and len(item) == 1 and not item[0].dynamic for item in items):
                return [item[0].text for item in items]  # type: ignore[index]
        return None
    if not isinstance(node, (ast.List, ast.Tuple)):
        return None
    resolve = ev.resolver(scope)
    names = [resolve(element) for element in node.elts]
    return None if any(n is None for n in names) else names  # type: ignore[return-value]


def quote_ident(name: str, quote: bool) -> str:
    """A table or column name as the driver writes it: always quoted (``quote``), or as given when it is a plain
    identifier (dotted names keep their dots; odd parts are quoted)."""
    if not quote and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", name):
        return name
    if not quote:
        return ".".join(
            quote_ident(part, True) if not re.fullmatch(r"[A-Za-z_]\w*", part) else part for part in name.split(".")
        )
    return '"' + name.replace('"', '""') + '"'


def method_position(ev: ExpressionReader, call: CallSite) -> Position:
    """Where the called method's name starts (``cur.copy_from(...)`` -> the ``c`` of ``copy_from``)."""
    func = call.node.func
    assert isinstance(func, ast.Attribute)
    line, column = ev.locate(func.end_lineno or func.lineno, func.end_col_offset or 0)
    return line, column - len(func.attr)


def keyword_arguments(node: ast.Call) -> dict[str, ast.expr]:
    return {k.arg: k.value for k in node.keywords if k.arg}


def argument(node: ast.Call, index: int, keyword: str) -> ast.expr | None:
    """The call's argument at position ``index``, else its keyword argument ``keyword``."""
    if len(node.args) > index:
        return node.args[index]
    return keyword_arguments(node).get(keyword)


def copy_statement(
    ev: ExpressionReader,
    call: CallSite,
    table_node: ast.expr | None,
    schema_node: ast.expr | None,
    columns_node: ast.expr | None,
    quote: bool,
) -> Fragment | None:
    """``COPY target [(columns)] FROM STDIN``: what a driver's bulk-copy call sends, located at the method name.

    Unknown columns become a hole (the write is then reviewed, not guessed); an unknown table means no statement.
    """
    resolve = ev.resolver(call.scope)
    table = resolve(table_node) if table_node is not None else None
    if table is None:
        return None
    schema = resolve(schema_node) if schema_node is not None else None
    target = ".".join(quote_ident(name, quote) for name in ([schema, table] if schema else [table]))
    where = method_position(ev, call)
    pieces = [pinned(f"COPY {target}", where)]
    if columns_node is not None:
        columns = column_names(ev, columns_node, call.scope)
        listed = ", ".join(quote_ident(c, quote) for c in columns) if columns is not None else None
        pieces += [pinned(" (", where), pinned(listed, where) if listed is not None else hole(where)]
        pieces.append(pinned(")", where))
    pieces.append(pinned(" FROM STDIN", where))
    return synthesized(pieces, call.last)


def synthesized(pieces: Sequence[Fragment], method: str) -> Fragment:
    """A statement a driver sends on the program's behalf, as one literal fragment whose context is the method."""
    return concat(pieces, "literal").with_origin("literal").with_context(method)
