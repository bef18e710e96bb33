"""Stage 2 for ``.sql`` files: the file's SQL as candidates for the parser, positions exact.

A ``.sql`` file is SQL through and through, so it is one candidate (very large files are cut into several at
statement boundaries, so no single parse holds a whole dump in memory). What Postgres' parser cannot read but
``psql`` scripts and ``pg_dump`` output contain is blanked out with spaces — keeping every other character
where it was, so line and column numbers stay exact:

* psql meta-commands (``\\connect db``, ``\\set x 1``, ``\\i other.sql``) on lines of their own;
* the data rows of ``COPY ... FROM stdin;`` up to the ``\\.`` line that ends them.
"""

from __future__ import annotations

from guard.model import Diagnostic, SqlCandidate
from guard.scan.sql.text import SqlText

#: Files above this many characters are split into candidates of about this size.
CHUNK_CHARS = 1_000_000


def extract_sql_file(text: str, relpath: str) -> tuple[list[SqlCandidate], list[Diagnostic]]:
    """Candidates for the whole of ``text`` (origin ``sql-file``); line 1 column 1 is offset 0."""
    diagnostics: list[Diagnostic] = []
    if text.startswith("\ufeff"):  # a byte-order mark is not a column anyone sees
        text = text[1:]
    if "\x00" in text:
        diagnostics.append(Diagnostic(relpath, 1, "nul-bytes", "NUL bytes in a .sql file were read as spaces"))
        text = text.replace("\x00", " ")
    text = _blank_non_sql(text)
    if not text.strip():
        return [], diagnostics
    if len(text) <= CHUNK_CHARS:
        return [SqlCandidate(relpath, 1, 1, text, "sql-file")], diagnostics
    return _chunks(text, relpath), diagnostics


def _blank_non_sql(text: str) -> str:
    """Replace psql meta-command lines and COPY data rows by spaces (newlines kept)."""
    if "\\" not in text:
        return text
    lines = text.splitlines(keepends=True)
    in_copy_data = False
    changed = False
    for number, line in enumerate(lines):
        content = line.rstrip("\r\n")
        if in_copy_data:
            in_copy_data = content != "\\."
        elif content.lstrip().startswith("\\"):
            pass
        else:
            in_copy_data = _starts_copy_data(content)
            continue
        lines[number] = " " * len(content) + line[len(content) :]
        changed = True
    return "".join(lines) if changed else text


def _starts_copy_data(line: str) -> bool:
    """``COPY ... FROM stdin;`` on one line, as pg_dump writes it: data rows follow."""
    words = line.strip().upper()
    return words.startswith("COPY ") and words.endswith(";") and " FROM STDIN" in words


def _chunks(text: str, relpath: str) -> list[SqlCandidate]:
    """Cut ``text`` at statement boundaries into candidates of about :data:`CHUNK_CHARS` characters."""
    sql = SqlText(text)
    candidates: list[SqlCandidate] = []
    chunk_start = 0
    line = 1
    for _first, last in sql.statements():
        end = sql.tokens[last].end + 1
        if end - chunk_start >= CHUNK_CHARS:
            candidates.append(_candidate(text, relpath, chunk_start, end, line))
            line += text.count("\n", chunk_start, end)
            chunk_start = end
    if sql.scan_error is not None or chunk_start < len(text):
        candidates.append(_candidate(text, relpath, chunk_start, len(text), line))
    return [candidate for candidate in candidates if candidate.text.strip()]


def _candidate(text: str, relpath: str, start: int, end: int, line: int) -> SqlCandidate:
    last_newline = text.rfind("\n", 0, start)
    column = start - last_newline
    return SqlCandidate(relpath, line, column, text[start:end], "sql-file")
