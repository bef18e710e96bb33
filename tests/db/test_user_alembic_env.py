"""Issue 12, point 6: guard in the project's own Alembic environment, end to end against a real PostgreSQL.

Was: `alembic revision` wrote into site-packages/guard/migrations/versions on guard's branch; after
`alembic upgrade heads`, `guard migrate` failed with `relation "protected_tables" already exists`; autogenerate
with compare_server_default=True proposed putting DEFAULT now() back and dropping warehouse_ingested_at.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import sqlalchemy
from click.testing import CliRunner, Result
from psycopg.conninfo import conninfo_to_dict

from guard.cli import cli
from guard.db.migrate import guard_versions_dir

#: the one line the docs tell users to add to env.py
GUARD_LINE = "import guard.alembic; guard.alembic.setup(context)  # noqa: E702"

MODELS = """
import sqlalchemy as sa

metadata = sa.MetaData()
jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("title", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)
"""


def sqlalchemy_url(dsn: str) -> str:
    params = conninfo_to_dict(dsn)
    user, password, database = params.pop("user", None), params.pop("password", None), params.pop("dbname", None)
    url = sqlalchemy.engine.URL.create(
        "postgresql+psycopg", username=user, password=password, database=database, query=params
    )
    return url.render_as_string(hide_password=False)


def alembic(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "alembic", *args], cwd=project, capture_output=True, text=True, env=dict(os.environ)
    )
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result


def guard(project: Path, *args: str) -> Result:
    old = Path.cwd()
    os.chdir(project)
    try:
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def newest(versions: Path, before: set[Path]) -> Path:
    [created] = set(versions.glob("*.py")) - before
    return created


@pytest.mark.slow
def test_guard_in_the_projects_own_alembic_environment(tmp_path: Path, pg_dsn: str) -> None:
    project = tmp_path / "app"
    project.mkdir()
    (project / ".git").mkdir()
    guard_revisions_before = sorted(p.name for p in guard_versions_dir().glob("*.py"))

    # init: the project's own environment, its models, and the one line that adds guard
    alembic(project, "init", "alembic")
    (project / "models.py").write_text(MODELS)
    ini = project / "alembic.ini"
    url = sqlalchemy_url(pg_dsn).replace("%", "%%")
    ini.write_text(
        "\n".join(
            f"sqlalchemy.url = {url}" if line.startswith("sqlalchemy.url") else line
            for line in ini.read_text().splitlines()
        )
        + "\n"
    )
    env = project / "alembic" / "env.py"
    text = env.read_text()
    text = text.replace("from alembic import context\n", f"from alembic import context\n{GUARD_LINE}\n", 1)
    text = text.replace("target_metadata = None", "import models\ntarget_metadata = models.metadata")
    text = text.replace(
        "target_metadata=target_metadata,", "target_metadata=target_metadata, compare_server_default=True,"
    )
    env.write_text(text)
    (project / "guard.toml").write_text('migrations_dir = "alembic/versions"\n')
    versions = project / "alembic" / "versions"

    # upgrade heads installs guard's lineage
    alembic(project, "upgrade", "heads")
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("SELECT to_regclass('guard.protected_tables') IS NOT NULL").fetchone() == (True,)

    # revision (autogenerate and plain) writes into the project's versions/, never into guard's
    before = set(versions.glob("*.py"))
    alembic(project, "revision", "--autogenerate", "-m", "create jobs")
    created = newest(versions, before)
    assert (
        "op.create_table('jobs'" in created.read_text()
        and "down_revision: Union[str, Sequence[str], None] = None" in created.read_text()
    )
    before = set(versions.glob("*.py"))
    alembic(project, "revision", "-m", "plain step")
    plain = newest(versions, before)
    assert f"down_revision: Union[str, Sequence[str], None] = '{created.name.split('_')[0]}'" in plain.read_text()
    assert sorted(p.name for p in guard_versions_dir().glob("*.py")) == guard_revisions_before
    alembic(project, "upgrade", "heads")

    # protect: into the project's versions/, resolved through search_path, applied by alembic upgrade heads
    protected = guard(project, "protect", "--table", "jobs", "--dsn", pg_dsn, "--mode", "enforce")
    assert protected.exit_code == 0, protected.output
    assert "jobs -> public.jobs" in protected.stdout
    revision = Path(protected.stdout.split("wrote ", 1)[1].split()[0])
    assert revision.parent.resolve() == versions.resolve()
    assert "guard_0" not in revision.read_text()  # never names guard's lineage: plain `alembic revision` keeps working
    alembic(project, "upgrade", "heads")
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("SELECT mode FROM guard.protected_tables").fetchall() == [("enforce",)]
        default = conn.execute(
            "SELECT column_default FROM information_schema.columns WHERE table_name = 'jobs'"
            " AND column_name = 'created_at'"
        ).fetchone()
        assert default is not None and "infinity" in default[0]
        columns = [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'jobs' ORDER BY ordinal_position"
        )]  # fmt: skip
        assert "warehouse_ingested_at" in columns

    # autogenerate with compare_server_default=True proposes nothing for the guarded table
    before = set(versions.glob("*.py"))
    alembic(project, "revision", "--autogenerate", "-m", "nothing")
    empty = newest(versions, before).read_text()
    upgrade = empty.split("def upgrade()", 1)[1].split("def downgrade()", 1)[0]
    assert "op." not in upgrade and "pass" in upgrade, upgrade

    # guard status and guard migrate agree with the project's environment
    status = guard(project, "status", "--dsn", pg_dsn)
    assert status.exit_code == 0 and "public.jobs" in status.stdout and "enforce" in status.stdout
    migrate = guard(project, "migrate", "--dsn", pg_dsn)
    assert migrate.exit_code == 0, migrate.output
    assert "managed by your Alembic environment" in migrate.stdout and "up to date" in migrate.stdout
    alembic(project, "upgrade", "heads")  # still consistent: nothing left to apply
    heads = alembic(project, "heads").stdout
    assert "guard_0" not in heads  # a plain run does not load guard's lineage
