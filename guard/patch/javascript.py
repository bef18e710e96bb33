"""``guard patch`` for JavaScript/TypeScript: add the timestamp column to plain-SQL writes.

Fixable forms are SQL written in one string or template literal:

- node-postgres style, ``client.query('INSERT ... VALUES ($1, $2)', [a, b])`` or ``{ text, values }``, or a
  ``const`` holding the SQL used by exactly one such call in its module: the column and a new ``$n`` go into the
  SQL, the value into the values array at the parameter's position;
- tagged templates (postgres.js, Prisma ``$executeRaw``...): the column and a ``${value}`` substitution.

The SQL is edited with the same span planner as Python and ``.sql`` files (:mod:`guard.patch.sql_edit`), on a view
of the literal in which every ``${…}`` is a hole the planner never touches. The value is the source row's own
creation time when the table's ``source_field``/``source_expression`` says where it is and the row variable
can be told from the other values (``job.id``, ``job.name`` -> ``job.createdOn``); otherwise ``new Date()``,
flagged for review. Builder and ORM writes (knex, Kysely, Drizzle, Prisma, TypeORM) have no SQL to edit: they are
reported unfixable with the change to make. The patched file must parse again with tree-sitter, else the planner
refuses it.
"""

from __future__ import annotations

import collections
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from guard.model import HOLE_PREFIX
from guard.patch.site import PatchSite, SiteResult
from guard.patch.sql_edit import Edit, Relations, SqlPatch, Unfixable, apply_edits, plan_timestamp_edit
from guard.scan.frontends.javascript.context import template_tag
from guard.scan.frontends.javascript.source import JsSource
from guard.scan.frontends.javascript.values import SQL_WORDS, may_be_sql

if TYPE_CHECKING:
    from tree_sitter import Node

BUILDER_REASON = (
    "a query-builder/ORM write has no SQL to edit: add {column} (or the model attribute mapped to it) with the "
    "source's creation time to the row objects it inserts"
)
NO_SOURCE_REASON = "no source_field or source_expression configured for this table"


@dataclass
class _View:
    """A literal's SQL with each ``${…}`` replaced by a hole name, and where each view offset sits in the file."""

    sql: str
    spans: list[tuple[int, int, int]]  # (view start, view end, file byte start) of verbatim pieces
    tagged: bool

    def to_file(self, offset: int) -> int:
        for start, end, byte in self.spans:
            if start <= offset <= end:
                return byte + (offset - start)
        raise Unfixable("the edit would fall inside a ${…} substitution")


def patch_javascript(text: str, relpath: str, sites: Sequence[PatchSite]) -> tuple[str, list[SiteResult]]:
    data = text.encode("utf-8")
    source = JsSource.parse(data, relpath)
    edits: list[Edit] = []
    results: list[SiteResult] = []
    for site in sites:
        result = SiteResult(site)
        try:
            site_edits, result.value, result.fallback, result.reason = _patch_site(source, site)
            result.fixed = bool(site_edits)
            result.already = not site_edits
            edits.extend(site_edits)
        except Unfixable as exc:
            result.reason = str(exc)
        results.append(result)
    if not edits:
        return text, results
    try:
        patched = apply_edits(data.decode("latin-1"), [Edit(e.start, e.end, _as_latin1(e.text)) for e in edits])
    except ValueError:
        return text, [SiteResult(r.site, reason="two sites edit the same text: patch by hand") for r in results]
    return patched.encode("latin-1").decode("utf-8"), results


def _as_latin1(text: str) -> str:
    """Edits are planned on bytes (tree-sitter offsets); carry their UTF-8 through a byte-preserving decoding."""
    return text.encode("utf-8").decode("latin-1")


def js_parse_problem(before: str, after: str, relpath: str) -> str | None:
    """Why the patched file does not parse (None if it does, or if the original did not parse either)."""
    if JsSource.parse(before.encode(), relpath).parse_errors():
        return None
    errors = JsSource.parse(after.encode(), relpath).parse_errors()
    return f"syntax error near line {errors[0]}" if errors else None


def _patch_site(source: JsSource, site: PatchSite) -> tuple[list[Edit], str, bool, str]:
    literal = _literal_at(source, site.line)
    if literal is None:
        raise Unfixable(BUILDER_REASON.format(column=site.column))
    view = _view(source, literal)
    rows = None if view.tagged else _values_array(source, literal)
    payload = _payload(source, rows if rows is not None else literal)
    value, fallback, reason = _value(site, payload)

    def sql_value(relations: Relations) -> str:
        if not view.tagged:
            raise Unfixable("the SQL has no parameters: add the column and its value by hand")
        return "${" + value + "}"

    plan = plan_timestamp_edit(view.sql, site.table, site.column, sql_value)
    if plan.already_named and not plan.edits:
        return [], "", False, ""
    edits = [Edit(view.to_file(e.start), view.to_file(e.end), e.text) for e in plan.edits]
    if plan.slots:
        edits.extend(_argument_edits(source, plan, rows, value))
    return edits, value, fallback, reason


