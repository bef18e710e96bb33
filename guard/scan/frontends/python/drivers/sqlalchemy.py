"""SQLAlchemy Core's textual SQL: ``conn.execute(text(sql), params)`` and ``conn.exec_driver_sql(sql, params)``.
``text()`` is transparent: its value is its first argument's, marked with the context ``text()``. (ORM and Core
writes without SQL text are a separate concern.)"""

from __future__ import annotations

from guard.scan.frontends.python.drivers.base import CallSite, Driver, ExpressionReader
from guard.scan.frontends.python.strings import Fragment


def is_text_call(call: CallSite) -> bool:
    """``sqlalchemy...text(...)``, or ``text``/``sa.text``/``sql.text``/``expression.text`` as written."""
    canonical = call.canonical
    if canonical.rsplit(".", 1)[-1] != "text" or not call.node.args:
        return False
    if canonical.startswith("sqlalchemy"):
        return True
    return call.dotted in ("text", "sa.text", "sql.text", "expression.text")


def _text_value(ev: ExpressionReader, call: CallSite) -> list[Fragment] | None:
    fragments = ev.value(call.node.args[0], call.scope, "text()")
    ev.visit_arguments(call.node, call.scope, "text()", skip_first=True)
    return [f.with_context("text()") for f in fragments] if fragments else None


DRIVER = Driver(
    name="sqlalchemy",
    run_one=frozenset({"execute", "exec_driver_sql"}),
    param_keywords=("params", "parameters"),
    wrappers=frozenset({"text", "literal_column"}),
    builders=frozenset({"text"}),
    builds=is_text_call,
    value=_text_value,
)
