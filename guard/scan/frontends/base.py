"""The contract between the scan engine and a language front-end.

A front-end turns one file's bytes into what the shared stages understand: SQL text to parse
(:class:`~guard.model.SqlCandidate`), writes that have no SQL text (:class:`~guard.model.WriteStatement`, e.g. ORM
calls), schema facts, and diagnostics. Everything after that (parsing SQL with the shared SQL model in
:mod:`guard.scan.sql`, the catalog, resolution, rules, suppressions) is language-independent.

This module is a leaf of the front-end package: front-ends import it, the registry in ``__init__`` imports them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from guard.model import Diagnostic, SchemaFact, SqlCandidate, WriteStatement


@dataclass
class FileExtraction:
    """What a front-end found in one file.

    ``text`` is the decoded text (suppression comments are looked for in it; None when the file was not worth
    decoding). ``reverted_lines`` are line ranges whose DDL undoes the schema (an Alembic ``downgrade()``): their
    writes count, their schema facts must not reach the catalog.
    """

    candidates: list[SqlCandidate] = field(default_factory=list)
    writes: list[WriteStatement] = field(default_factory=list)
    facts: list[SchemaFact] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    text: str | None = None
    reverted_lines: tuple[tuple[int, int], ...] = ()
    #: adds what the front-end saw around a write (evidence of history, record keys) once its SQL is parsed:
    #: called with the write and the call sites that run it (the candidate's ``sites``, or the write's own
    #: position for writes without SQL text)
    annotate: Callable[[WriteStatement, Sequence[tuple[int, int]]], WriteStatement] | None = None

    def reverts_schema(self, candidate: SqlCandidate) -> bool:
        """Whether ``candidate`` sits where DDL undoes the schema (its facts are not the schema)."""
        return self.reverts_line(candidate.line)

    def reverts_line(self, line: int) -> bool:
        """Whether ``line`` lies where DDL undoes the schema (a ``downgrade()``, a ``-- migrate:down`` section)."""
        return any(first <= line <= last for first, last in self.reverted_lines)


class FileReader(Protocol):
    """A front-end bound to one scanned tree (built once per worker process)."""

    def extract(self, relpath: str, data: bytes) -> FileExtraction:
        """Everything the front-end finds in one file; never raises on bad input (problems are diagnostics).

        Files that cannot hold a write or a table definition (the front-end's byte prefilter) return an empty
        extraction without being decoded.
        """
        ...


class Frontend(Protocol):
    """One language: which files are its own, how suppressions are written, and how to read a file."""

    #: The language name, also :attr:`guard.model.SourceFile.language` (``python``, ``sql``).
    name: str
    #: File suffixes (lower case, with the dot) discovery hands to this front-end.
    suffixes: tuple[str, ...]
    #: Comment markers a ``guard: ignore[...]`` suppression may follow in this language's files (SQL's ``--`` is
    #: included wherever SQL lives in strings).
    comment_markers: tuple[str, ...]

    def anchors(self) -> tuple[bytes, ...]:
        """Lower-case byte words the prefilter looks for first (empty: every file is read)."""
        ...

    def reader(self, root: str, relpaths: Sequence[str]) -> FileReader:
        """The front-end bound to a tree whose files of this language are ``relpaths`` (relative to ``root``),
        e.g. for constants imported from other modules of the tree."""
        ...
