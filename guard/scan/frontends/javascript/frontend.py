"""The front-end objects the registry lists: JavaScript/TypeScript files and ``.prisma`` schemas."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from guard.model import Diagnostic
from guard.scan.frontends.base import FileExtraction
from guard.scan.frontends.javascript.extract import ANCHORS, extract_javascript, may_contain_sql
from guard.scan.frontends.javascript.prisma_schema import read_prisma_schema
from guard.scan.frontends.javascript.project import JsProject, find_prisma_schemas
from guard.scan.frontends.javascript.source import BUILD_DIRS, DIALECTS


class JavascriptReader:
    def __init__(self, project: JsProject) -> None:
        self.project = project

    def extract(self, relpath: str, data: bytes) -> FileExtraction:
        build_dir = next((part for part in relpath.split("/")[:-1] if part in BUILD_DIRS), None)
        if build_dir is not None:
            message = f"in {build_dir}/ (dependencies or build output); not scanned"
            return FileExtraction(diagnostics=[Diagnostic(relpath, 0, "skipped-build-output", message)])
        if not may_contain_sql(data):
            return FileExtraction()
        found = extract_javascript(data, relpath, self.project)
        text = data.decode("utf-8", "replace") if found.candidates or found.writes else None
        return FileExtraction(found.candidates, found.writes, found.facts, found.diagnostics, text=text)


class JavascriptFrontend:
    name: str = "javascript"
    suffixes: tuple[str, ...] = tuple(DIALECTS)
    comment_markers: tuple[str, ...] = ("//", "/*", "--")

    def anchors(self) -> tuple[bytes, ...]:
        return ANCHORS

    def reader(self, root: str, relpaths: Sequence[str]) -> JavascriptReader:
        base = Path(root)
        return JavascriptReader(JsProject(base, frozenset(relpaths), find_prisma_schemas(base, relpaths)))


class PrismaReader:
    def extract(self, relpath: str, data: bytes) -> FileExtraction:
        text = data.decode("utf-8", "replace")
        return FileExtraction(facts=read_prisma_schema(text, relpath).facts(), text=text)


class PrismaFrontend:
    """``schema.prisma``: models are tables (the catalog); Prisma Client writes are read by the JS front-end."""

    name: str = "prisma"
    suffixes: tuple[str, ...] = (".prisma",)
    comment_markers: tuple[str, ...] = ("//",)

    def anchors(self) -> tuple[bytes, ...]:
        return (b"model",)

    def reader(self, root: str, relpaths: Sequence[str]) -> PrismaReader:
        return PrismaReader()


FRONTEND = JavascriptFrontend()
PRISMA_FRONTEND = PrismaFrontend()
