"""``guard scan --dsn``: a repository with no DDL made precise by the live catalog of a real PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
from click.testing import CliRunner

from guard.cli import cli

APP = """
def sync(conn, job, note, event):
    conn.execute("INSERT INTO titan.jobs (st_id, total) VALUES (%s, %s)", (job["id"], job["total"]))
    conn.execute("INSERT INTO titan.notes (job_id, body) VALUES (%s, %s)", (job["id"], note))
    conn.execute("INSERT INTO jobs VALUES (%s, %s, %s)", (1, 2, 3))
    conn.execute("INSERT INTO analytics.events (name) VALUES (%s)", (event,))
"""


def _scan(root: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["scan", str(root), "--format", "json", *args], env=env)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def test_live_catalog_makes_a_ddl_free_repo_precise(tmp_path: Path, pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA titan")
        conn.execute(
            "CREATE TABLE titan.jobs (id bigserial PRIMARY KEY, st_id bigint, total numeric,"
            " created_at timestamptz NOT NULL DEFAULT now())"
        )
        conn.execute("CREATE TABLE titan.notes (id bigserial PRIMARY KEY, job_id bigint, body text)")
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "guard.toml").write_text('search_path = ["titan", "public"]\n')

    code, blind = _scan(tmp_path)
    assert code == 0  # GRD003 is low: nothing known, nothing fails
    assert sorted((f["line"], f["rule"]) for f in blind["findings"]) == [
        (3, "GRD003"),
        (4, "GRD003"),
        (5, "GRD003"),
        (6, "GRD003"),
    ]

    code, precise = _scan(tmp_path, "--dsn", pg_dsn, "--fail-on", "medium")
    assert code == 1
    verdicts = sorted((f["line"], f["rule"], f["table"]) for f in precise["findings"])
    assert verdicts == [
        (3, "GRD001", "titan.jobs"),  # omits created_at, DEFAULT now()
        (5, "GRD001", "titan.jobs"),  # positional, 3 values stop before created_at (4th column)
        (6, "GRD003", "analytics.events"),  # still unknown: not in the database either
    ]
    tables = {t["name"]: t for t in precise["tables"]}
    assert tables["titan.jobs"]["guarded"] and tables["titan.jobs"]["default"] == "now()"
    assert tables["titan.jobs"]["writers"] == 2
    assert not tables["titan.notes"]["guarded"] and tables["titan.notes"]["writers"] == 1

    # GUARD_DSN works like --dsn
    _, from_env = _scan(tmp_path, env={"GUARD_DSN": pg_dsn})
    assert sorted(f["rule"] for f in from_env["findings"]) == ["GRD001", "GRD001", "GRD003"]


def test_unreachable_database_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "app.sql").write_text("INSERT INTO t (a) VALUES (1);\n")
    result = CliRunner().invoke(
        cli, ["scan", str(tmp_path), "--dsn", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"]
    )
    assert result.exit_code == 2
    assert "guard: " in result.stderr and "error" in result.stderr
