"""Python files written for a newer interpreter than the one running guard.

Python 3.12 (PEP 701) lets an f-string reuse its own quotes, hold backslashes and comments in its
replacement fields, and nest to any depth: ``f"INSERT INTO {cfg["schema"]}.jobs ..."``. The standard
library's ``ast`` of 3.10/3.11 rejects such a file, and its writes would be lost to a parse-error
diagnostic — the user's interpreter version would decide the blast radius.

libcst's own parser knows the newest grammar (3.0 through 3.14). When ``ast`` rejects a file that libcst
reads, each f-string the old grammar cannot read is rewritten into an equivalent the old grammar accepts:
outer quotes that none of its fields use (``f\"\"\"...\"\"\"``), and a field whose expression cannot be written
in the old grammar at all (a backslash or a comment inside it) becomes a name guard cannot resolve, i.e. a
hole, exactly what an unknown value is elsewhere. Every line keeps its number (only columns on the
rewritten lines move, by the added quote characters), so the AST pass reports what it would have reported
on a newer interpreter.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from guard.scan.frontends.python.strings import SourceText

if TYPE_CHECKING:  # libcst is imported only when a file needs it: it costs a third of a second to load
    import libcst as cst

#: The name a field that cannot be written for the old grammar becomes: unknown, so a hole.
UNKNOWN_FIELD = "guard_newer_syntax_value"
_QUOTES = ('"""', "'''", '"', "'")


def downgrade_source(text: str) -> str | None:
    """``text`` with every f-string the running ``ast`` cannot read rewritten for it; None when libcst
    cannot read the file either (it is not newer Python, it is broken) or a rewrite still fails."""
    import libcst
    from libcst.metadata import MetadataWrapper, PositionProvider

    try:
        module = libcst.parse_module(text)
    except Exception:
        return None
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    line_offsets = SourceText(text).line_offsets
    edits: list[tuple[int, int, str]] = []
    for node in _outermost_fstrings(wrapper.module):
        where = positions[node]
        start = line_offsets[where.start.line - 1] + where.start.column
        stop = line_offsets[where.end.line - 1] + where.end.column
        original = text[start:stop]
        if _reads(original):
            continue
        replacement = _rewrite(node, module)
        if replacement is None:
            return None
        edits.append((start, stop, replacement))
    if not edits:
        return None
    pieces: list[str] = []
    cursor = 0
    for start, stop, replacement in sorted(edits):
        pieces.append(text[cursor:start])
        pieces.append(replacement)
        cursor = stop
    pieces.append(text[cursor:])
    rewritten = "".join(pieces)
    try:
        ast.parse(rewritten)
    except (SyntaxError, ValueError):
        return None
    return rewritten


def _outermost_fstrings(module: cst.Module) -> list[cst.FormattedString]:
    """f-string nodes not nested in another f-string (a nested one is rewritten with its parent)."""
    import libcst

    found: list[libcst.FormattedString] = []

    class Collector(libcst.CSTVisitor):
        def visit_FormattedString(self, node: libcst.FormattedString) -> bool:
            found.append(node)
            return False

    module.visit(Collector())
    return found


def _reads(source: str) -> bool:
    """Whether the running interpreter's grammar reads ``source`` as an expression."""
    try:
        ast.parse(f"(\n{source}\n)", mode="eval")
    except (SyntaxError, ValueError):
        return False
    return True


def _rewrite(node: cst.FormattedString, module: cst.Module) -> str | None:
    """An equivalent of f-string ``node`` in the old grammar, or None."""
    import libcst

    prefix = node.prefix
    literal_parts: list[str] = []
    fields: list[str] = []
    body: list[tuple[str, str]] = []  # ("text" | "field", source)
    for part in node.parts:
        if isinstance(part, libcst.FormattedStringText):
            literal_parts.append(part.value)
            body.append(("text", part.value))
        else:
            source = module.code_for_node(part)
            fields.append(source)
            body.append(("field", source))
    for keep_fields in (True, False):
        for quote in (node.start[len(prefix) :], *_QUOTES):
            rendered = _render(prefix, quote, body, keep_fields)
            if rendered is not None and _reads(rendered):
                return rendered
    return None


def _render(prefix: str, quote: str, body: list[tuple[str, str]], keep_fields: bool) -> str | None:
    pieces: list[str] = []
    for kind, source in body:
        if kind == "text":
            if quote in source or (len(quote) == 1 and "\n" in source):
                return None
            pieces.append(source)
        elif "\\" not in source and "#" not in source and quote not in source:
            pieces.append(source)
        elif keep_fields:
            return None  # try another quote before giving up this field's value
        else:
            pieces.append("{" + UNKNOWN_FIELD + "}")
    return f"{prefix}{quote}{''.join(pieces)}{quote}"
