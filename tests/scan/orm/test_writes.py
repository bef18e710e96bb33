"""ORM and query-builder write extraction, one pattern per test: what is a write, with which keys, and what is not."""

from __future__ import annotations

import ast
import textwrap

from guard.model import WriteStatement
from guard.scan.frontends.python.drivers import DRIVERS
from guard.scan.frontends.python.orm import extract_orm, may_hold_orm
from guard.scan.frontends.python.rows import UNKNOWN_COLUMNS

HEADER = """
from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from django.db import models
from app.models import Job, Note, jobs
"""


def writes(body: str) -> list[WriteStatement]:
    text = HEADER + textwrap.dedent(body)
    return extract_orm(ast.parse(text), text, "app/work.py", DRIVERS.row_writers()).writes


def shapes(body: str) -> list[tuple[str | None, tuple[str, ...] | None, str]]:
    return [(w.entity or w.table, w.columns, w.kind) for w in writes(body)]


JOB = "sqlalchemy:app.models.Job"


def test_session_add_of_a_constructor() -> None:
    assert shapes("def f(session, p):\n    session.add(Job(st_id=p['id'], status='new'))\n") == [
        (JOB, ("st_id", "status"), "insert")
    ]


def test_instance_built_then_added_later_with_attributes_set_in_between() -> None:
    found = writes(
        """
        def f(db, p):
            job = Job(st_id=p["id"])
            job.created_at = p["created"]
            db.add(job)
        """
    )
    [write] = found
    assert write.columns == ("st_id", "created_at")
    assert (write.line, write.column) == (8, 11)  # the constructor: where the fix goes


def test_add_all_lists_comprehensions_and_appends() -> None:
    found = shapes(
        """
        def f(session, items):
            session.add_all([Job(a=1), Note(b=2)])
            session.add_all(Job(a=i) for i in items)
            batch = []
            for i in items:
                batch.append(Note(c=i))
            session.bulk_save_objects(batch)
        """
    )
    assert [(e, c) for e, c, _ in found] == [
        (JOB, ("a",)), ("sqlalchemy:app.models.Note", ("b",)), (JOB, ("a",)), ("sqlalchemy:app.models.Note", ("c",))
    ]


def test_merge_and_bulk_insert_mappings() -> None:
    found = shapes(
        """
        def f(session, rows):
            session.merge(Job(a=1))
            session.bulk_insert_mappings(Job, [{"a": r, "b": 2} for r in rows])
        """
    )
    assert found == [(JOB, ("a",), "insert"), (JOB, ("a", "b"), "insert")]


def test_a_value_that_is_the_current_time_reads_as_now() -> None:
    [write] = writes(
        """
        from datetime import datetime, timezone
        def f(session):
            session.add(Job(a=1, created_at=datetime.now(timezone.utc)))
        """
    )
    assert write.value_of("created_at") == "now()" and write.value_of("a") == "1"


def test_updates_of_loaded_instances_are_not_writes() -> None:
    assert writes(
        """
        def f(session, job_id):
            job = session.get(Job, job_id)
            job.status = "done"
            session.add(job)
            session.merge(job)
        def g(session, job):
            session.add(job)
        """
    ) == []


def test_sqlmodel_model_validate_is_a_new_instance_with_unknown_fields() -> None:
    [write] = writes(
        """
        def create_user(session, user_in):
            db_obj = Job.model_validate(user_in, update={"hashed_password": "x"})
            session.add(db_obj)
        """
    )
    assert write.entity == JOB and write.columns == ("hashed_password", UNKNOWN_COLUMNS) and write.dynamic


def test_kwargs_make_the_row_dynamic_but_keep_known_keys() -> None:
    [write] = writes("def f(session, data):\n    session.add(Job(a=1, **data))\n")
    assert write.columns == ("a", UNKNOWN_COLUMNS) and write.dynamic


def test_core_insert_values_in_every_shape() -> None:
    found = shapes(
        """
        def f(conn, rows):
            conn.execute(insert(Job).values(a=1, b=2))
            conn.execute(insert(jobs).values({"a": 1}))
            conn.execute(insert(Job).values([{"a": 1, "b": 2}, {"a": 3}]))
            conn.execute(insert(Job), [dict(a=r, b=2) for r in rows])
            conn.execute(jobs.insert(), {"a": 1})
            conn.execute(Job.__table__.insert().values(a=1))
        """
    )
    assert [c for _, c, _ in found] == [("a", "b"), ("a",), ("a",), ("a", "b"), ("a",), ("a",)]


