"""Which Python files are worth parsing: a byte-level test run on every file of the tree before anything else.

Almost no file of a large tree writes to a database, and parsing is what costs, so the test must be tight and
fast. It looks for what a write or a table definition cannot do without, not for SQL in general:

* SQL text: ``INSERT`` + ``INTO`` (blanks, ``\\n`` escapes or string joins between), ``MERGE INTO``,
  ``COPY <table> [(<columns>)] FROM STDIN|PROGRAM|'<file>'``, and for the catalog
  ``CREATE [OR REPLACE] [TEMP|UNLOGGED...] TABLE|FUNCTION|PROCEDURE``, ``ALTER TABLE``, ``DROP TABLE``;
* driver calls that write without SQL text (asyncpg ``copy_records_to_table``/``copy_to_table``, psycopg2
  ``copy_from``, pandas ``to_sql``): each driver module declares its own :class:`~.drivers.base.Anchor`;
* table definitions in Python: Alembic ``op.create_table``/``add_column``/``alter_column``/``drop_*``/
  ``rename_table``/``batch_alter_table``, SQLAlchemy ``Table(...)`` and declarative ``__tablename__``;
* with the tree's module map: a file that runs statements (``.execute(`` or another registered run call), composes
  strings and imports a module of the scanned tree, whose constants it may be composing
  (``cur.execute(sql.INSERT_JOB + " ON CONFLICT DO NOTHING")``: no write keyword in the file itself).

Speed: ``bytes.lower`` runs at gigabytes per second, while one regular expression with many alternatives is tried
at nearly every byte; so the anchor words are found together in one pass (:mod:`.wordscan`) and the full shape is
only matched where an anchor occurs.
"""

from __future__ import annotations

import re
from typing import Protocol

from guard.scan.frontends.python.drivers import DRIVERS
from guard.scan.frontends.python.wordscan import Words

_BLANK = rb"(?:\s|\\[ntr])"  # whitespace in the file, or an escape that is whitespace in the string
_GAP = _BLANK + rb"+"
#: ``COPY <table> [(<columns>)] FROM STDIN | PROGRAM | '<file>' | <placeholder>`` (not prose like "copy it from").
_COPY_FROM = (
    rb"copy" + _GAP + rb"(?:[^\s;(]|%\(\w+\))+" + _BLANK + rb"*(?:\([^)]*\)" + _BLANK + rb"*)?"
    rb"from" + _GAP + rb"(?:stdin|program\b|[\"'%{:$?\\])"
)
#: Shapes of SQL text and of table definitions in Python, matched on the lower-cased bytes at an anchor's position.
_CORE_SHAPES = [
    rb"insert(?:[\s\"'+]|\\[ntr]|\b[rfbu]{1,2}(?=[\"']))+into\b",  # also "INSERT " "INTO", "INSERT " + f"INTO
    rb"merge" + _GAP + rb"into\b",
    _COPY_FROM,
    rb"create" + _GAP + rb"(?:or" + _GAP + rb"replace" + _GAP + rb")?"
    rb"(?:(?:global|local|temp|temporary|unlogged)" + _GAP + rb")*(?:table|function|procedure)\b",
    rb"(?:alter|drop)" + _GAP + rb"table\b",
    rb"op\.(?:batch_alter_table|create_table|add_column|alter_column|drop_table|drop_column|rename_table)\b",
    rb"__tablename__",
]
#: Where a core shape can start (each is found with ``bytes.find``); drivers add their own anchors.
_CORE_ANCHORS = (b"insert", b"copy", b"create", b"alter", b"drop", b"merge", b"op.", b"__tablename__")
#: SQLAlchemy's ``Table(`` with a ``Column(`` among its first arguments; case-sensitive, on the original bytes.
_TABLE_CALL = re.compile(rb"Table\s*\([^;]{0,400}?Column\s*\(")
_IMPORT = re.compile(
    rb"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import\b|import[ \t]+([\w.]+(?:[ \t]*,[ \t]*[\w.]+)*))", re.MULTILINE
)


class KnownModules(Protocol):
    """What the prefilter asks of the tree's module map: which file, if any, ``import module`` means."""

    def relpath(self, module: str) -> str | None: ...


class _Tests:
    """The prefilter's compiled tests for one state of the driver registry."""

    def __init__(self) -> None:
        self.version = DRIVERS.version
        anchors = list(_CORE_ANCHORS)
        shapes = list(_CORE_SHAPES)
        for anchor in DRIVERS.anchors():
            if anchor.word not in anchors:
                anchors.append(anchor.word)
            shapes.append(anchor.shape)
        self.anchors = tuple(anchors)
        self.words = Words(self.anchors)
        self.shapes = re.compile(b"|".join(shapes))
        runs = sorted(DRIVERS.run_calls().all, key=lambda name: (-len(name), name))
        #: A statement runner handed a composed string: ``cur.execute(X + "...")``, ``.execute(X.format(...))``...
        calls = b"|".join(re.escape(name.encode()) for name in runs)
        self.composes = re.compile(rb"\.(?:" + calls + rb")\s*\([^;)]{0,200}?(?:\+|%|\.format\(|\.join\()")


_TESTS: _Tests | None = None


def _tests() -> _Tests:
    global _TESTS
    if _TESTS is None or _TESTS.version != DRIVERS.version:
        _TESTS = _Tests()
    return _TESTS


def anchors() -> tuple[bytes, ...]:
    """The byte words one of which (or a ``Table(...Column(`` call) a Python file needs to be parsed at all."""
    return _tests().anchors


def may_contain_sql(data: bytes, modules: KnownModules | None = None) -> bool:
    """Whether a Python file (as bytes) may hold a write, a table definition, or compose an imported statement."""
    tests = _tests()
    lowered = data.lower()
    if any(tests.shapes.match(lowered, at) for at in tests.words.positions(lowered)):
        return True
    if _table_call(data):
        return True
    # one regex pass: its literal start (``.``) is searched about as fast as ``bytes.find`` scans for one word
    return modules is not None and _composes_imported_sql(data, modules, tests)


def _table_call(data: bytes) -> bool:
    for match in _TABLE_CALL.finditer(data):
        before = data[match.start() - 1 : match.start()]
        if not before or not (before.isalnum() or before == b"_"):
            return True
    return False


def _composes_imported_sql(data: bytes, modules: KnownModules, tests: _Tests) -> bool:
    if tests.composes.search(data) is None:
        return False
    for match in _IMPORT.finditer(data):
        source, plain = match.groups()
        names = [source] if source is not None else [n.strip() for n in plain.split(b",")]
        for name in names:
            if name.startswith(b".") or modules.relpath(name.decode("ascii", "replace")) is not None:
                return True
    return False
