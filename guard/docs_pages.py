"""Read the documentation pages shipped inside the package (``guard.docs``, mapped from ``docs/``).

Help text and error hints point at ``guard docs TOPIC`` and ``guard rule CODE`` rather than at files in a
source checkout, because a user who ran ``pip install`` has no ``docs/`` directory.
"""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable

from guard.errors import GuardError


def _root() -> Traversable:
    return resources.files("guard.docs")


def topics() -> list[str]:
    """Names of the top-level pages (``scan``, ``database``, ...), sorted."""
    return sorted(entry.name[:-3] for entry in _root().iterdir() if entry.name.endswith(".md"))


def topic_page(name: str) -> str:
    page = _root().joinpath(f"{name.lower()}.md")
    if not page.is_file():
        raise GuardError(f"no documentation topic {name!r}; topics: {', '.join(topics())}")
    return page.read_text(encoding="utf-8")


def rule_page(code: str) -> str:
    page = _root().joinpath("rules").joinpath(f"{code.upper()}.md")
    if not page.is_file():
        known = sorted(entry.name[:-3] for entry in _root().joinpath("rules").iterdir() if entry.name.endswith(".md"))
        raise GuardError(f"no rule {code!r}; rules: {', '.join(known)} (`guard rule` lists them)")
    return page.read_text(encoding="utf-8")
