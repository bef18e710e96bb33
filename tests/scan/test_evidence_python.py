"""Evidence kinds read around Python writes: one positive and one negative per kind (docs/rules/ranking.md)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from guard.config import Config
from guard.model import Severity
from guard.scan.engine import scan

SCHEMA = """
CREATE TABLE jobs (id bigserial, st_id bigint, status text, scheduled_at timestamptz,
                   created_at timestamptz NOT NULL DEFAULT now());
"""
INSERT = "INSERT INTO jobs (st_id, status, scheduled_at) VALUES (%s, %s, %s)"
INSERT_NAMED = "INSERT INTO jobs (st_id, status) VALUES (%(st_id)s, %(status)s)"


def _scan(tmp_path: Path, relpath: str, code: str) -> tuple[set[str], dict[str, str], Severity]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "schema.sql").write_text(SCHEMA)
    target = tmp_path / relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(textwrap.dedent(code))
    result = scan(tmp_path, Config(), jobs=1)
    [finding] = [f for f in result.findings if f.relpath == relpath]
    return {e.kind for e in finding.evidence}, {e.kind: e.detail for e in finding.evidence}, finding.severity


CASES = [
    # (name, relpath, code, kinds that must be present, kinds that must be absent)
    (
        "executemany is bulk",
        "app/store.py",
        f"def store(cur, rows):\n    cur.executemany({INSERT!r}, rows)\n",
        {"bulk"},
        {"single-row"},
    ),
    (
        "execute_values is bulk",
        "app/store.py",
        "from psycopg2.extras import execute_values\ndef store(cur, rows):\n"
        "    execute_values(cur, 'INSERT INTO jobs (st_id, status) VALUES %s', rows)\n",
        {"bulk"},
        set(),
    ),
    (
        "execute in a loop over a collection is bulk",
        "app/store.py",
        "def store(cur, jobs):\n    for job in jobs:\n"
        f"        cur.execute({INSERT!r}, (job.st_id, job.status, job.when))\n",
        {"bulk"},
        {"external-records"},
    ),
    (
        "a loop in the caller is out of sight",
        "app/store.py",
        f"def store(cur, st_id, status, when):\n    cur.execute({INSERT!r}, (st_id, status, when))\n",
        {"single-row"},
        {"bulk", "external-records"},
    ),
    (
        "record keys are external records, with the business date's key",
        "app/store.py",
        f"def store(cur, job):\n    cur.execute({INSERT!r}, (job['id'], job['jobStatus'], job.get('scheduledOn')))\n",
        {"external-records", "business-date"},
        {"bulk", "single-row"},
    ),
    (
        "json.loads rows are external records",
        "app/store.py",
        f"import json\ndef store(cur, raw):\n    cur.execute({INSERT_NAMED!r}, json.loads(raw))\n",
        {"external-records"},
        {"single-row"},
    ),
    (
        "named placeholders map to dict keys",
        "app/store.py",
        "def store(cur, job):\n"
        f"    cur.execute({INSERT_NAMED!r}, {{'st_id': job['id'], 'status': job['jobStatus']}})\n",
        {"external-records"},
        set(),
    ),
    (
        "a batch-job function name",
        "app/store.py",
        f"def backfill_jobs(cur, st_id, status, when):\n    cur.execute({INSERT!r}, (st_id, status, when))\n",
        {"batch-context"},
        {"single-row"},
    ),
    (
        "a batch-job file name",
        "etl/load_jobs.py",
        f"def put(cur, st_id, status, when):\n    cur.execute({INSERT!r}, (st_id, status, when))\n",
        {"batch-context"},
        set(),
    ),
    (
        "a __main__ script",
        "tools/one_off.py",
        f"def put(cur, st_id, status, when):\n    cur.execute({INSERT!r}, (st_id, status, when))\n"
        "if __name__ == '__main__':\n    put(None, 1, 'x', None)\n",
        {"batch-context"},
        set(),
    ),
    (
        "a Flask route is a request handler",
        "app/views.py",
        f"@app.post('/jobs')\ndef create_job():\n    body = request.get_json()\n"
        f"    db.execute({INSERT!r}, (body['id'], body['status'], body['when']))\n",
        {"request-handler"},
        set(),
    ),
    (
        "a FastAPI router is a request handler",
        "app/api.py",
        f"@router.post('/jobs')\nasync def create_job(payload):\n"
        f"    await conn.execute({INSERT.replace('%s', '$1', 1).replace('%s', '$2', 1).replace('%s', '$3')!r}, "
        "payload.id, payload.status, payload.when)\n",
        {"request-handler"},
        set(),
    ),
    (
        "a Django view is a request handler",
        "shop/views.py",
        f"def create_job(request):\n    cursor.execute({INSERT!r}, (request.POST['id'], 'new', None))\n",
        {"request-handler"},
        set(),
    ),
    (
        "an ordinary function is not a request handler",
        "app/store.py",
        f"def create_job(cur, st_id, status, when):\n    cur.execute({INSERT!r}, (st_id, status, when))\n",
        {"single-row"},
        {"request-handler", "batch-context"},
    ),
]


@pytest.mark.parametrize(("relpath", "code", "present", "absent"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_evidence_kind(tmp_path: Path, relpath: str, code: str, present: set[str], absent: set[str]) -> None:
    kinds, _, _ = _scan(tmp_path, relpath, code)
    assert present <= kinds, kinds
    assert not absent & kinds, kinds


def test_business_date_names_its_record_key(tmp_path: Path) -> None:
    code = f"def store(cur, job):\n    cur.execute({INSERT!r}, (job['id'], job['jobStatus'], job.get('scheduledOn')))\n"
    _, details, _ = _scan(tmp_path, "app/store.py", code)
    assert details["business-date"] == "scheduled_at <- scheduledOn"


def test_constant_defined_apart_is_judged_where_it_runs(tmp_path: Path) -> None:
    code = (
        f"SQL = {INSERT!r}\n\ndef migrate_jobs(cur, jobs):\n"
        "    cur.executemany(SQL, [(j['id'], j['s'], j['when']) for j in jobs])\n"
    )
    kinds, details, severity = _scan(tmp_path, "app/store.py", code)
    assert {"bulk", "external-records", "batch-context", "business-date"} <= kinds
    assert details["bulk"] == "executemany" and severity == Severity.CRITICAL


def test_request_handler_single_row_ranks_low_and_the_same_insert_in_a_migration_ranks_critical(tmp_path: Path) -> None:
    handler = (
        f"@app.route('/jobs', methods=['POST'])\ndef create_job():\n    job = request.json\n"
        f"    db.execute({INSERT!r}, (job['id'], job['status'], job['scheduledOn']))\n"
    )
    migration = (
        f"def migrate_jobs(cur, payload):\n    for job in payload:\n"
        f"        cur.execute({INSERT!r}, (job['id'], job['status'], job['scheduledOn']))\n"
    )
    assert _scan(tmp_path / "a", "app/views.py", handler)[2] == Severity.LOW
    assert _scan(tmp_path / "b", "scripts/migrate_jobs.py", migration)[2] == Severity.CRITICAL


def test_config_severity_wins_over_evidence(tmp_path: Path) -> None:
    from guard.config import config_from_mapping

    (tmp_path / "schema.sql").write_text(SCHEMA)
    (tmp_path / "migrate_jobs.py").write_text(
        f"def migrate_jobs(cur, jobs):\n    cur.executemany({INSERT!r}, [(j['id'], j['s'], j['w']) for j in jobs])\n"
    )
    ranked = scan(tmp_path, Config(), jobs=1).findings[0]
    pinned = scan(tmp_path, config_from_mapping({"tables": {"public.jobs": {"severity": "low"}}}), jobs=1).findings[0]
    flat = scan(tmp_path, config_from_mapping({"default_severity": "medium"}), jobs=1).findings[0]
    assert (ranked.severity, pinned.severity, flat.severity) == (Severity.CRITICAL, Severity.LOW, Severity.MEDIUM)
    assert pinned.evidence == ranked.evidence  # the evidence is still shown


MODELS = """
from sqlalchemy import Column, DateTime, Integer, String, func
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Job(Base):
    __tablename__ = "jobs"
    id = Column(Integer, primary_key=True)
    status = Column(String)
    scheduled_at = Column(DateTime)
    created_at = Column(DateTime, server_default=func.now())
"""


def test_orm_writes_carry_evidence_from_their_constructor(tmp_path: Path) -> None:
    """An ORM row is judged like SQL: a loop over a payload in a sync job is critical, a route's create low."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "models.py").write_text(MODELS)
    (tmp_path / "app" / "sync_jobs.py").write_text(
        "from app.models import Job\n\n"
        "def sync_jobs(session, payload):\n"
        "    for job in payload:\n"
        "        session.add(Job(status=job['jobStatus'], scheduled_at=job['scheduledOn']))\n"
    )
    (tmp_path / "app" / "views.py").write_text(
        "from app.models import Job\n\n@router.post('/jobs')\ndef create_job(session, status):\n"
        "    session.add(Job(status=status))\n"
    )
    findings = {f.relpath: f for f in scan(tmp_path, Config(), jobs=1).findings}
    synced, created = findings["app/sync_jobs.py"], findings["app/views.py"]
    details = {e.kind: e.detail for e in synced.evidence}
    assert synced.severity == Severity.CRITICAL and details["business-date"] == "scheduled_at <- scheduledOn"
    assert {"bulk", "external-records", "batch-context"} <= set(details)
    assert created.severity == Severity.LOW and {e.kind for e in created.evidence} == {"request-handler"}
