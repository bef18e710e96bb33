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
    return extraction


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
