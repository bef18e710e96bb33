"""Issue 12, points 1-4: the layers agree with each other (each test reproduces the old failure)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result

from guard.cli import cli

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "titan"


def run(*args: str, cwd: Path | None = None) -> Result:
    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


@pytest.fixture
def titan(tmp_path: Path) -> Iterator[Path]:
    """A copy of the example in its own repository."""
    root = tmp_path / "titan-repo"
    shutil.copytree(EXAMPLE, root)
    (root / ".git").mkdir()
    yield root


def findings(result: Result) -> list[dict]:
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)["findings"]


def test_point1_a_single_file_is_judged_with_the_project_catalog(titan: Path) -> None:
    """Was: `guard scan titan/api/portal.py` from examples/titan: 1 LOW finding, exit 0."""
    result = run("scan", "titan/api/portal.py", "--no-progress", "--format", "table", cwd=titan)
    assert result.exit_code == 1, result.output
    assert "CRITICAL" in result.stdout and "titan/api/portal.py:7" in result.stdout
    partial = findings(run("scan", "titan/api/portal.py", "--format", "json", cwd=titan))
    whole = findings(run("scan", ".", "--format", "json", cwd=titan))
    assert partial == [f for f in whole if f["path"] == "titan/api/portal.py"]
    assert [f["severity"] for f in partial] == ["critical"]
    # from a subdirectory, and several files at once (as a pre-commit hook passes them)
    sub = findings(run("scan", "portal.py", "vapi_voice.py", "--format", "json", cwd=titan / "titan" / "api"))
    assert {f["path"] for f in sub} == {"titan/api/portal.py", "titan/api/vapi_voice.py"}
    assert sub == [f for f in whole if f["path"] in ("titan/api/portal.py", "titan/api/vapi_voice.py")]
    directory = findings(run("scan", "titan/api", "--format", "json", cwd=titan))
    assert directory == [f for f in whole if f["path"].startswith("titan/api/")]


def test_point1_a_partial_scan_counts_the_files_it_reports_on(titan: Path) -> None:
    """Was: the summary of `guard scan titan/api/portal.py` said "17 of 23 files hold SQL" (the project's)."""
    whole = json.loads(run("scan", ".", "--format", "json", cwd=titan).stdout)["summary"]
    one = json.loads(run("scan", "titan/api/portal.py", "--format", "json", cwd=titan).stdout)["summary"]
    assert (one["files_scanned"], one["files_with_sql"], one["catalog_files"]) == (1, 1, whole["files_scanned"])
    assert 1 <= one["statements"] < whole["statements"] and whole["catalog_files"] == 0
    line = " ".join(run("scan", "titan/api/portal.py", "--no-progress", "--format", "table", cwd=titan).stdout.split())
    assert f"1 of 1 file hold SQL · judged with the catalog of {whole['files_scanned']} project files" in line


def test_point1_a_named_file_the_config_excludes_says_so(titan: Path) -> None:
    (titan / "vendor").mkdir()
    (titan / "vendor" / "lib.py").write_text('SQL = "INSERT INTO titan.jobs (st_id) VALUES (1)"\n')
    result = run("scan", "vendor/lib.py", "--format", "json", cwd=titan)
    assert result.exit_code == 0
    [diagnostic] = json.loads(result.stdout)["diagnostics"]
    assert diagnostic["path"] == "vendor/lib.py" and diagnostic["kind"] == "not-scanned"


def test_point2_scan_dsn_sees_guards_own_protection(titan: Path, pg_dsn: str) -> None:
    """Was: after `guard protect` + `guard migrate`, `scan --dsn` dropped titan.jobs findings from 5 to 0."""
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute((titan / "schema" / "001_titan.sql").read_text())
    static = [f for f in findings(run("scan", ".", "--format", "json", cwd=titan)) if f["table"] == "titan.jobs"]
    assert len(static) >= 5
    protect = run("protect", "--table", "titan.jobs", "--mode", "enforce", cwd=titan)
    assert protect.exit_code == 0, protect.output
    migrate = run("migrate", "--dsn", pg_dsn, "-q", cwd=titan)
    assert migrate.exit_code == 0, migrate.output
    with psycopg.connect(pg_dsn) as conn:
        default = conn.execute(
            "SELECT column_default FROM information_schema.columns"
            " WHERE table_schema = 'titan' AND table_name = 'jobs' AND column_name = 'created_at'"
        ).fetchone()
    assert default is not None and "infinity" in default[0]  # the sentinel replaced now()
    live = run("scan", ".", "--format", "json", "--dsn", pg_dsn, cwd=titan)
    with_dsn = [f for f in findings(live) if f["table"] == "titan.jobs"]
    assert [(f["path"], f["line"], f["rule"]) for f in with_dsn] == [(f["path"], f["line"], f["rule"]) for f in static]
    jobs = next(t for t in json.loads(live.stdout)["tables"] if t["name"] == "titan.jobs")
    assert jobs["guarded"] is True


def test_point3_patch_never_writes_what_grd002_flags(tmp_path: Path) -> None:
    """Was: the .sql fallback wrote `now()`, which the next scan reported as a CRITICAL GRD002."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "guard.toml").write_text(
        '[tables."public.jobs"]\nseverity = "critical"\nbusiness_column = "scheduled_at"\n'
    )
    (tmp_path / "schema.sql").write_text(
        "CREATE TABLE jobs (id int PRIMARY KEY, scheduled_at timestamptz,"
        " created_at timestamptz NOT NULL DEFAULT now());\n"
    )
    (tmp_path / "seed.sql").write_text("INSERT INTO jobs (id, scheduled_at) VALUES (1, '2020-01-01');\n")
    before = findings(run("scan", ".", "--format", "json", cwd=tmp_path))
    assert [f["rule"] for f in before] == ["GRD001"]
    patched = run("patch", ".", "--apply", cwd=tmp_path)
    assert patched.exit_code == 0, patched.output
    text = (tmp_path / "seed.sql").read_text()
    assert "now()" not in text and "guard: review" in text
    assert "review" in patched.stderr
    after = findings(run("scan", ".", "--format", "json", cwd=tmp_path))
    # neither GRD001 (the column is named) nor GRD002 (no ingestion time written): the placeholder stays visible
    assert [(f["rule"], f["line"]) for f in after] == [("GRD006", 1)]
    assert "guard: review" in after[0]["message"] and after[0]["fixable"] is False


@pytest.fixture
def incident_guard(pg_dsn: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    from tests.watch.incident import CONFIG_TOML, INCIDENT_SQL, install_guard_schema

    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(INCIDENT_SQL)
    install_guard_schema(pg_dsn)
    (tmp_path / "guard.toml").write_text(CONFIG_TOML)
    yield pg_dsn, tmp_path / "guard.toml"


def test_point4_detect_and_doctor_know_quarantined_bursts(incident_guard: tuple[str, Path]) -> None:
    """Was: after `guard quarantine --apply`, detect and doctor kept reporting the burst and exited 1."""
    from tests.watch.incident import BURST_ROWS, NORMAL_ROWS

    dsn, config = incident_guard
    common = ("--dsn", dsn, "--config", str(config))
    first = run("detect", *common, "--format", "json")
    assert first.exit_code == 1
    [burst] = json.loads(first.stdout)["tables"][0]["bursts"]
    assert (burst["status"], burst["remaining_rows"]) == ("open", BURST_ROWS)
    assert "detect: titan.jobs (1 of 1)" in first.stderr  # a progress line per table

    # partly quarantined: what remains is shown, and it still fails
    part = run("quarantine", *common, "--table", "titan.jobs", "--where", f"id <= {NORMAL_ROWS + 100}", "--apply")
    assert part.exit_code == 0, part.output
    partly = run("detect", *common, "--format", "json", "-q")
    [burst] = json.loads(partly.stdout)["tables"][0]["bursts"]
    assert (burst["status"], burst["quarantined_rows"], burst["remaining_rows"]) == (
        "partly_quarantined", 100, BURST_ROWS - 100,
    )  # fmt: skip
    assert partly.exit_code == 1 and partly.stderr == ""
    text = run("detect", *common, "-q")
    assert f"{BURST_ROWS - 100:,} of {BURST_ROWS:,} row(s) still outside quarantine" in text.stdout

    rest = run("quarantine", *common, "--table", "titan.jobs", "--burst", burst["id"], "--apply")
    assert rest.exit_code == 0, rest.output
    handled = run("detect", *common, "-q")
    assert handled.exit_code == 0, handled.output
    assert "1 handled (fully quarantined)" in handled.stdout and "all (handled)" in handled.stdout
    doctor = json.loads(run("doctor", *common, "--format", "json").stdout)
    assert doctor["sections"]["detect"]["exit_code"] == 0
    assert "1 handled" in doctor["sections"]["detect"]["summary"]

    # releasing a batch re-opens the burst
    batches = json.loads(run("release", "--dsn", dsn, "--list", "--format", "json").stdout)["batches"]
    run("release", "--dsn", dsn, "--batch", batches[-1]["batch_id"])
    assert run("detect", *common, "-q").exit_code == 1


def test_point7_protect_twice_is_a_mode_change_and_names_are_checked(titan: Path, pg_dsn: str) -> None:
    """Was: a second `guard protect` wrote another guard_table that failed at deploy time ("already guarded");
    `protect titan.nope --column made_up` wrote a migration anyway; `protect jobs` silently meant public.jobs."""
    first = run("protect", "--table", "titan.jobs", "--mode", "audit", cwd=titan)
    assert first.exit_code == 0, first.output
    second = run("protect", "--table", "titan.jobs", "--mode", "quarantine", cwd=titan)
    assert second.exit_code == 0, second.output
    assert "guarded in audit mode: writing a mode change to quarantine" in second.stdout
    [change] = [p for p in (titan / "guard_migrations").glob("*.py") if "quarantine" in p.read_text()]
    assert "op.guard_set_mode('titan.jobs', 'quarantine', from_mode='audit')" in change.read_text()
    same = run("protect", "--table", "titan.jobs", "--mode", "quarantine", cwd=titan)
    assert same.exit_code == 0 and "nothing to write" in same.stdout
    assert len(list((titan / "guard_migrations").glob("*.py"))) == 2
    wrong = run("protect", "--table", "titan.jobs", "--mode", "enforce", "--from-mode", "audit", cwd=titan)
    assert wrong.exit_code == 2 and "guarded in quarantine mode" in wrong.stderr

    # unknown names are refused by the project's catalog (the DDL under schema/) ...
    nope = run("protect", "--table", "titan.nope", cwd=titan)
    assert nope.exit_code == 2 and "not in the project's catalog" in nope.stderr
    made_up = run("protect", "--table", "titan.invoices", "--column", "made_up", cwd=titan)
    assert made_up.exit_code == 2 and "no column 'made_up'" in made_up.stderr
    # ... a bare name is resolved through search_path (titan, public) and printed
    bare = run("protect", "--table", "invoices", cwd=titan)
    assert bare.exit_code == 0, bare.output
    assert "table: invoices -> titan.invoices" in bare.stdout
    assert len(list((titan / "guard_migrations").glob("*.py"))) == 3

    # ... and by the database with --dsn, which also knows guards applied elsewhere
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute((titan / "schema" / "001_titan.sql").read_text())
    assert run("migrate", "--dsn", pg_dsn, "-q", cwd=titan).exit_code == 0
    shutil.rmtree(titan / "guard_migrations")  # the revisions live elsewhere; the database still knows
    known = run("protect", "--table", "estimates", "--dsn", pg_dsn, "--mode", "enforce", cwd=titan)
    assert known.exit_code == 0, known.output
    assert "estimates -> titan.estimates" in known.stdout and "guard_table" in _newest(titan).read_text()
    guarded = run("protect", "--table", "titan.jobs", "--dsn", pg_dsn, "--mode", "enforce", cwd=titan)
    assert "guarded in quarantine mode: writing a mode change to enforce" in guarded.stdout, guarded.output
    missing = run("protect", "--table", "titan.calls", "--dsn", pg_dsn, cwd=titan)
    assert missing.exit_code == 2 and "not found" in missing.stderr


def _newest(project: Path) -> Path:
    return max((project / "guard_migrations").glob("*.py"), key=lambda p: p.stat().st_mtime_ns)


def test_point8_migrate_sql_starts_from_the_database_and_progress_is_shown(titan: Path, pg_dsn: str) -> None:
    """Was: `migrate --sql --dsn` ignored the database and printed everything from guard_0001 on."""
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute((titan / "schema" / "001_titan.sql").read_text())
    everything = run("migrate", "--sql", cwd=titan)
    assert everything.exit_code == 0 and "CREATE TABLE guard.protected_tables" in everything.stdout
    assert run("protect", "--table", "titan.jobs", cwd=titan).exit_code == 0
    applied = run("migrate", "--dsn", pg_dsn, cwd=titan)
    assert applied.exit_code == 0, applied.output
    assert "Running upgrade" in applied.stderr
    sentinel = """titan.jobs: ALTER TABLE "titan"."jobs" ALTER COLUMN "created_at" SET DEFAULT '-infinity'"""
    assert sentinel in applied.stderr
    assert run("migrate", "--dsn", pg_dsn, "-q", cwd=titan).stderr == ""
    nothing = run("migrate", "--sql", "--dsn", pg_dsn, cwd=titan)
    assert nothing.exit_code == 0 and "nothing to apply" in nothing.stdout
    assert run("protect", "--table", "titan.jobs", "--mode", "enforce", cwd=titan).exit_code == 0
    pending = run("migrate", "--sql", "--dsn", pg_dsn, cwd=titan)
    assert pending.exit_code == 0, pending.output
    assert "UPDATE guard.protected_tables SET mode = 'enforce'" in pending.stdout
    assert 'LOCK TABLE "titan"."jobs" IN SHARE ROW EXCLUSIVE MODE;' in pending.stdout
    assert "CREATE TABLE guard.protected_tables" not in pending.stdout
    assert "ADD CONSTRAINT" not in pending.stdout  # the applied revision is not printed again
