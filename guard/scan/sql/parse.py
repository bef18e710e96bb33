"""Stage 3 of the scanner: read a candidate as SQL and list its writes and schema facts.

Order of trust: Postgres' own parser (pglast) on the text as written (the fast path: schema files, SQL
without driver placeholders); if it is rejected, the text with its placeholders rewritten (``%s`` -> ``$1``),
whole, then statement by statement (so one bad statement does not hide the others); a statement still
rejected goes to sqlglot; if that fails too and the statement has the shape of SQL, an ``unparsed-sql``
diagnostic says so. Text that is not SQL (prose, log messages) yields ``statements == 0`` and nothing else.

Every offset goes back through a chain of maps (placeholder rewriting, statement and routine-body cut-outs,
string unescaping) to the candidate's text, so positions always point into the file as written.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from guard.model import HOLE_PREFIX, Diagnostic, SchemaFact, SqlCandidate, WriteStatement
from guard.scan.sql.bodies import parse_body, routine_label
from guard.scan.sql.ddl import facts_in_statement
from guard.scan.sql.dialects import created_tables, read_statement
from guard.scan.sql.fallback import has_statement_shape, hole_write, sqlglot_writes, statement_text, write_keyword
from guard.scan.sql.placeholders import rewrite_placeholders
from guard.scan.sql.text import Locator, SqlText, Statement, Unit, error_details
from guard.scan.sql.writes import writes_in_statement


@dataclass
class ParsedCandidate:
    """What one candidate holds. ``statements == 0`` means it was not SQL at all."""

    writes: list[WriteStatement] = field(default_factory=list)
    facts: list[SchemaFact] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    statements: int = 0


#: why a valid statement was not analysed: its nesting is deeper than Python's recursion limit
TOO_DEEP = (
    "it is nested too deeply for guard to analyse (valid PostgreSQL, but deeper than Python's recursion limit); "
    "review this statement by hand"
)


def parse_candidate(candidate: SqlCandidate) -> ParsedCandidate:
    """Parse ``candidate``; never raises (problems, even guard's own, become diagnostics)."""
    parser = _CandidateParser(candidate)
    # Postgres' parser stops at a NUL byte; a space keeps every offset where it was.
    text = candidate.text.replace("\x00", " ") if "\x00" in candidate.text else candidate.text
    try:
        parser.parse_unit(text, _identity, candidate.origin, candidate.context, top_level=True)
    except Exception as exc:  # guard's own bug: one odd string must not stop a scan of a whole tree
        message = f"guard could not analyse this SQL ({type(exc).__name__}: {exc}); please report it"
        parser.result.diagnostics.append(Diagnostic(candidate.relpath, candidate.line, "internal-error", message))
    result = parser.result
    _foreign_targets(candidate, parser.foreign_tables, result)
    result.writes.sort(key=lambda write: (write.line, write.column))
    return result


def _foreign_targets(candidate: SqlCandidate, foreign_tables: dict[str, str], result: ParsedCandidate) -> None:
    """Writes sent to another database are marked with its dialect.

    When the code says so (the candidate's dialect, from the Python client), every write is, and the
    candidate's DDL is not the PostgreSQL schema, nor is SQL Postgres cannot read a problem worth reporting.
    When the text says so (ClickHouse DDL in a ``.sql`` file), writes into the tables that foreign DDL created
    in the same text are foreign too, even those Postgres' parser happens to accept.
    """
    if candidate.dialect is not None:
        result.writes[:] = [replace(write, dialect=write.dialect or candidate.dialect) for write in result.writes]
        result.facts.clear()
        result.diagnostics[:] = [d for d in result.diagnostics if d.kind != "unparsed-sql"]
        return
    if not foreign_tables:
        return
    for index, write in enumerate(result.writes):
        dialect = foreign_tables.get((write.table or "").lower())
        if dialect is not None and write.dialect is None:
            result.writes[index] = replace(write, dialect=dialect)


def _identity(offset: int) -> int:
    return offset


def _statement_ranges(sql: SqlText, tree: dict[str, Any]) -> Iterator[tuple[dict[str, Any], int, int, int]]:
    """``(statement node, start, stop, byte location)`` of each statement pglast found in ``sql``.

    pglast's ``stmt_location`` is the statement's first token; ``stmt_len`` may include trailing blanks.
    """
    for raw in tree.get("stmts", []):
        location = raw.get("stmt_location", 0)
        length = raw.get("stmt_len", 0)
        start = sql.char(location)
        stop = sql.char(location + length) if length else len(sql.text)
        stop = start + len(sql.text[start:stop].rstrip())
        if stop > start and raw.get("stmt"):
            yield raw["stmt"], start, stop, location


class _CandidateParser:
    def __init__(self, candidate: SqlCandidate) -> None:
        self.candidate = candidate
        self.locator = Locator(candidate)
        self.result = ParsedCandidate()
        #: table -> dialect, for tables created by another database's DDL in this candidate
        self.foreign_tables: dict[str, str] = {}

    def parse_unit(
        self, text: str, to_source: Callable[[int], int], origin: str, context: str, top_level: bool = False
    ) -> None:
        """Parse ``text``, whose offsets ``to_source`` maps into the candidate."""
        counted = self._parse_as_written(text, to_source, origin, context)
        if counted is None:
            counted = self._parse_rewritten(text, to_source, origin, context)
        if top_level:
            self.result.statements += counted

    def _parse_as_written(self, text: str, to_source: Callable[[int], int], origin: str, context: str) -> int | None:
        """Parse ``text`` in one go, as written; None if Postgres rejects it.

        This is the fast path (a schema file, SQL without driver placeholders): nothing is scanned up front.
        Each statement becomes a unit of its own, so the scanner only ever runs over the statements that need
        it (writes, defaults, routine bodies), and only over them.
        """
        from pglast.parser import parse_sql_json

        if not text.strip():
            return 0
        try:
            tree = json.loads(parse_sql_json(text))
        except Exception:
            return None
        count = 0
        for stmt, start, stop, location in _statement_ranges(SqlText(text), tree):

            def statement_source(offset: int, start: int = start) -> int:
                return to_source(start + offset)

            statement_text = SqlText(text[start:stop])
            unit = Unit(statement_text, statement_source, self.candidate, self.locator, origin, context)
            self._statement(unit, stmt, 0, stop - start, byte_base=-location)
            count += 1
        return count

    def _parse_rewritten(self, text: str, to_source: Callable[[int], int], origin: str, context: str) -> int:
        """Scan, rewrite driver placeholders, parse; statement by statement when the whole is rejected."""
        original = SqlText(text)
        if not original.tokens:
            return 0
        rewritten = rewrite_placeholders(text, original.tokens)
        if rewritten.text is text:
            unit = Unit(original, to_source, self.candidate, self.locator, origin, context)
            return self._parse_each(unit)  # the text as written was rejected already
        sql = SqlText(rewritten.text, rewritten.tokens)
        offsets = rewritten.offsets

        def mapping(offset: int) -> int:
            return to_source(offsets.to_old(offset))

        if original.scan_error is not None:
            # The scanner stopped after the last placeholder, so the shift there is the total length change.
            reason, where = original.scan_error
            sql.scan_error = (reason, where + len(sql.text) - len(text))
        unit = Unit(sql, mapping, self.candidate, self.locator, origin, context)
        counted = self._parse_whole(unit) if sql.scan_error is None else None
        return self._parse_each(unit) if counted is None else counted

    def _parse_whole(self, unit: Unit) -> int | None:
        """Parse the rewritten unit in one go; None if Postgres rejects it."""
        from pglast.parser import parse_sql_json

        try:
            tree = json.loads(parse_sql_json(unit.sql.text))
        except Exception:
            return None
        count = 0
        for stmt, start, stop, _location in _statement_ranges(unit.sql, tree):
            self._statement(unit, stmt, start, stop, byte_base=0)
            count += 1
        return count

    def _parse_each(self, unit: Unit) -> int:
        return self._parse_spans(unit, list(unit.sql.statements()), recover=True)

    def _parse_spans(self, unit: Unit, spans: list[tuple[int, int]], recover: bool) -> int:
        """Parse each token range as a statement; a rejected range with inner ``;`` is split further once."""
        from pglast.parser import parse_sql_json

        sql = unit.sql
        count = 0
        for number, (first, last) in enumerate(spans):
            start = sql.tokens[first].start
            ends_at_scan_error = sql.scan_error is not None and number == len(spans) - 1
            stop = len(sql.text) if ends_at_scan_error else sql.tokens[last].end + 1
            if ends_at_scan_error and sql.scan_error is not None:
                count += self._rejected(unit, first, last, *sql.scan_error)
                continue
            try:
                tree = json.loads(parse_sql_json(sql.text[start:stop]))
            except RecursionError:  # valid SQL, nested deeper than Python can walk (a 500-deep subselect)
                count += self._rejected(unit, first, last, TOO_DEEP, start)
                continue
            except Exception as exc:
                pieces = sql.split_at_semicolons(first, last) if recover else []
                if len(pieces) > 1:
                    count += self._parse_spans(unit, pieces, recover=False)
                    continue
                reason, where = error_details(exc, stop - start)
                count += self._rejected(unit, first, last, reason, start + where)
                continue
            base = sql.byte(start)
            for raw in tree.get("stmts", []):
                if raw.get("stmt"):
                    self._statement(unit, raw["stmt"], start, stop, byte_base=base)
                    count += 1
        return count

    def _statement(self, unit: Unit, stmt: dict[str, Any], start: int, stop: int, byte_base: int) -> None:
        kind, node = next(iter(stmt.items()))
        statement = Statement(unit=unit, kind=kind, node=node, start=start, stop=stop, byte_base=byte_base)
        context = unit.context
        if kind in ("CreateFunctionStmt", "DoStmt"):
            context = routine_label(statement)
            self.result.diagnostics.extend(parse_body(statement, self.parse_unit))
        self.result.facts.extend(facts_in_statement(statement))
        self.result.writes.extend(writes_in_statement(statement, context))

    def _rejected(self, unit: Unit, first: int, last: int, reason: str, where: int) -> int:
        """A statement pglast rejects (``reason`` at offset ``where``): sqlglot, else a diagnostic if it is SQL.

        Returns 1 if the statement was SQL, 0 if it was prose.
        """
        if not has_statement_shape(unit, first, last):
            return 0
        text = statement_text(unit, first, last)
        reading = read_statement(text, probe_other_dialects=HOLE_PREFIX not in text)
        if reading is not None:
            self.result.writes.extend(sqlglot_writes(unit, first, last, unit.context, reading))
            if reading.dialect is not None:
                for table in created_tables(reading):
                    self.foreign_tables[table.lower()] = reading.dialect
            return 1
        dynamic = hole_write(unit, first, last, unit.context)
        if dynamic is not None:
            self.result.writes.append(dynamic)
            return 1
        self.result.diagnostics.append(self._unparsed(unit, first, last, reason, where))
        return 1

    def _unparsed(self, unit: Unit, first: int, last: int, reason: str, where: int) -> Diagnostic:
        """The diagnostic for SQL nobody could read; it says so when the text looked like a write."""
        sql = unit.sql
        anchor = write_keyword(unit, first, last)
        if sql.tokens[anchor].name not in ("INSERT", "COPY", "MERGE"):  # a write nested in a CTE
            nested = [
                i for i in range(first, last) if sql.tokens[i].name == "INSERT" and sql.tokens[i + 1].name == "INTO"
            ]
            anchor = nested[0] if nested else anchor
        is_write = sql.tokens[anchor].name in ("INSERT", "COPY", "MERGE")
        keyword = sql.word(anchor if is_write else first).upper()
        line = unit.line(max(where, sql.tokens[first].start))  # where the parser stopped: what to fix
        if is_write:
            started = unit.line(sql.tokens[anchor].start)
            at = f" (line {started})" if started != line else ""
            message = f"cannot parse this {keyword} statement{at}, so a write may be lost here: {reason}"
        else:
            message = f"cannot parse this {keyword} statement: {reason}"
        return Diagnostic(self.candidate.relpath, line, "unparsed-sql", message, f"{keyword} statement", is_write)
