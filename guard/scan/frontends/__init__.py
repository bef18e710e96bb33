"""Language front-ends and their registry: discovery, the engine, suppressions and the patch planner ask here
which languages exist, instead of naming them.

A new language is one package under ``guard/scan/frontends/`` exporting a ``FRONTEND`` that satisfies
:class:`~guard.scan.frontends.base.Frontend`, plus one line in :data:`FRONTENDS` (see docs/architecture.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from guard.scan.frontends import javascript, python, sql
from guard.scan.frontends.base import FileExtraction, FileReader, Frontend

__all__ = ["FRONTENDS", "FileExtraction", "FileReader", "Frontend", "FrontendRegistry", "language_of"]


class FrontendRegistry:
    """The registered front-ends, by name and by file suffix."""

    def __init__(self, frontends: list[Frontend]) -> None:
        self._by_name: dict[str, Frontend] = {}
        for frontend in frontends:
            self.register(frontend)

    def register(self, frontend: Frontend) -> None:
        """Add a front-end (one of the same name is replaced). Suffixes must not be claimed twice."""
        for other in self._by_name.values():
            clash = set(other.suffixes) & set(frontend.suffixes)
            if clash and other.name != frontend.name:
                raise ValueError(f"{frontend.name} claims {sorted(clash)}, already read by {other.name}")
        self._by_name[frontend.name] = frontend
        self.suffixes = {suffix: f for f in self._by_name.values() for suffix in f.suffixes}

    def unregister(self, name: str) -> None:
        self._by_name.pop(name, None)
        self.suffixes = {suffix: f for f in self._by_name.values() for suffix in f.suffixes}

    def __iter__(self) -> Iterator[Frontend]:
        return iter(list(self._by_name.values()))

    def get(self, name: str) -> Frontend | None:
        return self._by_name.get(name)

    def for_path(self, path: str) -> Frontend | None:
        """The front-end that reads ``path``, by its suffix (case-insensitive)."""
        return self.suffixes.get(os.path.splitext(path)[1].lower())

    def describe_suffixes(self) -> str:
        """``.py, .pyw, .sql ...`` for messages about files no front-end reads."""
        return ", ".join(sorted(self.suffixes))


#: Every language guard reads; one line per front-end.
FRONTENDS = FrontendRegistry(
    [
        python.FRONTEND,
        sql.FRONTEND,
        javascript.FRONTEND,
        javascript.PRISMA_FRONTEND,
    ]
)


def language_of(path: str) -> str | None:
    """The language (front-end name) of ``path``, or None when no front-end reads it."""
    frontend = FRONTENDS.for_path(path)
    return frontend.name if frontend is not None else None
