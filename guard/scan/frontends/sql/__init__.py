"""The SQL front-end: ``.sql`` files and psql scripts are SQL through and through (see :mod:`.extract` and
:mod:`.psql`); function bodies inside them are read by the shared SQL model (:mod:`guard.scan.sql.bodies`).

A script's ``\\i``/``\\ir`` includes are followed when they name a file inside the scanned tree that no
front-end reads on its own (``seed.inc``, ``data.txt``): its SQL runs as part of the script. Migration
files with a rollback section (dbmate's ``-- migrate:down``, goose's ``-- +goose Down``) contribute no schema
facts from that section.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from guard.model import Diagnostic
from guard.scan.frontends.base import FileExtraction
from guard.scan.frontends.sql.extract import extract_sql_script
from guard.scan.frontends.sql.psql import Include
from guard.scan.rollback import down_section_line

#: File suffixes read as SQL on their own; an include of such a file is scanned as that file already.
SQL_SUFFIXES = (".sql", ".psql", ".pgsql")
#: How deep includes are followed (a script including itself stops here too).
MAX_INCLUDE_DEPTH = 4


def decode_sql(data: bytes, relpath: str) -> tuple[str, list[Diagnostic]]:
    """SQL files are UTF-8 in practice; anything else is read as Latin-1 (every byte decodes) and reported."""
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        message = f"not valid UTF-8 ({exc.reason}); read as Latin-1, names may be off"
        return data.decode("latin-1"), [Diagnostic(relpath, line, "decode-error", message)]


class SqlReader:
    def __init__(self, root: str = "") -> None:
        self.root = os.path.realpath(root) if root else ""

    def extract(self, relpath: str, data: bytes) -> FileExtraction:
        text, diagnostics = decode_sql(data, relpath)
        result = FileExtraction(diagnostics=diagnostics, text=text)
        self._script(relpath, text, result, depth=0, seen={relpath})
        down = down_section_line(text)
        if down is not None:
            result.reverted_lines = ((down, len(text.splitlines()) + 1),)
        return result

    def _script(self, relpath: str, text: str, result: FileExtraction, depth: int, seen: set[str]) -> None:
        extraction = extract_sql_script(text, relpath)
        result.candidates.extend(extraction.candidates)
        result.diagnostics.extend(extraction.diagnostics)
        if depth >= MAX_INCLUDE_DEPTH:
            return
        for include in extraction.includes:
            target = self._included(relpath, include)
            if target is None or target in seen:
                continue
            seen.add(target)
            try:
                with open(os.path.join(self.root, target), "rb") as handle:
                    included, problems = decode_sql(handle.read(), target)
            except OSError:
                continue
            result.diagnostics.extend(problems)
            self._script(target, included, result, depth + 1, seen)

    def _included(self, relpath: str, include: Include) -> str | None:
        """The tree-relative path of an included script worth reading here: inside the tree, a file, and not
        one the SQL front-end reads on its own. ``\\ir`` is relative to the script; ``\\i`` to the directory
        psql runs in, which is unknown: the script's directory, then the tree's root, are tried."""
        if not self.root or include.path.lower().endswith(SQL_SUFFIXES):
            return None
        script_dir = os.path.dirname(os.path.join(self.root, relpath))
        bases = [script_dir] if include.relative_to_script else [script_dir, self.root]
        for base in bases:
            path = os.path.realpath(os.path.join(base, include.path))
            if path.startswith(self.root + os.sep) and os.path.isfile(path):
                return os.path.relpath(path, self.root).replace(os.sep, "/")
        return None


class SqlFrontend:
    name: str = "sql"
    suffixes: tuple[str, ...] = (".sql", ".psql", ".pgsql")
    comment_markers: tuple[str, ...] = ("--",)

    def anchors(self) -> tuple[bytes, ...]:
        return ()

    def reader(self, root: str, relpaths: Sequence[str]) -> SqlReader:
        return SqlReader(root)


FRONTEND = SqlFrontend()