def test_core_statement_assigned_extended_and_run_with_rows() -> None:
    [write] = writes(
        """
        def f(conn, rows):
            stmt = pg_insert(Job)
            stmt = stmt.on_conflict_do_nothing(index_elements=["a"])
            payload = []
            for r in rows:
                payload.append({"a": r["a"], "created_at": r["t"]})
            conn.execute(stmt, payload)
        """
    )
    assert (write.kind, write.on_conflict, write.columns) == ("upsert", "nothing", ("a", "created_at"))


def test_alembic_bulk_insert_of_a_lightweight_table() -> None:
    found = shapes(
        """
        import sqlalchemy as sa
        from alembic import op
        def upgrade():
            accounts = sa.table("accounts", sa.column("id"), sa.column("name"))
            op.bulk_insert(accounts, [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}])
        """
    )
    assert found == [("accounts", ("id", "name"), "insert")]


def test_from_select_and_returning() -> None:
    found = shapes(
        """
        def f(conn, sel):
            conn.execute(insert(Job).from_select(["a", "b"], sel).returning(Job.id))
            conn.execute(insert(Job).values(a=1).returning(Job.id))
        """
    )
    assert found == [(JOB, ("a", "b"), "insert-select"), (JOB, ("a",), "insert")]


def test_core_statement_built_and_run_elsewhere_is_dynamic() -> None:
    [write] = writes("def f():\n    return insert(Job)\n")
    assert write.dynamic and write.columns == (UNKNOWN_COLUMNS,)


def test_a_local_function_named_insert_is_not_sqlalchemy() -> None:
    found = writes(
        """
        def insert(table, row):
            return table, row
        def f(rows):
            insert(Job, rows)
            rows.insert(0, Job(a=1))
        """
    )
    assert [w for w in found if w.origin == "sqlalchemy-core"] == []


def test_instances_handed_to_a_helper_or_returned_are_inferred_writes() -> None:
    found = writes(
        """
        def create(db, p):
            task = Task(name=p["name"])
            task.owner = p["owner"]
            return create_and_refresh(db, task)
        def make(p):
            return Job(a=p["a"])
        def transient(p):
            job = Job(a=1)
            print(job.a)
        """.replace("Task", "Note")
    )
    assert [(w.entity, w.columns, w.inferred) for w in found] == [
        ("sqlalchemy:app.models.Note", ("name", "owner"), True),
        (JOB, ("a",), True),
    ]


def test_django_manager_calls_and_save_of_a_new_instance() -> None:
    found = shapes(
        """
        def f(p, items):
            Job.objects.create(a=1, **{"b": 2})
            Job.objects.get_or_create(a=1, defaults={"c": 3})
            Job.objects.update_or_create(a=1, defaults=dict(d=4), create_defaults={"e": 5})
            Job.objects.bulk_create([Job(f=i) for i in items])
            job = Job(g=1)
            job.save()
            Job(h=1).save()
            old = Job.objects.get(pk=1)
            old.save()
        """
    )
    django = "django:app.models.Job"
    assert found == [
        (django, ("a", "b"), "insert"),
        (django, ("a", "c"), "insert"),
        (django, ("a", "d", "e"), "insert"),
        (django, ("f",), "insert"),
        (django, ("g",), "insert"),
        (django, ("h",), "insert"),
    ]


def test_routed_and_custom_managers_and_model_create_helpers() -> None:
    found = writes(
        """
        def f(p):
            Job.objects.using("replica").create(a=1)
            Job.active.create(b=2)
            Note.create(c=3)
            registry.create(d=4)
        """
    )
    assert [(w.entity, w.columns, w.inferred) for w in found] == [
        ("django:app.models.Job", ("a",), False),
        ("django:app.models.Job", ("b",), True),
        ("sqlalchemy:app.models.Note", ("c",), True),
    ]


