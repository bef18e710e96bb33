"""Which Python-side column defaults are "the time of the insert".

A model's ``created_at`` can default to now in two very different places. A *database* default
(``server_default=func.now()``, Django's ``db_default=Now()``) is in the table: any INSERT that leaves the
column out gets it, and the database guard sees the omission. A *Python-side* default (``default=datetime.utcnow``,
``default=func.now()``, ``lambda: datetime.now(timezone.utc)``, SQLModel ``Field(default_factory=...)``, Django
``default=timezone.now`` / ``auto_now_add=True``) is filled in by the ORM: the row reaches the database with an
explicit value, so only writes through the model get it and no trigger can tell it from a real creation time.

This module recognises the second kind from the expression, with imports deciding what a name means.
"""

from __future__ import annotations

import ast
import re

from guard.scan.frontends.python.names import Names
from guard.scan.frontends.python.schema import dotted_name

#: Callables whose result is the current time (canonical import paths).
NOW_CALLABLES = frozenset(
    {
        "datetime.datetime.utcnow",
        "datetime.datetime.now",
        "datetime.datetime.today",
        "datetime.date.today",
        "django.utils.timezone.now",
        "arrow.utcnow",
        "arrow.now",
        "pendulum.now",
        "pendulum.today",
        "sqlalchemy.func.now",
        "sqlalchemy.sql.func.now",
        "sqlalchemy.sql.functions.now",
        "sqlalchemy.func.current_timestamp",
        "sqlalchemy.func.localtimestamp",
        "sqlalchemy.func.clock_timestamp",
        "sqlalchemy.func.statement_timestamp",
        "sqlalchemy.func.transaction_timestamp",
        "django.db.models.functions.Now",
        "django.db.models.functions.datetime.Now",
    }
)
#: SQL functions SQLAlchemy's ``func.<name>()`` renders that give the time of the insert.
_SQL_NOW = frozenset({"now", "current_timestamp", "localtimestamp", "clock_timestamp", "statement_timestamp",
                      "transaction_timestamp", "utc_timestamp", "current_date", "sysdate", "getdate", "utcnow"})
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def is_now_callable(node: ast.expr, names: Names, depth: int = 0) -> bool:
    """Whether ``node``, used as a default *callable* (``default=datetime.utcnow``), yields the current time."""
    if isinstance(node, ast.Lambda):
        return is_now_value(node.body, names, depth + 1)
    if isinstance(node, ast.Call):  # functools.partial(datetime.now, timezone.utc)
        path = names.canonical(node.func) or dotted_name(node.func) or ""
        return path.endswith("partial") and bool(node.args) and is_now_callable(node.args[0], names, depth + 1)
    if not isinstance(node, (ast.Name, ast.Attribute)):
        return False
    path = names.canonical(node) or dotted_name(node) or ""
    if path in NOW_CALLABLES or _spelled_now(dotted_name(node) or ""):
        return True
    if isinstance(node, ast.Name) and node.id in names.functions and depth < 3:
        return _returns_now(names.functions[node.id], names, depth + 1)
    return _named_now(path)


def is_now_value(node: ast.expr, names: Names, depth: int = 0) -> bool:
    """Whether the *value* ``node`` is the current time: ``datetime.now(timezone.utc)``, ``func.now()``,
    ``datetime.utcnow().replace(tzinfo=...)``, ``Now()``."""
    if depth > 4 or not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr in ("replace", "astimezone", "date") and depth < 4:
        return is_now_value(func.value, names, depth + 1)  # datetime.utcnow().replace(tzinfo=timezone.utc)
    if sql_now(node, names):
        return True
    return is_now_callable(func, names, depth + 1)


def sql_now(node: ast.expr, names: Names) -> bool:
    """``func.now()``, ``sa.func.current_timestamp()``, ``Now()``: SQL the ORM puts into the INSERT."""
    if not isinstance(node, ast.Call) or node.args:
        return False
    text = dotted_name(node.func) or ""
    path = names.canonical(node.func) or text
    if path in NOW_CALLABLES:
        return True
    parts = text.split(".")
    return len(parts) >= 2 and parts[-2] == "func" and parts[-1].lower() in _SQL_NOW


def _returns_now(function: ast.FunctionDef | ast.AsyncFunctionDef, names: Names, depth: int) -> bool:
    returns = [stmt for stmt in ast.walk(function) if isinstance(stmt, ast.Return) and stmt.value is not None]
    return bool(returns) and all(is_now_value(r.value, names, depth) for r in returns)  # type: ignore[arg-type]


def _spelled_now(text: str) -> bool:
    """``datetime.utcnow`` / ``dt.datetime.now`` / ``timezone.now`` as written, when the import is not visible."""
    parts = text.split(".")
    return len(parts) >= 2 and parts[-1] in ("now", "utcnow") and parts[-2] in ("datetime", "timezone", "dt")


def _named_now(path: str) -> bool:
    """A helper named for the current time (``utcnow``, ``utc_now``, ``now_utc``, ``get_current_time``),
    imported or defined elsewhere: the name is the evidence guard has."""
    last = path.rsplit(".", 1)[-1]
    words = [w.lower() for w in _WORDS.findall(last)]
    if any(w in ("now", "utcnow") for w in words):
        return True
    return "current" in words and any(w in ("time", "timestamp", "datetime") for w in words)


def describe(node: ast.expr) -> str:
    """Short source-like text of a default for messages (``datetime.utcnow``, ``lambda: ...``)."""
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."
