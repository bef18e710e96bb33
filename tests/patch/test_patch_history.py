"""GRD007 fixes: an INSERT ... SELECT that dropped its source's own time selects it (issue: rank by evidence)."""

from __future__ import annotations

from pathlib import Path

import pglast
from click.testing import CliRunner

from guard.cli import cli
from guard.config import Config
from guard.scan.engine import scan

SCHEMA = """
CREATE TABLE funnels (id bigint, visits integer, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE sources (funnel_id bigint, channel text);
CREATE TABLE metrics (funnel_id bigint, visits integer, channel text, created_at timestamptz DEFAULT now());
"""


def _repo(tmp_path: Path, sql: str, python: str = "") -> Path:
    (tmp_path / "schema.sql").write_text(SCHEMA)
    (tmp_path / "rebuild.sql").write_text(sql)
    if python:
        (tmp_path / "rebuild.py").write_text(python)
    return tmp_path


def test_join_takes_the_time_from_the_relation_history_came_from(tmp_path: Path) -> None:
    root = _repo(
        tmp_path,
        "INSERT INTO metrics (funnel_id, visits, channel)\n"
        "SELECT f.id, f.visits, s.channel FROM sources AS s JOIN funnels AS f ON f.id = s.funnel_id;\n",
    )
    [finding] = scan(root, Config(), jobs=1).findings
    assert finding.rule == "GRD007" and finding.fixable
    assert "reads rows from public.funnels but drops its created_at" in finding.message

    first = CliRunner().invoke(cli, ["patch", str(root), "--apply"])
    assert first.exit_code == 0, first.output
    patched = (root / "rebuild.sql").read_text()
    assert "INSERT INTO metrics (funnel_id, visits, channel, created_at)" in patched
    assert "SELECT f.id, f.visits, s.channel, f.created_at FROM sources AS s JOIN funnels AS f" in patched
    pglast.parse_sql(patched)
    assert scan(root, Config(), jobs=1).findings == []

    again = CliRunner().invoke(cli, ["patch", str(root)])
    assert again.exit_code == 0 and again.stdout == ""  # idempotent


def test_python_insert_select_string_is_patched_the_same_way(tmp_path: Path) -> None:
    root = _repo(
        tmp_path,
        "SELECT 1;\n",
        python=(
            "def rebuild(cur):\n"
            '    cur.execute("INSERT INTO metrics (funnel_id, visits) SELECT id, visits FROM funnels")\n'
        ),
    )
    result = CliRunner().invoke(cli, ["patch", str(root), "--rule", "GRD007"])
    assert result.exit_code == 0, result.output
    assert (
        '+    cur.execute("INSERT INTO metrics (funnel_id, visits, created_at) SELECT id, visits, funnels.created_at '
        'FROM funnels")' in result.stdout
    )


def test_rule_option_still_narrows_to_one_rule(tmp_path: Path) -> None:
    root = _repo(tmp_path, "INSERT INTO metrics (funnel_id, visits) SELECT id, visits FROM funnels;\n")
    result = CliRunner().invoke(cli, ["patch", str(root), "--rule", "GRD001"])
    assert result.exit_code == 0 and result.stdout == ""
    assert "no GRD001 findings" in result.stderr or "nothing to do" in result.stderr.lower()
