"""What calls to database drivers and SQL-building libraries mean for the SQL they receive.

psycopg's ``sql`` module composes statements from ``SQL``/``Identifier``/``Placeholder``/``Literal`` objects;
asyncpg's ``copy_records_to_table`` and psycopg2's ``copy_from`` write rows without any SQL text in the source
(the driver writes the ``COPY``); logging calls carry prose, not SQL. These functions give the extractor those
meanings; they work on the extractor's values (:class:`~guard.scan.pystrings.Fragment`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from guard.scan.pyformat import join_items
from guard.scan.pyscope import Scope, SeqValue
from guard.scan.pystrings import Fragment, concat, hole, pinned

if TYPE_CHECKING:
    from guard.scan.extract_python import Extractor

_LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"})
SQL_COMPOSABLES = frozenset({"SQL", "Identifier", "Placeholder", "Literal", "Composed"})
WRITE_SYNTHESIS = frozenset({"copy_records_to_table", "copy_to_table", "copy_from", "to_sql"})


def composable(ex: Extractor, node: ast.Call, kind: str, scope: Scope) -> list[Fragment] | None:
    pos = ex.at(node)
    if kind == "SQL":
        if not node.args:
            return None
        fragments = ex.value(node.args[0], scope, "sql.SQL")
        ex.visit_arguments(node, scope, "sql.SQL", skip_first=True)
        return [f.with_context("sql.SQL") for f in fragments] if fragments else [hole(pos)]
    if kind == "Composed":
        items = ex.iterable(node.args[0], scope, "sql.SQL") if node.args else None
        choices = items if items is not None else [[None]]
        return ex.format_combos([pinned("", pos)], choices, join_items(items is None))
    if kind == "Placeholder":
        name = literal_str(node.args[0]) if node.args else None
        if node.args and name is None:
            return [hole(pos)]
        return [pinned(f"%({name})s" if name else "%s", pos, "literal")]
    names = [ex.single(argument, scope) for argument in node.args]
    if kind == "Identifier" and names and all(n is not None for n in names):
        quoted = ".".join('"' + n.replace('"', '""') + '"' for n in names)  # type: ignore[union-attr]
        return [pinned(quoted, pos, "literal")]
    if kind == "Literal" and node.args:
        scalar = scalar_text(node.args[0])
        if names and names[0] is not None:
            return [pinned("'" + names[0].replace("'", "''") + "'", pos, "literal")]
        if scalar is not None:
            return [pinned(scalar, pos, "literal")]
    return [hole(pos)]


def synthesize_write(ex: Extractor, node: ast.Call, method: str, scope: Scope) -> None:
    """Driver calls that write rows without SQL in the source become the statement the driver sends.

    asyncpg ``copy_records_to_table("jobs", columns=[...], schema_name="titan")`` and psycopg2
    ``copy_from(f, "titan.jobs", columns=(...))`` are ``COPY ... FROM STDIN``; pandas ``df.to_sql("jobs", con,
    schema="titan")`` is an INSERT whose columns are the DataFrame's (unknown here: holes, so it is reviewed).
    """
    keywords = {k.arg: k.value for k in node.keywords if k.arg}
    args = node.args
    if method == "copy_from":  # psycopg2: copy_from(file, table, sep, null, size, columns); table used as written
        table_node = args[1] if len(args) > 1 else keywords.get("table")
        columns_node = args[5] if len(args) > 5 else keywords.get("columns")
        schema_node, quote = None, False
    elif method == "to_sql":  # pandas: to_sql(name, con, schema=None, ...), names quoted by SQLAlchemy
        table_node = args[0] if args else keywords.get("name")
        schema_node = args[2] if len(args) > 2 else keywords.get("schema")
        columns_node, quote = None, True
    else:  # asyncpg: copy_records_to_table(table_name, *, records, columns, schema_name); names quoted
        table_node = args[0] if args else keywords.get("table_name")
        columns_node = keywords.get("columns")
        schema_node, quote = keywords.get("schema_name"), True
    resolve = ex.resolver(scope)
    table = resolve(table_node) if table_node is not None else None
    if table is None:
        return
    schema = resolve(schema_node) if schema_node is not None else None
    target = ".".join(_ident(name, quote) for name in ([schema, table] if schema else [table]))
    func = node.func
    assert isinstance(func, ast.Attribute)
    line, column = ex.src.position(ex.src.offset(func.end_lineno or func.lineno, func.end_col_offset or 0))
    where = (line, column - len(method))
    if method == "to_sql":
        pieces = [pinned(f"INSERT INTO {target} (", where), hole(where), pinned(") VALUES (", where), hole(where)]
        pieces.append(pinned(")", where))
    else:
        pieces = [pinned(f"COPY {target}", where)]
        if columns_node is not None:
            columns = _column_names(ex, columns_node, scope)
            listed = ", ".join(_ident(c, quote) for c in columns) if columns is not None else None
            pieces += [pinned(" (", where), pinned(listed, where) if listed is not None else hole(where)]
            pieces.append(pinned(")", where))
        pieces.append(pinned(" FROM STDIN", where))
    fragment = concat(pieces, "literal").with_origin("literal").with_context(method)
    ex.emitted.append((fragment, method))


def _column_names(ex: Extractor, node: ast.expr, scope: Scope) -> list[str] | None:
    resolve = ex.resolver(scope)
    elements: Sequence[ast.expr] | None = None
    if isinstance(node, (ast.List, ast.Tuple)):
        elements = node.elts
    elif isinstance(node, ast.Name):
        binding = ex.lookup(node.id, scope, node)
        if isinstance(binding, SeqValue):
            items = binding.items
            if all(item and len(item) == 1 and not item[0].dynamic for item in items):
                return [item[0].text for item in items]  # type: ignore[index]
        return None
    if elements is None:
        return None
    names = [resolve(element) for element in elements]
    return None if any(n is None for n in names) else names  # type: ignore[return-value]


def call_context(dotted: str | None, canonical: str) -> str:
    if not dotted:
        return ""
    parts = dotted.split(".")
    last = parts[-1]
    if last in _LOG_METHODS and any("log" in p.lower() for p in parts[:-1]):
        return f"log:{last}"
    if canonical in ("print", "warnings.warn", "click.echo") or last.endswith(("Error", "Exception", "Warning")):
        return f"log:{last}"
    if len(parts) >= 2 and parts[-2] in ("op", "batch_op"):
        return f"{parts[-2]}.{last}"
    return last


def is_psycopg_sql(canonical: str) -> bool:
    modules = canonical.split(".")[:-1]
    return bool(modules) and modules[-1] == "sql" and (len(modules) == 1 or modules[0] in ("psycopg", "psycopg2"))


def is_text_call(canonical: str, dotted: str | None) -> bool:
    if not canonical.endswith("text") or canonical.rsplit(".", 1)[-1] != "text":
        return False
    if canonical.startswith("sqlalchemy"):
        return True
    return dotted in ("text", "sa.text", "sql.text", "expression.text")


def literal_str(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def scalar_text(node: ast.expr) -> str | None:
    """Text of an int/float/bool/None constant as ``str()`` renders it (substituted into formatted SQL)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return str(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = scalar_text(node.operand)
        return f"-{inner}" if inner is not None else None
    return None


def _ident(name: str, quote: bool) -> str:
    if not quote and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", name):
        return name
    if not quote:
        return ".".join(
            _ident(part, True) if not re.fullmatch(r"[A-Za-z_]\w*", part) else part for part in name.split(".")
        )
    return '"' + name.replace('"', '""') + '"'
