"""The ORM byte prefilter: files without a session cannot hold a SQLAlchemy session write and are not parsed for
one; every file the driver finds such a write in passes (checked on every fixture repository)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from guard.scan.frontends.python.drivers import DRIVERS
from guard.scan.frontends.python.orm import extract_orm, may_have_session, may_hold_orm
from guard.scan.frontends.python.source import decode_source, normalize_newlines

ROOT = Path(__file__).resolve().parents[3]
SOURCES = sorted(
    path
    for folder in (ROOT / "tests" / "fixtures", ROOT / "examples")
    for path in folder.rglob("*.py")
    if "expected" not in path.parts
)


@pytest.mark.parametrize(
    "source",
    [
        "session.add(Job())",
        "self.db_session . add(Job())",
        "(db\n  .session\n  .add_all(jobs))",
        "uow.merge(x)",
        "s.add(Job())",
        "tx.bulk_insert_mappings(Job, rows)",
        "from sqlalchemy.orm import Session\nrepo.add(Job())",
        "from app.models import Job\nrepo.add(Job())",
        "from ..models.jobs import Job\nrepo.create(Job())",
        "import app.models.jobs as jobs\nrepo.add(jobs.Job())",
    ],
)
def test_sessions_pass(source: str) -> None:
    assert may_have_session(source.encode(), "app/work.py")


@pytest.mark.parametrize(
    "source",
    [
        "seen = set()\nseen.add(item)\nstart_new_session = True",
        "self.requests_session = requests.Session()\nresult.add(x)",
        "from . import helpers\nresult.add(x)",
        "jobs.add(x)  # a session of work",
    ],
)
def test_no_session_no_parse(source: str) -> None:
    assert not may_have_session(source.encode(), "app/work.py")


def test_relative_import_inside_a_models_package() -> None:
    """``from .base import X`` in ``app/models/jobs.py`` is an import from ``app.models.base``."""
    assert may_have_session(b"from .base import X\nrepo.add(X())", "app/models/jobs.py")
    assert not may_have_session(b"from .base import X\nrepo.add(X())", "app/services/jobs.py")
    assert may_have_session(b"from .base import X\nrepo.add(X())", None)  # unknown path: counted


def test_the_gate_keeps_a_file_without_a_session_out() -> None:
    plain = b"import models_helper\nsession_count = 0\nseen.add(item)\n"
    assert not may_hold_orm(plain, DRIVERS.row_writers(), "lib/util.py")
    assert may_hold_orm(plain + b"session.add(Job())\n", DRIVERS.row_writers(), "lib/util.py")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_session_write_of_the_fixtures_passes(path: Path) -> None:
    """The closer test is a superset of what the SQLAlchemy ORM driver accepts: wherever it finds a write, the
    file passes (a driver change that breaks this fails here, on the fixture that shows the new pattern)."""
    data = path.read_bytes()
    relpath = path.relative_to(ROOT).as_posix()
    text = normalize_newlines(decode_source(data, relpath)[0])
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return
    found = extract_orm(tree, text, relpath, DRIVERS.row_writers())
    if any(write.origin == "sqlalchemy-orm" for write in found.writes):
        assert may_have_session(data, relpath)
