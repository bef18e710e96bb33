"""SQL text real repositories contain, scanned end to end (fixture ``repos/issue10``): format markers, messages
that are not writes, lists grown in loops, branch variants, CTE keyword lines, other databases' clients and DDL,
rollback scripts, epoch-number defaults and Python newer than the interpreter."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from guard.cli import cli
from guard.config import Config
from guard.model import ScanResult
from guard.scan.engine import scan

ROOT = Path(__file__).resolve().parent.parent / "fixtures" / "repos" / "issue10"


@pytest.fixture(scope="module")
def result() -> ScanResult:
    return scan(ROOT, Config(), jobs=1)


def writes_in(result: ScanResult, relpath: str) -> list[tuple[int, int, str | None, str | None]]:
    return [
        (r.write.line, r.write.column, r.table, r.write.dialect) for r in result.writes if r.write.relpath == relpath
    ]


def test_format_markers_in_a_plain_string_are_holes(result: ScanResult) -> None:
    (similar,) = [r for r in result.writes if r.write.relpath == "app/similar.py"]
    assert similar.write.dynamic and similar.write.columns == ("user_id", "similar_users")
    assert not any(d.path == "app/similar.py" for d in result.diagnostics)
    assert [(f.rule, f.line) for f in result.findings if f.relpath == "app/similar.py"] == [("GRD004", 6)]


def test_sql_in_messages_docstrings_and_ui_labels_is_not_a_write(result: ScanResult) -> None:
    assert writes_in(result, "app/messages.py") == []
    assert not any(d.path == "app/messages.py" for d in result.diagnostics)


def test_list_grown_in_a_loop_is_unknown_not_empty(result: ScanResult) -> None:
    (bulk,) = [r for r in result.writes if r.write.relpath == "app/loader.py" and r.write.line == 12]
    assert "VALUES  RETURNING" not in bulk.write.sql and bulk.write.columns == ("st_id", "total")
    assert bulk.sets_timestamp is False


def test_branch_variants_are_one_write_with_alternatives(result: ScanResult) -> None:
    variants = [r for r in result.writes if r.write.relpath == "app/loader.py" and r.write.line == 14]
    assert [(r.table, r.alternatives) for r in variants] == [("public.workflow_status", ("dbos.workflow_status",))]
    assert [f.rule for f in result.findings if f.relpath == "app/loader.py" and f.line == 14] == ["GRD001"]


def test_cte_write_composed_from_two_pieces_is_reported_at_the_insert_piece(result: ScanResult) -> None:
    text = (ROOT / "app" / "loader.py").read_text().splitlines()
    (cte,) = [r for r in result.writes if r.write.relpath == "app/loader.py" and r.write.kind == "insert-select"]
    assert text[cte.write.line - 1][cte.write.column - 1 :].startswith("INSERT INTO jobs (st_id)")
    finding = next(f for f in result.findings if f.relpath == "app/loader.py" and f.line == cte.write.line)
    assert finding.column == cte.write.column


def test_other_databases_are_listed_with_their_dialect_and_never_findings(result: ScanResult) -> None:
    assert writes_in(result, "app/cache.py") == [(5, 15, "jobs", "sqlite"), (6, 15, "events", "sqlite")]
    assert writes_in(result, "app/analytics.py") == [(7, 17, "events", "clickhouse")]
    assert writes_in(result, "db/clickhouse/001_events.sql") == [(11, 1, "events_ch", "clickhouse")]
    assert writes_in(result, "app/mysql_store.py") == [(12, 19, None, "mysql")]  # dynamic target, still MySQL's
    foreign = ("app/cache.py", "app/analytics.py", "db/clickhouse/001_events.sql", "app/mysql_store.py")
    assert not [f for f in result.findings if f.relpath in foreign]
    assert not [d for d in result.diagnostics if d.path in foreign]  # their DDL is not "unparsed SQL"
    # SQLite's jobs table (no created_at) does not replace the PostgreSQL one in the catalog
    jobs = next(t for t in result.catalog if t.name == "public.jobs")
    assert "created_at" in jobs.columns and "events_ch" not in {t.name.split(".")[-1] for t in result.catalog}


def test_rollback_script_does_not_drop_the_table(result: ScanResult) -> None:
    assert any(t.name == "public.events" for t in result.catalog)


def test_epoch_default_makes_the_table_guarded(result: ScanResult) -> None:
    summary = {t.name: t for t in result.tables}
    assert summary["public.user_similarity"].guarded
    assert summary["public.user_similarity"].default == "(EXTRACT(epoch FROM now()) * 1000)::bigint"


def test_python_newer_than_the_interpreter_keeps_its_writes(result: ScanResult) -> None:
    assert not [d for d in result.diagnostics if d.path == "app/newer.py"]
    found = [
        (r.write.line, r.write.kind, r.table, r.write.dynamic)
        for r in result.writes
        if r.write.relpath == "app/newer.py"
    ]
    assert found == [(7, "insert-select", None, True), (8, "insert", "public.jobs", False)]


def test_json_report_carries_dialects_alternatives_and_keyword_columns() -> None:
    outcome = CliRunner().invoke(cli, ["scan", str(ROOT), "--format", "json", "--fail-on", "never"])
    assert outcome.exit_code == 0, outcome.output
    document = json.loads(outcome.stdout)
    by_site = {(w["path"], w["line"]): w for w in document["writes"]}
    assert by_site[("app/cache.py", 5)]["dialect"] == "sqlite"
    assert by_site[("app/loader.py", 14)]["alternatives"] == ["dbos.workflow_status"]
    assert by_site[("app/loader.py", 17)]["column"] == 10
    assert not [f for f in document["findings"] if f["path"] in ("app/cache.py", "app/analytics.py")]


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12+ reads PEP 701 f-strings natively")
def test_pep701_file_fails_the_running_interpreter() -> None:
    import ast

    with pytest.raises(SyntaxError):
        ast.parse((ROOT / "app" / "newer.py").read_text())
