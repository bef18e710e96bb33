"""Constants imported from other modules of the scanned tree (``ModuleIndex``)."""

from __future__ import annotations

import os
from pathlib import Path

from guard.scan.extract_python import extract_python
from guard.scan.pymodules import ModuleIndex

TREE = Path(__file__).resolve().parent.parent / "fixtures" / "python" / "tree"


def index() -> ModuleIndex:
    relpaths = [
        os.path.relpath(os.path.join(folder, name), TREE).replace(os.sep, "/")
        for folder, _, names in os.walk(TREE)
        for name in names
        if name.endswith(".py")
    ]
    return ModuleIndex(str(TREE), relpaths)


def test_module_names_follow_src_layout_and_packages() -> None:
    modules = index()
    assert modules.module_name("src/titan/sql.py") == "titan.sql"
    assert modules.module_name("src/titan/api/__init__.py") == "titan.api"
    assert modules.relpath("titan.sql") == "src/titan/sql.py"
    assert modules.relpath("src.titan.sql") == "src/titan/sql.py"
    assert modules.relpath("nowhere.sql") is None


def test_constants_resolve_across_modules_and_skip_ambiguous_ones() -> None:
    constants = index().constants("titan.sql")
    assert constants["INSERT_JOB"] == "INSERT INTO titan.jobs (st_id, name) VALUES (%s, %s)"
    assert constants["JOB_COLUMNS"] == "st_id, name"
    assert "AMBIGUOUS" not in constants  # two values: not unambiguous
    assert index().constants("titan.api.queries") == {"JOBS": "titan.jobs", "UPSERT_PREFIX": "INSERT INTO titan.jobs"}
    # re-exported through a package __init__
    assert index().constants("titan") == {"DEFAULT_INSERT": constants["INSERT_JOB"]}


def test_import_cycles_terminate() -> None:
    modules = index()
    assert modules.constants("cycle_a") == {}
    assert modules.constants("unknown.module") == {}


def test_importer_reports_compositions_not_the_imported_constant() -> None:
    relpath = "src/titan/api/portal.py"
    result = extract_python((TREE / relpath).read_text(), relpath, index())
    got = [(c.text, c.line, c.dynamic) for c in result.candidates]
    assert got == [
        ("INSERT INTO titan.archive (st_id, name) VALUES (%s, %s)", 11, False),
        ("INSERT INTO titan.x (st_id, name) VALUES (1)", 12, False),
        ("INSERT INTO titan.jobs (st_id, name) VALUES (%s, %s) ON CONFLICT DO NOTHING", 13, False),
        ("INSERT INTO titan.jobs (st_id) VALUES (%s) ON CONFLICT (st_id) DO NOTHING", 14, False),
        ("INSERT INTO titan.jobs (a) VALUES (1)", 15, False),
        ("INSERT INTO guard_hole_0 (a) VALUES (1)", 16, True),
    ]
    ins = result.candidates[3]
    assert ins.position(0) == (14, 17)  # imported text is attributed to where it is used


def test_defining_module_reports_its_constant_once() -> None:
    relpath = "src/titan/sql.py"
    result = extract_python((TREE / relpath).read_text(), relpath, index())
    assert [(c.text, c.line, c.origin) for c in result.candidates] == [
        ("INSERT INTO titan.jobs (st_id, name) VALUES (%s, %s)", 3, "fstring")
    ]


def test_without_index_imports_are_holes() -> None:
    relpath = "src/titan/api/portal.py"
    result = extract_python((TREE / relpath).read_text(), relpath)
    got = [(c.text, c.line, c.dynamic) for c in result.candidates]
    assert ("INSERT INTO titan.archive (guard_hole_0) VALUES (%s, %s)", 11, True) in got
