"""What a Python call says about the strings handed to it, independent of any database driver.

Strings given to loggers, warnings, exception constructors, ``raise`` and ``assert`` are messages for people and
never statements, whatever they say ("INSERT INTO jobs failed: ..."); strings printed (``print``, ``click.echo``)
are statements only when they start like one (a script that prints SQL for psql); ``op.execute``/
``batch_op.execute`` are Alembic's. The context word a candidate carries
(``execute``, ``log:info``, ``op.execute``) comes from here. Number constants formatted into SQL are rendered the way
``str()`` would render them.
"""

from __future__ import annotations

import ast

_LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"})


def call_context(dotted: str | None, canonical: str) -> str:
    """The context word of strings passed to the call ``dotted`` (``canonical``: with import aliases resolved);
    ``log:<name>`` marks calls whose strings are prose."""
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


#: Contexts of strings written to standard output: a script may print SQL for psql to run.
_OUTPUT_CONTEXTS = frozenset({"log:print", "log:echo"})


def message_kind(contexts: list[str]) -> str:
    """``"sql"`` when a string is used anywhere but in messages, ``"output"`` when it is only printed (or printed
    and logged), ``"prose"`` when it only ever goes to a logger, an exception, ``raise`` or ``assert``."""
    if not contexts or any(not context.startswith("log:") for context in contexts):
        return "sql"
    return "output" if any(context in _OUTPUT_CONTEXTS for context in contexts) else "prose"


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