def _literal_at(source: JsSource, line: int) -> Node | None:
    """The innermost string/template literal holding SQL whose span covers ``line``."""
    best = None
    for node in [*source.nodes("string"), *source.nodes("template_string")]:
        covers = node.start_point[0] + 1 <= line <= node.end_point[0] + 1
        if covers and may_be_sql(source.data, SQL_WORDS, node.start_byte, node.end_byte):
            best = node if best is None or node.start_byte >= best.start_byte else best
    return best


def _view(source: JsSource, literal: Node) -> _View:
    tagged = literal.type == "template_string" and template_tag(literal) is not None
    pieces: list[str] = []
    spans: list[tuple[int, int, int]] = []
    offset = 0
    holes = 0
    cursor = literal.start_byte + 1
    for child in literal.named_children:
        if child.type == "escape_sequence":
            raise Unfixable("the SQL literal has escape sequences: patch by hand")
        if child.type == "template_substitution":
            if child.start_byte > cursor:
                offset = _verbatim(source, cursor, child.start_byte, offset, pieces, spans)
            hole = f"{HOLE_PREFIX}{holes}"
            holes += 1
            pieces.append(hole)
            offset += len(hole)
            cursor = child.end_byte
    end = literal.end_byte - 1
    if end > cursor:
        _verbatim(source, cursor, end, offset, pieces, spans)
    return _View("".join(pieces), spans, tagged)


def _verbatim(
    source: JsSource, start: int, end: int, offset: int, pieces: list[str], spans: list[tuple[int, int, int]]
) -> int:
    chunk = source.data[start:end].decode("latin-1")  # one character per byte: view offsets are byte offsets
    pieces.append(chunk)
    spans.append((offset, offset + len(chunk), start))
    return offset + len(chunk)


def _values_array(source: JsSource, literal: Node) -> Node | None:
    """The array literal holding the statement's parameters: the call's next argument, the ``values`` of a
    ``{ text, values }`` config, or those of the one call in this module that runs the constant."""
    node = literal
    parent = node.parent
    if parent is not None and parent.type == "pair":
        config = parent.parent
        for entry in config.named_children if config is not None else []:
            key = entry.child_by_field_name("key") if entry.type == "pair" else None
            if key is not None and source.text(key) == "values":
                value = entry.child_by_field_name("value")
                return value if value is not None and value.type == "array" else None
        return None
    if parent is not None and parent.type == "variable_declarator":
        name = parent.child_by_field_name("name")
        declaration = parent.parent
        exported = declaration is not None and declaration.parent is not None
        if name is None or (exported and declaration.parent.type == "export_statement"):  # type: ignore[union-attr]
            raise Unfixable("the SQL constant is exported: other modules may run it with other values")
        uses = [
            argument
            for call in source.nodes("call_expression")
            for argument in _arguments(call)
            if argument.type == "identifier" and source.text(argument) == source.text(name)
        ]
        if len(uses) != 1:
            raise Unfixable(f"the SQL constant {source.text(name)} is run by {len(uses)} calls: patch by hand")
        node, parent = uses[0], uses[0].parent
    if parent is None or parent.type != "arguments":
        return None
    following = [a for a in parent.named_children if a.start_byte > node.start_byte and a.type != "comment"]
    return following[0] if following and following[0].type == "array" else None


def _arguments(call: Node) -> list[Node]:
    arguments = call.child_by_field_name("arguments")
    return list(arguments.named_children) if arguments is not None and arguments.type == "arguments" else []


def _payload(source: JsSource, node: Node) -> str | None:
    """The variable most values read from (``job`` in ``[job.id, job.name]``), or None when unclear."""
    counts: collections.Counter[str] = collections.Counter()
    for member in source.nodes("member_expression", node):
        owner = member.child_by_field_name("object")
        if owner is not None and owner.type == "identifier":
            counts[source.text(owner)] += 1
    ranked = counts.most_common(2)
    if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def _value(site: PatchSite, payload: str | None) -> tuple[str, bool, str]:
    """``(JS expression, is the ingestion-time fallback, why)``."""
    values = site.values
    if payload is not None and values.source_expression:
        field = f"'{values.source_field}'" if values.source_field else "''"
        code = values.source_expression.format(row=payload, field=field, column=f"'{site.column}'")
        return code, False, ""
    if payload is not None and values.source_field:
        name = values.source_field
        code = f"{payload}.{name}" if name.replace("_", "a").replace("$", "a").isalnum() else f"{payload}['{name}']"
        return code, False, ""
    reason = NO_SOURCE_REASON if payload is not None else "cannot tell which variable holds the source row"
    return "new Date()", True, reason


def _argument_edits(source: JsSource, plan: SqlPatch, rows: Node | None, value: str) -> list[Edit]:
    if rows is None:
        raise Unfixable("the statement's parameter values are not an array literal next to it: patch by hand")
    if any(slot.arg_index is None for slot in plan.slots) or len(plan.slots) != 1:
        raise Unfixable("several rows or named parameters: patch by hand")
    elements = [e for e in rows.named_children if e.type != "comment"]
    if any(e.type == "spread_element" for e in elements):
        raise Unfixable("the values array spreads another array: patch by hand")
    index = plan.slots[0].arg_index or 0
    if index >= len(elements):
        at = elements[-1].end_byte if elements else rows.start_byte + 1
        return [Edit(at, at, (", " if elements else "") + value)]
    at = elements[index].start_byte
    return [Edit(at, at, value + ", ")]
