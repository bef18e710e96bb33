"""A driver is one module plus one registry line: a toy ``mydb`` family, written the way docs/architecture.md
says, is registered and changes what the scan finds and what the patcher can fix.

``mydb.load(table, columns)`` sends a COPY the program never spells (no SQL keyword in the file, so without the
driver the prefilter does not even parse it); ``mydb.run(sql, row)`` runs SQL with one row of parameters (the
patcher must know it to extend the row, and the prefilter to read a file composing an imported statement).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from guard.codemods.add_timestamp import patch_python
from guard.config import Config
from guard.patch.site import PatchSite, ValueSource
from guard.scan.engine import scan
from guard.scan.frontends.python.drivers import DRIVERS, register

#: The whole driver module, as a plug-in author would write it.
TOY_DRIVER = '''
"""mydb: ``mydb.run(sql, row)`` runs SQL; ``mydb.load(table, columns)`` sends a COPY nobody spells."""

from __future__ import annotations

from guard.scan.frontends.python.drivers.base import (
    Anchor, CallSite, Driver, ExpressionReader, argument, copy_statement,
)
from guard.scan.frontends.python.strings import Fragment


def _load(ev: ExpressionReader, call: CallSite) -> Fragment | None:
    table, columns = argument(call.node, 0, "table"), argument(call.node, 1, "columns")
    return copy_statement(ev, call, table, None, columns, quote=False)


DRIVER = Driver(
    name="mydb",
    anchors=(Anchor(b"load", rb"load\\s*\\("),),
    run_one=frozenset({"run"}),
    param_keywords=("row",),
    writes=frozenset({"load"}),
    write=_load,
)
'''

TREE = {
    "schema.sql": "CREATE TABLE jobs (id int, payload text, created_at timestamptz NOT NULL DEFAULT now());\n",
    "app/__init__.py": "",
    "app/queries.py": 'INSERT_JOB = "INSERT INTO jobs (id, payload) VALUES (%s, %s)"\n',
    "app/nightly.py": "import mydb\n\n\ndef nightly():\n    mydb.load('jobs', ['id', 'payload'])\n",
    "app/save.py": (
        "import mydb\nfrom app import queries\n\n\ndef save(job):\n"
        '    mydb.run(queries.INSERT_JOB + " ON CONFLICT DO NOTHING", (job.id, job.payload))\n'
    ),
}


def _load_module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("guard_toy_mydb_driver", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for relpath, text in TREE.items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_text(text)
    return root


@pytest.fixture
def toy_driver(tmp_path: Path) -> Iterator[ModuleType]:
    path = tmp_path / "plugins" / "mydb_driver.py"  # one new module ...
    path.parent.mkdir()
    path.write_text(TOY_DRIVER)
    module = _load_module(path)
    register(module.DRIVER)  # ... and one registry line
    try:
        yield module
    finally:
        DRIVERS.unregister("mydb")
        sys.modules.pop("guard_toy_mydb_driver", None)


def _writes(root: Path) -> dict[str, list[tuple[str, str | None, str]]]:
    result = scan(root, Config(), jobs=1)
    found: dict[str, list[tuple[str, str | None, str]]] = {}
    for resolved in result.writes:
        write = resolved.write
        found.setdefault(write.relpath, []).append((write.kind, resolved.table, write.sql))
    findings = {(f.relpath, f.rule) for f in result.findings}
    found["findings"] = [(path, rule, "") for path, rule in sorted(findings)]
    return found


def test_without_the_driver_its_calls_mean_nothing(tree: Path) -> None:
    found = _writes(tree)
    assert "app/nightly.py" not in found
    assert "app/save.py" not in found  # the composed statement's file is not even parsed
    assert [path for path, _, _ in found["findings"]] == ["app/queries.py"]


def test_a_registered_driver_changes_what_the_scan_finds(tree: Path, toy_driver: ModuleType) -> None:
    found = _writes(tree)
    assert found["app/nightly.py"] == [("copy", "public.jobs", "COPY jobs (id, payload) FROM STDIN")]
    [(kind, table, sql)] = found["app/save.py"]
    assert (kind, table) == ("upsert", "public.jobs")
    assert sql.endswith("ON CONFLICT DO NOTHING")
    assert ("app/nightly.py", "GRD001", "") in found["findings"]
    assert ("app/save.py", "GRD001", "") in found["findings"]


def test_the_patcher_extends_rows_passed_to_the_drivers_run_call(toy_driver: ModuleType) -> None:
    source = 'import mydb\n\n\ndef save(job):\n    mydb.run("INSERT INTO jobs (id) VALUES (%s)", (job.id,))\n'
    site = PatchSite("m.py", 5, "public.jobs", "created_at", values=ValueSource(source_field="created"))
    patched, [result] = patch_python(source, [site])
    assert result.fixed, result.reason
    assert "INSERT INTO jobs (id, created_at) VALUES (%s, %s)" in patched
    DRIVERS.unregister("mydb")
    unpatched, [refused] = patch_python(source, [site])
    assert unpatched == source and not refused.fixed
    assert "not a known way to run SQL" in refused.reason
