"""ORM writers against a real PostgreSQL, before and after ``guard patch --apply``.

The example (tests/fixtures/orm_e2e) writes through the SQLAlchemy ORM (a model whose ``created_at`` comes from
a ``TimestampMixin`` with ``server_default=func.now()``, and one with a Python-side ``default=datetime.utcnow``
behind an attribute named differently from its column), SQLAlchemy Core (``insert(table)`` run with a list of
dict rows) and Django (``Visit.objects.create(...)`` into a model with ``default=timezone.now``; Django is
configured in the driver with ``settings.configure``, no project). Every payload is years old: before the patch
every stored ``created_at`` is the load time, after it the payload's time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import django  # noqa: F401 - a test dependency (pyproject [test]): missing fails, never skips
import psycopg
from click.testing import CliRunner

from guard.cli import cli

EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "orm_e2e"
DRIVER = Path(__file__).resolve().parent / "orm_ingest_driver.py"
PAYLOAD_TIME = datetime(2020, 2, 27, 9, tzinfo=timezone.utc).isoformat()
SCHEMA = """
CREATE SCHEMA titan;
CREATE TABLE titan.jobs (id serial PRIMARY KEY, st_id int, status varchar(20),
                         created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE titan.notes (id serial PRIMARY KEY, body text, created_at timestamptz);
CREATE TABLE titan.call_logs (id serial PRIMARY KEY, caller text, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE public.shop_visit (id bigserial PRIMARY KEY, path varchar(200) NOT NULL,
                                created_at timestamptz NOT NULL);
"""
TABLES = ("titan.jobs", "titan.notes", "titan.call_logs", "public.shop_visit")


def _reset(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS titan CASCADE; DROP TABLE IF EXISTS public.shop_visit")
        conn.execute(SCHEMA)


def _run(root: Path, dsn: str) -> dict[str, str]:
    _reset(dsn)
    proc = subprocess.run(
        [sys.executable, str(DRIVER), str(root), dsn],
        capture_output=True,
        text=True,
        env={**os.environ, "PGTZ": "UTC"},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_orm_core_and_django_writes_store_the_payload_time_after_the_patch(pg_dsn: str, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)

    scan = CliRunner().invoke(cli, ["scan", str(root), "--format", "json"])
    findings = json.loads(scan.output)["findings"]
    by_path = {(f["path"], f["rule"]) for f in findings}
    assert by_path == {
        ("app/ingest.py", "GRD001"),
        ("shop/views.py", "GRD001"),
    }, findings
    kinds = " ".join(f["message"] for f in findings)
    assert "Python-side default datetime.utcnow" in kinds and "database guard cannot see" in kinds
    assert "Python-side default timezone.now" in kinds and "DEFAULT now()" in kinds

    before = _run(root, dsn=pg_dsn)
    assert all(before[table] != PAYLOAD_TIME for table in TABLES), before  # the load time: the phantom

    patched = CliRunner().invoke(cli, ["patch", str(root), "--apply"])
    assert patched.exit_code == 0, patched.output
    assert 'created=p.get("createdOn")' in (root / "app" / "ingest.py").read_text()  # the model's attribute name

    after = _run(root, dsn=pg_dsn)
    assert after == {table: PAYLOAD_TIME for table in TABLES}

    again = CliRunner().invoke(cli, ["patch", str(root)])
    assert "nothing to do" in again.output  # idempotent: nothing left to fix
