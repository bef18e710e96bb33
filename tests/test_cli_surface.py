"""One command-line vocabulary (issue 12, points 5 and 9): config discovery, shared options, one JSON envelope."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner, Result

from guard.cli import COMMANDS, cli
from guard.config import load_config

ENVELOPE_SCHEMA = Path(__file__).resolve().parents[1] / "guard" / "schemas" / "envelope.schema.json"


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Result:
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)
    finally:
        os.chdir(old)


def envelope_of(result: Result, command: str) -> dict:
    document = json.loads(result.stdout)
    jsonschema.Draft202012Validator(json.loads(ENVELOPE_SCHEMA.read_text())).validate(document)
    assert document["command"] == command
    return document


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A repository with its config at the root and code two levels down."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "guard.toml").write_text('timestamp_column = "made_at"\nmigrations_dir = "db/guard"\n')
    (root / "app" / "jobs").mkdir(parents=True)
    return root


def test_config_is_found_upward_and_stops_at_the_repository_root(project: Path, tmp_path: Path) -> None:
    deep = project / "app" / "jobs"
    config = load_config(deep)
    assert config.timestamp_column == "made_at"
    assert config.root == project and config.source == str(project / "guard.toml")
    assert config.migrations_path() == project / "db" / "guard"
    # a config above the repository root never leaks in
    (tmp_path / "guard.toml").write_text('timestamp_column = "outside"\n')
    (project / "guard.toml").unlink()
    config = load_config(deep)
    assert config.timestamp_column == "created_at" and config.source is None
    assert config.root == project and "repository root" in config.origin


def test_pyproject_without_tool_guard_is_skipped_on_the_way_up(project: Path) -> None:
    (project / "app" / "pyproject.toml").write_text('[project]\nname = "app"\n')
    assert load_config(project / "app" / "jobs").timestamp_column == "made_at"
    (project / "app" / "pyproject.toml").write_text('[tool.guard]\ntimestamp_column = "app_at"\n')
    config = load_config(project / "app" / "jobs")
    assert config.timestamp_column == "app_at" and config.source.endswith("pyproject.toml [tool.guard]")


def test_guard_config_shows_the_resolved_config_and_its_source(project: Path) -> None:
    result = run("config", cwd=project / "app")
    assert result.exit_code == 0, result.output
    assert f"# source: {project / 'guard.toml'}" in result.stdout
    assert 'timestamp_column = "made_at"' in result.stdout
    document = envelope_of(run("config", str(project / "app"), "--format", "json"), "config")
    assert document["settings"]["timestamp_column"] == "made_at"
    assert document["project_root"] == str(project)


def test_config_toml_output_loads_back(project: Path, tmp_path: Path) -> None:
    (project / "guard.toml").write_text(
        'search_path = ["titan"]\n[freshness]\nwarn_after = "12h"\n[tables."titan.jobs"]\nbusiness_column = "s"\n'
    )
    text = run("config", str(project)).stdout
    saved = tmp_path / "saved.toml"
    saved.write_text(text)
    assert load_config(None, saved).tables == load_config(project).tables
    assert load_config(None, saved).warn_after == 12 * 3600


def test_database_commands_find_config_from_a_subdirectory(project: Path, pg_dsn: str) -> None:
    """Point 5: from another directory `migrate` used the cwd's (absent) config and lost migrations_dir."""
    (project / "guard.toml").write_text('search_path = ["public"]\nmigrations_dir = "db/guard"\n')
    with_table = run("protect", "--table", "public.jobs", "--no-ingested-column", cwd=project)
    assert with_table.exit_code == 0, with_table.output
    assert (project / "db" / "guard").is_dir()
    # create the table, then migrate from a subdirectory: the revision written above must be found
    import psycopg

    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.jobs (id int PRIMARY KEY, created_at timestamptz DEFAULT now())")
    result = run("migrate", "--dsn", pg_dsn, "-q", cwd=project / "app" / "jobs")
    assert result.exit_code == 0, result.output
    status = envelope_of(run("status", "--format", "json", env={"DATABASE_URL": pg_dsn}, cwd=project / "app"), "status")
    assert [t["table"] for t in status["tables"]] == ["public.jobs"]


def test_dsn_comes_from_guard_dsn_or_database_url_and_is_never_printed(pg_dsn: str) -> None:
    result = run("freshness", "--format", "json", env={"DATABASE_URL": pg_dsn, "GUARD_DSN": ""})
    assert result.exit_code in (0, 1), result.output
    envelope_of(result, "freshness")
    missing = run("freshness", env={"DATABASE_URL": "", "GUARD_DSN": ""})
    assert missing.exit_code == 2
    assert "GUARD_DSN or DATABASE_URL" in missing.output
    help_text = run("detect", "--help", env={"GUARD_DSN": pg_dsn}).stdout
    assert pg_dsn not in help_text and "GUARD_DSN" in help_text


