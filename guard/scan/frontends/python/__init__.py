"""The Python front-end: ``.py`` files, read by an abstract interpreter over their AST.

Stages inside the front-end: :mod:`.prefilter` (bytes: is the file worth parsing?), :mod:`.source` (decode,
normalise, parse), :mod:`.extract` (the interpreter: strings that may be SQL, with positions, see :mod:`.strings`,
:mod:`.format`, :mod:`.scope`), :mod:`.drivers` (what driver calls mean; ORM and query-builder writes among them,
read by :mod:`.orm` over :mod:`.rows` and :mod:`.names`), :mod:`.models` (ORM model definitions for the catalog,
with :mod:`.defaults`), :mod:`.schema` (table definitions in Alembic/SQLAlchemy code), :mod:`.textual` (files that
do not parse), :mod:`.project` and :mod:`.constants` (string constants imported from other modules of the tree).
"""

from __future__ import annotations

from collections.abc import Sequence

from guard.scan.frontends.base import FileExtraction
from guard.scan.frontends.python.constants import ModuleConstants
from guard.scan.frontends.python.drivers import DRIVERS
from guard.scan.frontends.python.evidence import HistorySignals
from guard.scan.frontends.python.extract import extract_python
from guard.scan.frontends.python.orm import extract_orm, may_hold_orm
from guard.scan.frontends.python.prefilter import anchors, may_contain_sql
from guard.scan.frontends.python.project import ModuleMap
from guard.scan.frontends.python.source import decode_source, normalize_newlines, parse_module


def module_map(root: str, relpaths: Sequence[str]) -> ModuleMap:
    """The tree's module map, reading other modules' constants with the extractor's rules."""
    return ModuleMap(root, relpaths, ModuleConstants)


class PythonReader:
    """The Python front-end bound to one tree: its module map is shared by every file of the tree."""

    def __init__(self, modules: ModuleMap) -> None:
        self.modules = modules

    def extract(self, relpath: str, data: bytes) -> FileExtraction:
        row_drivers = DRIVERS.row_writers()
        sql, orm = may_contain_sql(data, self.modules), may_hold_orm(data, row_drivers, relpath)
        if not sql and not orm:
            return FileExtraction()
        text, decode_problems = decode_source(data, relpath)
        found = FileExtraction(diagnostics=list(decode_problems), text=text)
        signals: HistorySignals | None = None
        if sql:
            extraction = extract_python(text, relpath, self.modules)
            found.candidates = extraction.candidates
            found.facts = extraction.schema_facts
            found.diagnostics += extraction.diagnostics
            found.reverted_lines = extraction.downgrade_lines
            signals = extraction.signals
        if orm:
            # the SQL pass's tree when it ran (parsing is most of a file's cost); None: the file does not parse
            tree = signals.tree if signals is not None else parse_module(text, relpath)
            if tree is not None:
                models = extract_orm(tree, normalize_newlines(text), relpath, row_drivers, self.modules)
                found.writes += models.writes
                found.facts += models.facts
                signals = signals or HistorySignals(tree, relpath)
        # evidence of history around each write; a file that does not parse still has a telling path
        found.annotate = (signals or HistorySignals(None, relpath)).annotate
        return found


class PythonFrontend:
    name: str = "python"
    suffixes: tuple[str, ...] = (".py", ".pyw")
    comment_markers: tuple[str, ...] = ("#", "--")

    def anchors(self) -> tuple[bytes, ...]:
        return anchors()

    def reader(self, root: str, relpaths: Sequence[str]) -> PythonReader:
        return PythonReader(module_map(root, relpaths))


FRONTEND = PythonFrontend()
