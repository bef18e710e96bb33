"""Extract SQL candidates, builder/ORM writes and schema facts from one JS/TS file.

The file is parsed once with tree-sitter; each driver family whose anchors occur in the file reads the tree
(:mod:`.drivers`). Minified bundles are skipped with a diagnostic (they are build output, and their
one-line megabyte strings would only cost time); syntax errors are reported, and what tree-sitter could
still read is scanned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from guard.model import Diagnostic, SchemaFact, SqlCandidate, WriteStatement
from guard.scan.frontends.javascript.context import JsContext
from guard.scan.frontends.javascript.drivers import DRIVERS
from guard.scan.frontends.javascript.evaluate import Evaluator
from guard.scan.frontends.javascript.module import JsModule
from guard.scan.frontends.javascript.project import JsProject
from guard.scan.frontends.javascript.source import JsSource, is_minified
from guard.scan.frontends.javascript.values import render_value

#: Every anchor of every driver: a file holding none of them is not parsed at all.
ANCHORS: tuple[bytes, ...] = tuple(sorted({anchor for driver in DRIVERS for anchor in driver.ANCHORS}))


@dataclass
class JsExtraction:
    candidates: list[SqlCandidate] = field(default_factory=list)
    writes: list[WriteStatement] = field(default_factory=list)
    facts: list[SchemaFact] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def _searcher(anchors: tuple[bytes, ...]) -> re.Pattern[bytes]:
    """A case-insensitive search for any anchor (a byte prefilter, not a parse: decides what to parse)."""
    return re.compile(b"|".join(re.escape(anchor) for anchor in anchors), re.IGNORECASE)


_ANY_ANCHOR = _searcher(ANCHORS)
_DRIVER_ANCHORS = [(driver, _searcher(driver.ANCHORS)) for driver in DRIVERS]


def may_contain_sql(data: bytes) -> bool:
    return _ANY_ANCHOR.search(data) is not None


def extract_javascript(data: bytes, relpath: str, project: JsProject | None = None) -> JsExtraction:
    """Everything one JS/TS file says about writes and schemas. Never raises on bad input."""
    result = JsExtraction()
    if is_minified(data):
        result.diagnostics.append(
            Diagnostic(relpath, 0, "skipped-minified", "minified or bundled code (build output); not scanned")
        )
        return result
    drivers = [driver for driver, anchors in _DRIVER_ANCHORS if anchors.search(data)]
    if not drivers:
        return result
    source = JsSource.parse(data, relpath)
    errors = source.parse_errors()
    if errors:
        where = ", ".join(str(line) for line in errors)
        result.diagnostics.append(
            Diagnostic(relpath, errors[0], "parse-error", f"syntax errors near line(s) {where}; the rest was scanned")
        )
    module = JsModule.read(source)
    if project is not None:
        project.remember(module)
    ctx = JsContext(Evaluator(module, project), project)
    for driver in drivers:
        driver.extract(ctx)
    result.candidates = [render_value(found.value, relpath, found.context) for found in ctx.found]
    result.writes = ctx.writes
    result.facts = ctx.facts
    result.diagnostics.extend(ctx.diagnostics)
    return result
