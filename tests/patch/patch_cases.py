"""Load the input -> expected fixture cases of ``tests/fixtures/patch/cases.toml``."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guard.patch.site import PatchSite, ValueSource

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "patch"


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    sites: tuple[PatchSite, ...]  # where the statements are in the input
    expected_sites: tuple[PatchSite, ...]  # where they are in the expected output
    unfixable: str | None  # a fragment of the expected reason
    already: bool
    fallback: bool

    @property
    def expected_path(self) -> Path:
        return self.path.with_name(f"{self.path.stem}.expected{self.path.suffix}")

    @property
    def language(self) -> str:
        return "sql" if self.path.suffix == ".sql" else "python"


def _sites(raw: dict[str, Any], key: str, column: str, values: ValueSource) -> tuple[PatchSite, ...]:
    pairs = raw.get(key, raw["sites"])
    return tuple(PatchSite(raw["file"], line, table, column, values=values) for line, table in pairs)


def load_cases() -> list[Case]:
    data = tomllib.loads((FIXTURES / "cases.toml").read_text(encoding="utf-8"))
    cases = []
    for name, raw in data["cases"].items():
        settings = {**data["defaults"], **raw}
        values = ValueSource(
            source_field=settings.get("source_field") or None,
            source_expression=settings.get("source_expression"),
            source_column=settings.get("source_column"),
        )
        column = settings["column"]
        cases.append(
            Case(
                name=name,
                path=FIXTURES / raw["file"],
                sites=_sites(raw, "sites", column, values),
                expected_sites=_sites(raw, "expected_sites", column, values),
                unfixable=raw.get("unfixable"),
                already=raw.get("already", False),
                fallback=raw.get("fallback", False),
            )
        )
    return cases
