"""Infer the timestamp value to add: the source payload's own creation time when it can be named.

The other parameters of a write usually read one payload (``job["id"]``, ``job.get("x")``,
``c.phone``); the payload variable is the one most of them read. With the table's ``source_field`` the
value is read from that same payload; with ``source_expression`` the template is filled in; otherwise
the ingestion time is used and flagged, because that is exactly the value a reviewer must check.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from dataclasses import dataclass

import libcst as cst

from guard.codemods.module_index import iter_nodes
from guard.patch.site import ValueSource
from guard.patch.sql_edit import Unfixable

FALLBACK_REASON_NO_CONFIG = "no source_field or source_expression configured for this table"


def fallback_code(imports_datetime_module: bool) -> str:
    """The flagged ingestion-time value, spelled for the module's ``datetime`` import style."""
    if imports_datetime_module:
        return "datetime.datetime.now(datetime.timezone.utc)"
    return "datetime.now(timezone.utc)"


@dataclass(frozen=True)
class Payload:
    """The variable the row's values are read from and how (``subscript``, ``get`` or ``attribute``)."""

    name: str
    access: str
    quote: str = '"'


@dataclass(frozen=True)
class InferredValue:
    code: str | None  # Python expression; None -> use the ingestion-time fallback
    reason: str = ""  # why the fallback is used


def find_payload(values: Iterable[cst.BaseExpression]) -> Payload | None:
    """The variable most of ``values`` read from, or None when there is none or it is ambiguous."""
    counts: collections.Counter[str] = collections.Counter()
    seen: dict[str, Payload] = {}
    for value in values:
        for payload in _accesses(value):
            counts[payload.name] += 1
            seen.setdefault(payload.name, payload)
    if not counts:
        return None
    ranked = counts.most_common(2)
    if len(ranked) == 2 and ranked[0][1] == ranked[1][1]:
        return None
    return seen[ranked[0][0]]


def _accesses(value: cst.BaseExpression) -> list[Payload]:
    """Every ``name["key"]`` / ``name.get("key")`` read in ``value``, and ``name.attr`` when it is the value."""
    found: list[Payload] = []
    if isinstance(value, cst.Attribute) and isinstance(value.value, cst.Name):
        found.append(Payload(value.value.value, "attribute"))
    for node in iter_nodes(value):
        if isinstance(node, cst.Subscript):
            payload = _subscript_read(node)
        elif isinstance(node, cst.Call):
            payload = _get_read(node)
        else:
            continue
        if payload is not None:
            found.append(payload)
    return found


def _subscript_read(node: cst.Subscript) -> Payload | None:
    if isinstance(node.value, cst.Name) and len(node.slice) == 1:
        index = node.slice[0].slice
        if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
            return Payload(node.value.value, "subscript", index.value.quote[0])
    return None


def _get_read(node: cst.Call) -> Payload | None:
    func = node.func
    if isinstance(func, cst.Attribute) and func.attr.value == "get" and isinstance(func.value, cst.Name) and node.args:
        key = node.args[0].value
        if isinstance(key, cst.SimpleString):
            return Payload(func.value.value, "get", key.quote[0])
    return None


def infer_value(values: Iterable[cst.BaseExpression], source: ValueSource, column: str) -> InferredValue:
    """The expression for the new parameter, from the payload the row's other ``values`` read."""
    if not source.source_field and not source.source_expression:
        return InferredValue(None, FALLBACK_REASON_NO_CONFIG)
    payload = find_payload(values)
    if source.source_expression:
        return _from_template(source, payload, column)
    assert source.source_field is not None
    if payload is None:
        return InferredValue(None, "cannot tell which payload variable the other values come from")
    return InferredValue(read_field(payload, source.source_field))


def read_field(payload: Payload, field: str) -> str:
    """``job.get("createdOn")`` for dict payloads, ``job.createdOn`` for objects."""
    if payload.access == "attribute":
        if field.isidentifier():
            return f"{payload.name}.{field}"
        return f"getattr({payload.name}, {field!r})"
    quote = payload.quote
    return f"{payload.name}.get({quote}{field}{quote})"


def _from_template(source: ValueSource, payload: Payload | None, column: str) -> InferredValue:
    template = source.source_expression or ""
    if "{row}" in template and payload is None:
        return InferredValue(None, "source_expression needs {row} but the payload variable is unclear")
    quote = payload.quote if payload else '"'
    try:
        code = template.format(
            row=payload.name if payload else "",
            field=f"{quote}{source.source_field or ''}{quote}",
            column=f"{quote}{column}{quote}",
        )
        cst.parse_expression(code)
    except (KeyError, IndexError, ValueError, cst.ParserSyntaxError) as exc:
        # A configured expression that does not work is a configuration mistake, not a reason to fall back.
        raise Unfixable(
            f"source_expression {template!r} is not a valid template ({type(exc).__name__}: {exc}); "
            "use {row}, {field} and {column}"
        ) from None
    return InferredValue(code)
