"""The byte prefilter that decides which Python files are parsed at all: tight, and never losing a file with SQL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from guard.scan.frontends.python import module_map
from guard.scan.frontends.python.extract import extract_python
from guard.scan.frontends.python.prefilter import may_contain_sql
from guard.scan.sql.parse import parse_candidate

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

WRITES_AND_DEFINITIONS = [
    b'cur.execute("insert into jobs values (1)")',
    b'sql = f"INSERT\\n   INTO {t}"',
    b'q = ("INSERT "\n     "INTO jobs (a) VALUES (1)")',
    b'q = "INSERT " + f"INTO {table} (a) VALUES (1)"',
    b'cur.execute("MERGE INTO jobs j USING src s ON j.id = s.id")',
    b'cur.execute("COPY jobs FROM STDIN")',
    b'cur.copy("COPY titan.jobs (st_id, name) FROM STDIN WITH (FORMAT csv)")',
    b"cur.execute(\"COPY jobs(a, b) FROM '/tmp/jobs.csv'\")",
    b'cur.execute(f"COPY {table} FROM {path!r}")',
    b'ddl = """CREATE UNLOGGED TABLE staging (id int)"""',
    b'op.execute("create or replace function f() returns void as $$ begin end $$ language plpgsql")',
    b'op.execute("ALTER TABLE jobs ALTER COLUMN created_at SET DEFAULT now()")',
    b'op.execute("DROP TABLE jobs")',
    b"op.add_column('jobs', sa.Column('x', sa.Integer))",
    b"with op.batch_alter_table('jobs') as batch_op:\n    batch_op.drop_column('x')",
    b"class Job(Base):\n    __tablename__ = 'jobs'\n",
    b'jobs = sa.Table("jobs", metadata, sa.Column("id", sa.Integer))',
    b"await conn.copy_records_to_table('jobs', records=r)",
    b"cur.copy_from(handle, 'titan.jobs', columns=('a', 'b'))",
    # pandas to_sql has no SQL text: the ORM-row prefilter lets it through (tests/scan/orm/test_writes.py)
]

NOTHING_TO_FIND = [
    b"",
    b"import copy\nitems.insert(0, x)\nd = copy.copy(e)\nos.makedirs(p)\n",
    b'"""Insert the item into the list; copy it from the cache and create a new table of results."""\n',
    b"# copy styles from the theme, then drop the rest\nmode = 'insert'\n",
    b"table = Table(title='Results')\ntable.add_column('name')\nconsole.print(table)\n",
    b"counts = hashtable(size)\ncreate_user(name)\nalter_ego = None\n",
]


@pytest.mark.parametrize("source", WRITES_AND_DEFINITIONS)
def test_writes_and_table_definitions_pass(source: bytes) -> None:
    assert may_contain_sql(source)


@pytest.mark.parametrize("source", NOTHING_TO_FIND)
def test_code_and_prose_without_writes_are_skipped(source: bytes) -> None:
    assert not may_contain_sql(source)


def test_a_file_composing_an_imported_statement_passes_only_when_the_import_is_in_the_tree(tmp_path: Path) -> None:
    (tmp_path / "titan").mkdir()
    (tmp_path / "titan" / "__init__.py").write_text("")
    (tmp_path / "titan" / "sql.py").write_text('INSERT_JOB = "INSERT INTO titan.jobs (a) VALUES (%s)"\n')
    modules = module_map(str(tmp_path), ["titan/__init__.py", "titan/sql.py"])
    importer = b'from titan import sql\n\ndef run(cur):\n    cur.execute(sql.INSERT_JOB + " ON CONFLICT DO NOTHING")\n'
    assert may_contain_sql(importer, modules)
    assert may_contain_sql(b"from . import sql\ncur.execute(sql.X % t)\n", modules)  # relative: always the tree
    assert not may_contain_sql(b"from titan import sql\ncur.execute(sql.INSERT_JOB)\n", modules)  # reported in sql.py
    assert not may_contain_sql(importer)  # without the index nothing could resolve the constant anyway
    assert not may_contain_sql(b"import json\ncur.execute(json.dumps(x) + y)\n", modules)
    assert not may_contain_sql(b"from titan import sql\nprint(sql.INSERT_JOB)\n", modules)


def test_every_registered_drivers_run_calls_count_as_running_a_composed_statement(tmp_path: Path) -> None:
    """Not only ``execute``: asyncpg's ``fetchrow`` and SQLAlchemy's ``exec_driver_sql`` run statements too."""
    (tmp_path / "titan").mkdir()
    (tmp_path / "titan" / "__init__.py").write_text("")
    (tmp_path / "titan" / "sql.py").write_text('INSERT_JOB = "INSERT INTO titan.jobs (a) VALUES ($1)"\n')
    modules = module_map(str(tmp_path), ["titan/__init__.py", "titan/sql.py"])
    for call in (b"conn.fetchrow", b"conn.exec_driver_sql", b"cur.executemany"):
        importer = b"from titan import sql\n\nasync def run(conn):\n    await " + call
        importer += b'(sql.INSERT_JOB + " RETURNING id")\n'
        assert may_contain_sql(importer, modules), call
    assert not may_contain_sql(b'from titan import sql\nconn.describe(sql.INSERT_JOB + " x")\n', modules)


def _fixture_files() -> list[Path]:
    return sorted(
        Path(folder, name) for folder, _, names in os.walk(FIXTURES) for name in names if name.endswith(".py")
    )


def test_every_fixture_with_a_write_or_a_table_definition_passes() -> None:
    """Recall over every Python fixture of the test suite: a file whose extraction yields a write or a schema
    fact (the two things a scan reports or needs) must never be skipped by the prefilter."""
    checked = 0
    for path in _fixture_files():
        data = path.read_bytes()
        result = extract_python(data.decode("utf-8", "replace"), path.name)
        parsed = [parse_candidate(candidate) for candidate in result.candidates]
        if result.schema_facts or any(p.writes or p.facts for p in parsed):
            checked += 1
            assert may_contain_sql(data), f"prefilter skips {path.relative_to(FIXTURES)}"
    assert checked >= 30  # the fixtures do exercise the prefilter
