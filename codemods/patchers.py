"""The table of patchers ``guard patch`` hands the planner: which function edits which language's files.

It lives with the transforms because the planner (:mod:`guard.patch.planner`) must not import them: the codemods
build on the patch helpers (SQL editing, parameter styles, sites), so the dependency runs one way only.
"""

from __future__ import annotations

from guard.codemods.add_timestamp import patch_python
from guard.patch.javascript import patch_javascript
from guard.patch.planner import Patcher
from guard.patch.site import PatchSite, SiteResult
from guard.patch.sql_files import patch_sql


def _python(text: str, relpath: str, sites: list[PatchSite]) -> tuple[str, list[SiteResult]]:
    return patch_python(text, sites)


def _sql(text: str, relpath: str, sites: list[PatchSite]) -> tuple[str, list[SiteResult]]:
    return patch_sql(text, sites)


#: Language (a front-end's name) -> the function that patches its files.
PATCHERS: dict[str, Patcher] = {"python": _python, "sql": _sql, "javascript": patch_javascript}
