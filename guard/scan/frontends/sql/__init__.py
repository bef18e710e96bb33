"""The SQL front-end: ``.sql`` files and psql scripts are SQL through and through (see :mod:`.extract`); function
bodies inside them are read by the shared SQL model (:mod:`guard.scan.sql.bodies`)."""

from __future__ import annotations

from collections.abc import Sequence

from guard.model import Diagnostic
from guard.scan.frontends.base import FileExtraction
from guard.scan.frontends.sql.extract import extract_sql_file


def decode_sql(data: bytes, relpath: str) -> tuple[str, list[Diagnostic]]:
    """SQL files are UTF-8 in practice; anything else is read as Latin-1 (every byte decodes) and reported."""
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        message = f"not valid UTF-8 ({exc.reason}); read as Latin-1, names may be off"
        return data.decode("latin-1"), [Diagnostic(relpath, line, "decode-error", message)]


class SqlReader:
    def extract(self, relpath: str, data: bytes) -> FileExtraction:
        text, diagnostics = decode_sql(data, relpath)
        candidates, problems = extract_sql_file(text, relpath)
        return FileExtraction(candidates=candidates, diagnostics=[*diagnostics, *problems], text=text)


class SqlFrontend:
    name: str = "sql"
    suffixes: tuple[str, ...] = (".sql", ".psql", ".pgsql")
    comment_markers: tuple[str, ...] = ("--",)

    def anchors(self) -> tuple[bytes, ...]:
        return ()

    def reader(self, root: str, relpaths: Sequence[str]) -> SqlReader:
        return SqlReader()


FRONTEND = SqlFrontend()
