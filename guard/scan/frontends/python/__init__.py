"""The Python front-end: ``.py`` files, read by an abstract interpreter over their AST.

Stages inside the front-end: :mod:`.prefilter` (bytes: is the file worth parsing?), :mod:`.source` (decode,
normalise, parse), :mod:`.extract` (the interpreter: strings that may be SQL, with positions, see :mod:`.strings`,
:mod:`.format`, :mod:`.scope`), :mod:`.drivers` (what driver calls mean), :mod:`.schema` (table definitions in
Alembic/SQLAlchemy code), :mod:`.textual` (files that do not parse), :mod:`.project` and :mod:`.constants`
(string constants imported from other modules of the tree).
"""

from __future__ import annotations

from collections.abc import Sequence

from guard.scan.frontends.base import FileExtraction
from guard.scan.frontends.python.constants import ModuleConstants
from guard.scan.frontends.python.evidence import HistorySignals
from guard.scan.frontends.python.extract import extract_python
from guard.scan.frontends.python.prefilter import anchors, may_contain_sql
from guard.scan.frontends.python.project import ModuleMap
from guard.scan.frontends.python.source import decode_source


def module_map(root: str, relpaths: Sequence[str]) -> ModuleMap:
    """The tree's module map, reading other modules' constants with the extractor's rules."""
    return ModuleMap(root, relpaths, ModuleConstants)


class PythonReader:
    """The Python front-end bound to one tree: its module map is shared by every file of the tree."""

    def __init__(self, modules: ModuleMap) -> None:
        self.modules = modules

    def extract(self, relpath: str, data: bytes) -> FileExtraction:
        if not may_contain_sql(data, self.modules):
            return FileExtraction()
        text, decode_problems = decode_source(data, relpath)
        extraction = extract_python(text, relpath, self.modules)
        return FileExtraction(
            candidates=extraction.candidates,
            facts=extraction.schema_facts,
            diagnostics=[*decode_problems, *extraction.diagnostics],
            text=text,
            reverted_lines=extraction.downgrade_lines,
            annotate=(extraction.signals or HistorySignals(None, relpath)).annotate,
        )


class PythonFrontend:
    name: str = "python"
    suffixes: tuple[str, ...] = (".py", ".pyw")
    comment_markers: tuple[str, ...] = ("#", "--")

    def anchors(self) -> tuple[bytes, ...]:
        return anchors()

    def reader(self, root: str, relpaths: Sequence[str]) -> PythonReader:
        return PythonReader(module_map(root, relpaths))


FRONTEND = PythonFrontend()
