"""Schema facts from Alembic operations and SQLAlchemy tables/models."""

from __future__ import annotations

from pathlib import Path

from guard.model import SchemaFact
from guard.scan.frontends.python.extract import extract_python

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "python"


def facts(name: str) -> list[SchemaFact]:
    result = extract_python((FIXTURES / name).read_text(), name)
    assert result.diagnostics == []
    return result.schema_facts


def fact(
    table: str,
    action: str,
    columns: tuple[str, ...] = (),
    defaults: tuple[tuple[str, str], ...] = (),
    line: int = 0,
    origin: str = "alembic",
    new_name: str | None = None,
    relpath: str = "",
) -> SchemaFact:
    return SchemaFact(table, action, columns, defaults, new_name, relpath, line, origin)


def test_alembic_operations() -> None:
    r = "alembic_migration.py"
    assert facts(r) == [
        fact(
            "titan.jobs",
            "create",
            ("id", "st_id", "scheduled_at", "created_at"),
            (("created_at", "now()"),),
            12,
            relpath=r,
        ),
        fact("titan.jobs", "add_column", ("ingested_at",), (("ingested_at", "CURRENT_TIMESTAMP"),), 21, relpath=r),
        # default= is computed by Python, not the database: no default recorded
        fact("titan.jobs", "add_column", ("updated_at",), (), 23, relpath=r),
        fact("titan.jobs", "set_default", ("scheduled_at",), (("scheduled_at", "CURRENT_TIMESTAMP"),), 24, relpath=r),
        fact("titan.jobs", "drop_default", ("updated_at",), (), 25, relpath=r),
        fact("titan.jobs", "drop_column", ("legacy",), (), 27, relpath=r),
        fact("jobs_old", "rename_table", line=28, new_name="jobs_archive", relpath=r),
        fact("scratch", "drop_table", line=29, relpath=r),
        fact("Events", "add_column", ("created_at",), (("created_at", "now()"),), 31, relpath=r),
    ]


def test_op_execute_ddl_is_a_candidate_not_a_fact() -> None:
    result = extract_python((FIXTURES / "alembic_migration.py").read_text(), "m.py")
    assert [(c.text, c.context) for c in result.candidates] == [
        ("ALTER TABLE titan.jobs ALTER COLUMN created_at SET DEFAULT now()", "op.execute")
    ]


def test_sqlalchemy_core_and_declarative() -> None:
    r = "models.py"
    assert facts(r) == [
        fact(
            "titan.events",
            "create",
            ("id", "kind", "created_at"),
            (("created_at", "now()"),),
            9,
            "sqlalchemy",
            relpath=r,
        ),
        fact(
            "titan.jobs",
            "create",
            ("id", "st_id", "scheduled", "created_at", "updated_at"),
            (("created_at", "now()"),),
            27,
            "sqlalchemy",
            relpath=r,
        ),
        # names keep their case; a plain string server_default is a quoted constant; mixin columns are inherited
        fact(
            "billing.Invoices",
            "create",
            ("number", "issued_at", "fixed", "created_at"),
            (("issued_at", "CURRENT_TIMESTAMP"), ("fixed", "'now()'"), ("created_at", "now()")),
            38,
            "sqlalchemy",
            relpath=r,
        ),
    ]


def test_table_names_resolved_through_constants() -> None:
    source = (
        "from alembic import op\nimport sqlalchemy as sa\n"
        'TABLE = "jobs"\n'
        "def upgrade():\n"
        '    op.add_column(TABLE, sa.Column("created_at", sa.DateTime(),\n'
        '                  server_default=sa.func.timezone("utc", sa.func.now())))\n'
    )
    (only,) = extract_python(source, "v.py").schema_facts
    assert (only.table, only.defaults) == ("jobs", (("created_at", "timezone('utc', now())"),))


def test_unreadable_table_name_records_nothing() -> None:
    source = "from alembic import op\ndef upgrade(name):\n    op.drop_table(name)\n"
    assert extract_python(source, "v.py").schema_facts == []


def test_downgrade_operations_are_not_schema_facts() -> None:
    """``downgrade()`` undoes ``upgrade()``: replaying its drops after the creates would erase the tables."""
    r = "alembic_downgrade.py"
    assert facts(r) == [
        fact("titan.audit", "create", ("id", "created_at"), (("created_at", "now()"),), 10, relpath=r),
        fact("events", "add_column", ("created_at",), (("created_at", "now()"),), 29, relpath=r),
    ]
    # SQL in a downgrade is still code that runs: its writes are reported
    result = extract_python((FIXTURES / r).read_text(), r)
    assert [(c.text, c.line) for c in result.candidates] == [("INSERT INTO titan.audit (id) VALUES (0)", 36)]


def test_only_module_level_downgrade_functions_are_skipped() -> None:
    source = (
        "from alembic import op\n"
        "class Steps:\n"
        "    def downgrade(self):\n"
        '        op.drop_table("kept")\n'
        "def downgraded_tables():\n"
        '    op.drop_table("also_kept")\n'
    )
    assert [(f.table, f.action) for f in extract_python(source, "v.py").schema_facts] == [
        ("kept", "drop_table"),
        ("also_kept", "drop_table"),
    ]


def test_sql_in_a_downgrade_is_marked_so_its_ddl_stays_out_of_the_catalog() -> None:
    source = (
        "from alembic import op\n"
        "def upgrade():\n"
        '    op.execute("CREATE TABLE t (id int, created_at timestamptz DEFAULT now())")\n'
        "def downgrade():\n"
        '    op.execute("DROP TABLE t")\n'
        "async def downgrade_reporting():\n"
        '    op.execute("ALTER TABLE t DROP COLUMN created_at")\n'
    )
    result = extract_python(source, "v.py")
    assert [(c.line, result.reverts_schema(c)) for c in result.candidates] == [(3, False), (5, True), (7, True)]
