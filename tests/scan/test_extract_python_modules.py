"""Constants imported from other modules of the scanned tree (the tree's ``ModuleMap``)."""

from __future__ import annotations

import os
from pathlib import Path

from guard.scan.frontends.python import module_map
from guard.scan.frontends.python.extract import extract_python
from guard.scan.frontends.python.project import MAX_IMPORT_DEPTH, ModuleMap

TREE = Path(__file__).resolve().parent.parent / "fixtures" / "python" / "tree"


def index() -> ModuleMap:
    relpaths = [
        os.path.relpath(os.path.join(folder, name), TREE).replace(os.sep, "/")
        for folder, _, names in os.walk(TREE)
        for name in names
        if name.endswith(".py")
    ]
    return module_map(str(TREE), relpaths)


def test_module_names_follow_src_layout_and_packages() -> None:
    modules = index()
    assert modules.module_name("src/titan/sql.py") == "titan.sql"
    assert modules.module_name("src/titan/api/__init__.py") == "titan.api"
    assert modules.relpath("titan.sql") == "src/titan/sql.py"
    assert modules.relpath("src.titan.sql") == "src/titan/sql.py"
    assert modules.relpath("nowhere.sql") is None


def test_constants_resolve_across_modules_and_skip_ambiguous_ones() -> None:
    modules = index()
    assert modules.constant("titan.sql", "INSERT_JOB") == "INSERT INTO titan.jobs (st_id, name) VALUES (%s, %s)"
    assert modules.constant("titan.sql", "JOB_COLUMNS") == "st_id, name"
    assert modules.constant("titan.sql", "AMBIGUOUS") is None  # two values: not unambiguous
    assert modules.constant("titan.api.queries", "JOBS") == "titan.jobs"  # re-exported from ..names
    assert modules.constant("titan.api.queries", "UPSERT_PREFIX") == "INSERT INTO titan.jobs"
    # re-exported through a package __init__ under another name
    assert modules.constant("titan", "DEFAULT_INSERT") == modules.constant("titan.sql", "INSERT_JOB")
    assert modules.constant("titan", "INSERT_JOB") is None


def test_import_cycles_terminate() -> None:
    modules = index()
    assert modules.constant("cycle_a", "A") is None
    assert modules.constant("cycle_b", "B") is None
    assert modules.constant("unknown.module", "X") is None


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


def _write_tree(root: Path, files: dict[str, str]) -> ModuleMap:
    for relpath, text in files.items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_text(text)
    return module_map(str(root), list(files))


def test_imported_names_are_only_looked_up_when_their_value_is_needed(tmp_path: Path) -> None:
    """Regression: references to other modules (``exp.Column`` in a dict, an argument, a call) used to parse
    the referenced modules and, transitively, everything they import (seconds per file on site-packages)."""
    modules = _write_tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/exp.py": 'from pkg.deep import Base\nclass Column(Base):\n    pass\nKEY = "column"\n',
            "pkg/deep.py": "from pkg.deeper import *\nclass Base:\n    pass\n",
            "pkg/sql.py": 'from pkg.names import JOBS\nINSERT = "INSERT INTO " + JOBS + " (a) VALUES (%s)"\n',
            "pkg/names.py": 'JOBS = "titan.jobs"\n',
            "pkg/user.py": (
                "from pkg import exp, sql\n"
                "from pkg.sql import INSERT\n"
                "TRANSFORMS = {exp.Column: str, exp.KEY: len}\n"
                "ALIAS = sql.INSERT\n"
                "def run(cur):\n"
                "    cur.execute(INSERT, (1,))\n"
                "    cur.execute(ALIAS, (1,))\n"
                "    return exp.Column(exp.KEY)\n"
            ),
        },
    )
    result = extract_python((tmp_path / "pkg/user.py").read_text(), "pkg/user.py", modules)
    assert result.candidates == []  # the constant is reported where it is defined
    assert modules.parsed == []

    composing = "from pkg import sql\nfrom pkg.exp import KEY\nALIAS = sql.INSERT\ndef run(cur):\n"
    composing += '    cur.execute(ALIAS + " ON CONFLICT DO NOTHING")\n    cur.execute(sql.INSERT + " RETURNING a")\n'
    result = extract_python(composing, "pkg/composing.py", modules)
    assert [c.text for c in result.candidates] == [
        "INSERT INTO titan.jobs (a) VALUES (%s) ON CONFLICT DO NOTHING",
        "INSERT INTO titan.jobs (a) VALUES (%s) RETURNING a",
    ]
    assert modules.parsed == ["pkg/sql.py", "pkg/names.py"]  # each module once, only the ones the value comes from


def test_compositions_without_sql_do_not_look_into_modules_without_sql(tmp_path: Path) -> None:
    modules = _write_tree(
        tmp_path,
        {
            "app/messages.py": 'NOT_FOUND = "no such user: {}"\nGREETING = "hello "\n',
            "app/names.py": 'USERS = "app.users"\n',
            "app/tables.py": "from app.names import USERS\nTARGET = USERS\n",  # an alias of an alias
        },
    )
    source = (
        "from app import messages, names\n"
        "def run(cur, log, user):\n"
        "    log.warning(messages.NOT_FOUND.format(user))\n"
        "    log.info(messages.GREETING + user)\n"
        '    cur.execute(f"INSERT INTO {names.USERS} (name) VALUES (%s)", (user,))\n'
        '    cur.execute("INSERT INTO " + tables.TARGET + " (name) VALUES (%s)", (user,))\n'
    )
    source = source.replace("import messages, names", "import messages, names, tables")
    result = extract_python(source, "app/run.py", modules)
    assert [c.text for c in result.candidates] == ["INSERT INTO app.users (name) VALUES (%s)"] * 2
    assert modules.parsed == ["app/names.py", "app/tables.py"]  # wanted by compositions mentioning SQL only


def test_constant_chains_are_bounded_and_a_cut_is_not_cached(tmp_path: Path) -> None:
    files = {f"m{i}.py": f"from m{i + 1} import V\n" for i in range(6)}
    files["m6.py"] = 'V = "titan.jobs"\n'
    modules = _write_tree(tmp_path, files)
    assert modules.constant("m0", "V") is None  # seven modules deep: beyond MAX_IMPORT_DEPTH
    assert MAX_IMPORT_DEPTH == 4
    assert modules.constant("m3", "V") == "titan.jobs"  # four modules: resolved, although m0's walk was cut
    assert modules.constant("m2", "V") == "titan.jobs"


def test_only_names_bound_once_to_one_known_string_are_constants(tmp_path: Path) -> None:
    modules = _write_tree(
        tmp_path,
        {
            "consts.py": (
                'import os\nPLAIN: str = "INSERT INTO t (a) VALUES (1)"\n'
                'GROWN = "INSERT INTO t"\nGROWN += " (a) VALUES (1)"\n'
                'A, B = "t1", "t2"\n'
                "for LOOPED in ('x', 'y'):\n    pass\n"
                'try:\n    GUARDED = "t3"\nexcept ImportError:\n    GUARDED = "t3"\n'
                'FROM_ENV = os.environ.get("TABLE", "jobs")\n'
                "def PLAIN_FUNCTION():\n    return 1\n"
            ),
        },
    )
    assert modules.constant("consts", "PLAIN") == "INSERT INTO t (a) VALUES (1)"
    assert modules.constant("consts", "B") == "t2"
    assert modules.constant("consts", "GUARDED") == "t3"  # every branch agrees
    for name in ("GROWN", "LOOPED", "FROM_ENV", "PLAIN_FUNCTION", "os", "MISSING"):
        assert modules.constant("consts", name) is None, name