def test_text_format_is_a_deprecated_alias_of_table(pg_dsn: str) -> None:
    from guard.db.migrate import upgrade

    upgrade(pg_dsn)
    result = run("status", "--dsn", pg_dsn, "--format", "text")
    assert result.exit_code == 0, result.output
    assert "deprecated" in result.stderr and "no table is guarded yet" in result.stdout


def test_every_json_document_shares_the_envelope(pg_dsn: str, tmp_path: Path) -> None:
    from guard.db.migrate import upgrade

    upgrade(pg_dsn)
    for command in ("status", "detect", "freshness", "doctor"):
        result = run(command, "--dsn", pg_dsn, "--format", "json", "--fail-on", "never")
        assert result.exit_code == 0, (command, result.output)
        assert envelope_of(result, command)["diagnostics"] == []
    (tmp_path / "a.sql").write_text("CREATE TABLE t (id int, created_at timestamptz DEFAULT now());\n")
    scan = run("scan", str(tmp_path), "--format", "json", "--fail-on", "never")
    assert scan.exit_code == 0
    assert envelope_of(scan, "scan")["format_version"] == 2


def test_output_option_on_database_commands_and_failed_runs_keep_the_old_report(pg_dsn: str, tmp_path: Path) -> None:
    report = tmp_path / "fresh.json"
    result = run("freshness", "--dsn", pg_dsn, "--format", "json", "-o", str(report))
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and json.loads(report.read_text())["command"] == "freshness"
    before = report.read_text()
    failed = run("freshness", "--dsn", pg_dsn, "--schema", "nope", "--format", "json", "-o", str(report))
    assert failed.exit_code == 2 and "no schema nope" in failed.stderr
    assert report.read_text() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_every_command_declares_the_shared_options_it_needs() -> None:
    """Point 9: status/release lacked --config, -o only on scan, --fail-on only on scan and freshness."""
    reporting = {
        "scan",
        "status",
        "detect",
        "freshness",
        "coverage",
        "doctor",
        "quarantine",
        "release",
        "config",
        "bounds",
    }
    for name in COMMANDS:
        command = cli.get_command(None, name)  # type: ignore[arg-type]
        assert command is not None
        opts = {o for p in command.params for o in getattr(p, "opts", [])}
        if name in reporting:
            assert {"--format", "-o", "--output", "--config"} <= opts, name
        if name in {"scan", "status", "detect", "freshness", "coverage", "doctor", "bounds", "rollout"}:
            assert "--fail-on" in opts, name
        if name in {"status", "detect", "quarantine", "release", "freshness", "coverage", "doctor", "migrate"}:
            assert "--dsn" in opts and "--config" in opts, name
        if name in {"detect", "quarantine", "coverage", "protect"}:
            assert "--table" in opts, name


def test_quarantine_says_dry_run_the_way_patch_does(pg_dsn: str) -> None:
    both = run("quarantine", "--dsn", pg_dsn, "--table", "t", "--where", "true", "--apply", "--dry-run")
    assert both.exit_code == 2 and "contradict" in both.output


def test_protect_takes_table_as_option_and_positional(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "guard.toml").write_text('migrations_dir = "m"\n')
    assert run("protect", "--table", "public.a", cwd=tmp_path).exit_code == 0
    assert run("protect", "public.b", cwd=tmp_path).exit_code == 0
    disagree = run("protect", "public.c", "--table", "public.d", cwd=tmp_path)
    assert disagree.exit_code == 2 and "disagree" in disagree.output
    assert run("protect", cwd=tmp_path).exit_code == 2


def test_rule_and_docs_print_the_shipped_pages() -> None:
    page = run("rule", "GRD001")
    assert page.exit_code == 0 and page.stdout.startswith("# GRD001")
    listing = run("rule")
    assert "GRD001" in listing.stdout and "GRD901" in listing.stdout
    unknown = run("rule", "GRD999")
    assert unknown.exit_code == 2 and "no rule" in unknown.stderr
    assert run("docs", "cli").stdout.startswith("# ")


def test_help_points_at_docs_the_package_ships() -> None:
    """Point 9: help text named docs/... files that a wheel install does not have."""
    for name in COMMANDS:
        command = cli.get_command(None, name)  # type: ignore[arg-type]
        assert command is not None
        text = run(name, "--help").stdout
        assert "docs/" not in text, name


def test_python_dash_m_guard() -> None:
    result = subprocess.run([sys.executable, "-m", "guard", "--version"], capture_output=True, text=True, check=True)
    assert "guard" in result.stdout


def test_completion_script_is_generated() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "guard"],
        capture_output=True,
        text=True,
        env={**os.environ, "_GUARD_COMPLETE": "bash_source"},
    )
    assert result.returncode == 0 and "_GUARD_COMPLETE" in result.stdout