def test_pandas_to_sql_static_dynamic_and_known_frames() -> None:
    found = shapes(
        """
        import pandas as pd
        def f(df, engine, name):
            df.to_sql("jobs", engine, schema="titan")
            df.to_sql(name, engine)
            frame = pd.DataFrame({"a": [1], "created_at": [2]})
            frame.to_sql("jobs", engine)
        """
    )
    assert found == [
        ("titan.jobs", (UNKNOWN_COLUMNS,), "insert"),
        ("guard_hole_table", (UNKNOWN_COLUMNS,), "insert"),
        ("jobs", ("a", "created_at"), "insert"),
    ]


def test_prefilter_lets_orm_files_through_and_skips_plain_code() -> None:
    drivers = DRIVERS.row_writers()
    assert may_hold_orm(b"from app.models import Job\ndef f(session):\n    session.add(Job())\n", drivers)
    assert may_hold_orm(b"class Job(Base):\n    __tablename__ = 'jobs'\n", drivers)
    assert may_hold_orm(b"from .models import Order\nOrder.objects.create(total=1)\n", drivers)
    assert may_hold_orm(b"frame.to_sql('jobs', engine, schema='titan')\n", drivers)
    assert not may_hold_orm(b"items = set()\nitems.add(1)\nvalues.insert(0, 2)\n", drivers)
    # a family's anchor counts only with that family's own gate: ``.save(`` of a cookie jar next to a "session"
    assert not may_hold_orm(b"def f(session):\n    jar.save(session.path)\n", drivers)


def test_bulk_insert_mappings_of_a_model_passed_in_is_a_write_with_an_unknown_target() -> None:
    """A helper that bulk-inserts whatever model it is given still inserts: reported as dynamic, never dropped."""
    [found] = writes(
        "def bulk_insert(db, data, into):\n"
        "    while data:\n"
        "        chunk, data = data[:1000], data[1000:]\n"
        "        db.bulk_insert_mappings(into, chunk)\n"
    )
    assert found.entity is None and found.table is None and found.dynamic
    assert found.context.startswith("db.bulk_insert_mappings")


def test_module_level_code_is_read() -> None:
    """Scripts write at module level (an ETL's ``frame.to_sql(...)``): the module body is a body like any other."""
    [found] = writes("frame = load()\nframe.to_sql('events', engine, schema='raw')\n")
    assert (found.table, found.line) == ("raw.events", 7)


def test_a_module_handing_a_model_instance_to_a_repository_is_read() -> None:
    """No session call in the file: the instance is built here and a repository adds it elsewhere."""
    drivers = DRIVERS.row_writers()
    source = b"from app.models.note import Note\ndef add(repo, db, text):\n    return repo.save(db, Note(text=text))\n"
    assert may_hold_orm(source, drivers)
    assert may_hold_orm(b"from sqlmodel import Session\nfrom app import models\nmodels.Note(text='x')\n", drivers)


def test_rows_built_from_a_schema_object_carry_its_class_for_the_catalog() -> None:
    """``**job_in.dict(...)`` / ``model_validate(job_in)``: the keys are the fields of ``job_in``'s class, named
    by the catalog; options that may drop fields make the row partial, ``include`` names the keys outright."""
    found = writes(
        """
        from app.schemas import JobCreate
        def f(session, job_in: JobCreate, jobs_in: list[JobCreate], payload: dict):
            session.add(Job(**job_in.dict(exclude={"owner"}), owner_id=1))
            session.add_all([Job(**item.model_dump()) for item in jobs_in])
            session.add(Job(**job_in.dict(exclude_unset=True)))
            session.add(Job(**job_in.dict(include={"status"})))
            session.add(Job.model_validate(job_in, update={"owner_id": 2}))
            session.add(Job(**payload))
        """
    )
    shapes = [(w.columns, w.fields_of) for w in found]
    schema = "app.schemas.JobCreate"
    assert shapes == [
        (("owner_id", UNKNOWN_COLUMNS), ((schema, ("owner",), False),)),
        ((UNKNOWN_COLUMNS,), ((schema, (), False),)),
        ((UNKNOWN_COLUMNS,), ((schema, (), True),)),
        (("status",), ()),
        (("owner_id", UNKNOWN_COLUMNS), ((schema, (), False),)),
        ((UNKNOWN_COLUMNS,), ()),
    ]
    assert all(w.dynamic for w in found if w.fields_of)
