"""Patch writes in ``.sql`` files (and in the dollar-quoted bodies of functions defined there).

The statement at a site is cut out of the file from its first keyword to the ``;`` that ends it — at
the top level or inside a ``$$ ... $$`` function body — planned with :func:`plan_timestamp_edit` and
edited in place, so the rest of the file (comments, other statements, psql meta-commands) is untouched.

Values: ``INSERT ... SELECT`` takes the table's ``source_column``, else a creation-time column of the
selected relation the catalog knows; VALUES rows and everything else get a ``NULL /* guard: review ... */``
placeholder. Never ``now()``: that is the ingestion time the scanner reports as GRD002 — the same phantom,
written explicitly. A NULL fails loudly on a NOT NULL column and is never mistaken for a real creation time.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import pglast

from guard.patch.params import LexError, dollar_body, tokenize_sql
from guard.patch.site import PatchSite, SiteResult
from guard.patch.sql_edit import Edit, Relations, Unfixable, WriteSpans, apply_edits, plan_timestamp_edit

#: creation-time column names looked for in the selected relation, after the timestamp column itself
CREATED_LIKE = ("created_on", "createdon", "created", "creation_time", "created_time", "create_time", "date_created")
FALLBACK_SQL = "NULL /* guard: review: source creation time */"


def patch_sql(text: str, sites: Sequence[PatchSite]) -> tuple[str, list[SiteResult]]:
    """Patch every site of one SQL file; returns the new text and one result per site."""
    layout = _Layout(text)
    edits: list[Edit] = []
    results = []
    for site in sites:
        result = SiteResult(site)
        try:
            edits.extend(_site_edits(layout, site, result))
        except Unfixable as exc:
            result.reason = str(exc)
        results.append(result)
    return (apply_edits(text, edits) if edits else text), results


class _Layout:
    """Line starts, dollar-quoted bodies and write statements of one file, each computed once for all its sites."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.line_starts = list(itertools.accumulate((len(line) + 1 for line in text.split("\n")[:-1]), initial=0))
        self._bodies: list[tuple[int, int, int, str]] | None = None  # (token start, token end, body offset, body)
        self._spans: dict[int, WriteSpans] = {}  # body offset (0: the file itself) -> its statements

    def line_offset(self, line: int) -> int:
        if not 1 <= line <= len(self.line_starts):
            raise Unfixable(f"the file has no line {line} (did it change since the scan?)")
        return self.line_starts[line - 1]

    def enclosing_body(self, offset: int) -> tuple[int, str]:
        """The dollar-quoted function body holding ``offset`` (with its start), or the whole text."""
        if self._bodies is None:
            try:
                tokens = tokenize_sql(self.text)
            except LexError as exc:
                raise Unfixable(f"the file does not lex as SQL ({exc})") from None
            found = ((tok, dollar_body(tok)) for tok in tokens)
            self._bodies = [(tok.start, tok.end, *body) for tok, body in found if body is not None]
        for token_start, token_end, base, body in self._bodies:
            if token_start <= offset < token_end:
                return base, body
        return 0, self.text

    def statement_span(self, base: int, body: str, line_offset: int) -> tuple[int, int]:
        """The INSERT/COPY/WITH statement of ``body`` starting on the line at ``line_offset`` (up to its ``;``)."""
        spans = self._spans.get(base)
        if spans is None:
            spans = self._spans[base] = WriteSpans(body)
        line_end = body.find("\n", line_offset)
        first = next(spans.spans_from(line_offset), None)
        if first is None or first[0] >= (len(body) if line_end < 0 else line_end):
            raise Unfixable("no INSERT or COPY starts at this line")
        return first


def _site_edits(layout: _Layout, site: PatchSite, result: SiteResult) -> list[Edit]:
    offset = layout.line_offset(site.line)
    base, body = layout.enclosing_body(offset)
    start, end = layout.statement_span(base, body, offset - base)
    fallbacks: list[str] = []

    def sql_value(relations: Relations) -> str:
        value = source_value(site, relations)
        if value is None:
            fallbacks.append(fallback_reason(relations))
            return FALLBACK_SQL
        return value

    patch = plan_timestamp_edit(
        body[start:end], site.table, site.column, sql_value, parameters=False, table_columns=site.table_columns
    )
    if patch.already_named:
        result.already = True
        return []
    if patch.kind == "copy":
        raise Unfixable("COPY in a .sql file reads its data from elsewhere: add the column to the data by hand")
    result.fixed = True
    result.value = patch.added_value()
    result.fallback = bool(fallbacks)
    result.reason = fallbacks[0] if fallbacks else ""
    shift = base + start
    return [Edit(e.start + shift, e.end + shift, e.text) for e in patch.edits]


def fallback_reason(relations: Relations) -> str:
    if relations is None:
        return "VALUES rows carry no source time"
    if not relations:
        return "the SELECT reads no table"
    if len(relations) > 1:
        return "the SELECT reads several tables: set source_column"
    return "no source_column configured and no creation-time column known in the selected relation"


def source_value(site: PatchSite, relations: Relations) -> str | None:
    """The selected relation's creation time (qualified by its alias), or None for VALUES / unknown sources.

    With several relations (a join), only the one the scanner saw the history come from (GRD007) qualifies."""
    if not relations:
        return None
    wanted_source = site.values.source_relation
    if wanted_source is not None:
        matching = [r for r in relations if _same_relation(r[0], wanted_source)]
        if len(matching) == 1:
            relation, alias = matching[0]
            return f"{alias or relation}.{site.values.source_column}"
    if len(relations) != 1:
        return None
    relation, alias = relations[0]
    prefix = f"{alias or relation}."
    if site.values.source_column:
        return prefix + site.values.source_column
    known = dict(site.source_relations)
    wanted = relation.lower()
    columns = next((cols for name, cols in known.items() if name == wanted or name.endswith("." + wanted)), ())
    for candidate in (site.column, *CREATED_LIKE):
        if candidate in columns:
            return prefix + candidate
    return None


def _same_relation(written: str, qualified: str) -> bool:
    """``f``-less ``funnels`` or ``shop.funnels`` as written in FROM denotes the catalog's ``shop.funnels``."""
    written = written.lower()
    return written == qualified or qualified.endswith("." + written)


def parses(text: str) -> str | None:
    """None when ``text`` parses as SQL, else the parser's message."""
    try:
        pglast.parse_sql(text)
    except pglast.parser.ParseError as exc:
        return str(exc)
    return None
