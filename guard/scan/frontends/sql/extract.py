"""Stage 2 for ``.sql`` files: the file's SQL as candidates for the parser, positions exact.

A ``.sql`` file is SQL through and through, so it is one candidate (very large files are cut into several at
statement boundaries, so no single parse holds a whole dump in memory). Most are psql scripts: what psql
would send the server is read first (:mod:`.psql`): meta-commands that end a statement (``\\gexec``) end it,
``\\copy`` is a COPY, variables are values or holes, ``COPY ... FROM stdin`` data is blanked. Positions go
through the candidate's ``line_starts``, so line and column numbers stay exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from guard.model import Diagnostic, SqlCandidate
from guard.scan.frontends.sql.psql import Include, read_psql
from guard.scan.sql.bodies import dynamic_sql
from guard.scan.sql.text import Locator, SqlText

#: Files above this many characters are split into candidates of about this size.
CHUNK_CHARS = 1_000_000


@dataclass
class SqlFileExtraction:
    """A ``.sql`` file's candidates, problems, and the scripts it includes (``\\i``/``\\ir``)."""

    candidates: list[SqlCandidate] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    includes: list[Include] = field(default_factory=list)


def extract_sql_file(text: str, relpath: str) -> tuple[list[SqlCandidate], list[Diagnostic]]:
    """Candidates for the whole of ``text`` (origin ``sql-file``); line 1 column 1 is offset 0."""
    extraction = extract_sql_script(text, relpath)
    return extraction.candidates, extraction.diagnostics


def extract_sql_script(text: str, relpath: str) -> SqlFileExtraction:
    """Candidates, problems and includes of the psql script ``text``."""
    extraction = SqlFileExtraction()
    if text.startswith("\ufeff"):  # a byte-order mark is not a column anyone sees
        text = text[1:]
    if "\x00" in text:
        extraction.diagnostics.append(
            Diagnostic(relpath, 1, "nul-bytes", "NUL bytes in a .sql file were read as spaces")
        )
        text = text.replace("\x00", " ")
    script = read_psql(text)
    extraction.includes = script.includes
    server_sql = script.text
    if not server_sql.strip():
        return extraction
    whole = SqlCandidate(relpath, 1, 1, server_sql, "sql-file", line_starts=script.line_starts)
    if len(server_sql) <= CHUNK_CHARS:
        extraction.candidates.append(whole)
    else:
        extraction.candidates.extend(_chunks(whole))
    if script.gexec:
        locator = Locator(whole)
        for start, stop in script.gexec:
            extraction.candidates.extend(_generated(whole, locator, start, stop))
    return extraction


def _generated(whole: SqlCandidate, locator: Locator, start: int, stop: int) -> list[SqlCandidate]:
    """The statements a ``SELECT ... \\gexec`` query generates, as far as its text tells: each select-list item
    built from string literals (``format('INSERT INTO %I ...', t)``, ``'INSERT INTO ' || quote_ident(t) || ...``)
    rebuilt with holes for what only the run knows, positioned in the literal it came from."""
    sql = SqlText(whole.text[start:stop])
    tokens = sql.tokens
    if not tokens or tokens[0].name != "SELECT":
        return []
    candidates: list[SqlCandidate] = []
    for first, last in _select_items(sql):
        expression_start = start + tokens[first].start
        expression = whole.text[expression_start : start + tokens[last].end + 1]
        rebuilt = dynamic_sql(expression)
        if rebuilt is None:
            continue
        text, offsets = rebuilt
        starts = tuple(
            (new, *locator.position(expression_start + old)) for new, old in offsets.segments if new <= len(text)
        )
        line, column = starts[0][1], starts[0][2]
        candidates.append(
            SqlCandidate(whole.relpath, line, column, text, "sql-file", line_starts=starts, context="\\gexec")
        )
    return candidates


def _select_items(sql: SqlText) -> list[tuple[int, int]]:
    """Token ranges of the select-list items of ``SELECT a, b FROM ...`` (aliases dropped)."""
    items: list[tuple[int, int]] = []
    depth = 0
    first = 1
    for index in range(1, len(sql.tokens)):
        name = sql.tokens[index].name
        if name in ("ASCII_40", "ASCII_91"):
            depth += 1
        elif name in ("ASCII_41", "ASCII_93"):
            depth -= 1
        elif depth == 0 and name in ("ASCII_44", "FROM", "WHERE", "AS", "ASCII_59", "GROUP_P", "ORDER", "LIMIT"):
            if index > first:
                items.append((first, index - 1))
            if name != "ASCII_44":
                return items
            first = index + 1
    if len(sql.tokens) > first:
        items.append((first, len(sql.tokens) - 1))
    return items


def _chunks(whole: SqlCandidate) -> list[SqlCandidate]:
    """Cut ``whole`` at statement boundaries into candidates of about :data:`CHUNK_CHARS` characters."""
    text = whole.text
    sql = SqlText(text)
    locator = Locator(whole)
    candidates: list[SqlCandidate] = []
    chunk_start = 0
    for _first, last in sql.statements():
        end = sql.tokens[last].end + 1
        if end - chunk_start >= CHUNK_CHARS:
            candidates.append(_candidate(whole, locator, chunk_start, end))
            chunk_start = end
    if sql.scan_error is not None or chunk_start < len(text):
        candidates.append(_candidate(whole, locator, chunk_start, len(text)))
    return [candidate for candidate in candidates if candidate.text.strip()]


def _candidate(whole: SqlCandidate, locator: Locator, start: int, end: int) -> SqlCandidate:
    """The piece ``[start, end)`` of ``whole``, its positions (and any ``line_starts`` inside it) kept."""
    line, column = locator.position(start)
    starts: tuple[tuple[int, int, int], ...] = ()
    if whole.line_starts:
        inside = tuple((at - start, ln, col) for at, ln, col in whole.line_starts if start < at < end)
        starts = ((0, line, column), *inside)
    return SqlCandidate(whole.relpath, line, column, whole.text[start:end], "sql-file", line_starts=starts)
