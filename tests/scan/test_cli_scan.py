"""``guard scan`` as users run it: exit codes, formats, output files, config errors, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from guard.cli import cli

SCHEMA = (
    "CREATE SCHEMA titan;\n"
    "CREATE TABLE titan.jobs (id bigserial, st_id bigint, total numeric, created_at timestamptz DEFAULT now());\n"
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "schema.sql").write_text(SCHEMA)
    (tmp_path / "sync.py").write_text(
        "def push(cur, job):\n"
        '    cur.execute("INSERT INTO titan.jobs (st_id, total) VALUES (%s, %s)", (job["id"], job["total"]))\n'
    )
    (tmp_path / "guard.toml").write_text('[tables."titan.jobs"]\nseverity = "critical"\nwhy = "Revenue counts"\n')
    return tmp_path


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["scan", *args, "--no-progress"])
    return result.exit_code, result.stdout, result.stderr


def test_findings_exit_1_with_the_inventory(repo: Path) -> None:
    code, out, _ = _run(str(repo), "--format", "table")
    assert code == 1
    assert "CRITICAL" in out and "sync.py:2" in out and "titan.jobs" in out and "Revenue counts" in out
    assert "1 finding (1 critical) in 1 table" in out


def test_clean_repo_exits_0(repo: Path) -> None:
    (repo / "sync.py").write_text(
        'SQL = "INSERT INTO titan.jobs (st_id, total, created_at) VALUES (%s, %s, %s)"\n'
        "def push(cur, row):\n    cur.execute(SQL, row)\n"
    )
    code, out, _ = _run(str(repo), "--format", "table")
    assert code == 0 and "No writes leave the timestamp column to its default" in out


def test_fail_on_threshold(repo: Path) -> None:
    (repo / "guard.toml").write_text('[tables."titan.jobs"]\nseverity = "medium"\n')
    assert _run(str(repo))[0] == 0  # default fail_on: high
    assert _run(str(repo), "--fail-on", "medium")[0] == 1
    assert _run(str(repo), "--fail-on", "never")[0] == 0
    (repo / "guard.toml").write_text('fail_on = "low"\n[tables."titan.jobs"]\nseverity = "medium"\n')
    assert _run(str(repo))[0] == 1


@pytest.mark.parametrize("fmt", ["json", "sarif", "markdown", "table"])
def test_formats_to_stdout_and_file(repo: Path, tmp_path: Path, fmt: str) -> None:
    code, out, _ = _run(str(repo), "--format", fmt)
    assert code == 1
    if fmt == "json":
        assert json.loads(out)["findings"][0]["rule"] == "GRD001"
    elif fmt == "sarif":
        assert json.loads(out)["runs"][0]["results"][0]["ruleId"] == "GRD001"
    elif fmt == "markdown":
        assert out.startswith("# guard scan: blast radius")
    report = tmp_path / f"report.{fmt}"
    code, out, err = _run(str(repo), "--format", fmt, "--output", str(report))
    assert code == 1 and out == "" and "1 finding" in err
    assert "sync.py" in report.read_text()


def test_bad_config_names_key_and_file(repo: Path) -> None:
    (repo / "guard.toml").write_text('[tables."titan.jobs"]\nseverty = "critical"\n')
    code, _, err = _run(str(repo))
    assert code == 2
    assert "guard.toml" in err and 'tables."titan.jobs".severty' in err and "unknown key" in err
    (repo / "guard.toml").write_text('fail_on = "sometimes"\n')
    code, _, err = _run(str(repo))
    assert code == 2 and "fail_on" in err


def test_bad_glob_in_config_is_a_config_error(repo: Path) -> None:
    (repo / "guard.toml").write_text('exclude = ["legacy/[z-a]*.sql"]\n')
    code, _, err = _run(str(repo))
    assert code == 2 and "exclude: 'legacy/[z-a]*.sql' is not a valid glob" in err and "Traceback" not in err


def test_explicit_config_file(repo: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text('[tables."titan.jobs"]\nguarded = false\n')
    assert _run(str(repo), "--config", str(other))[0] == 0
    code, _, err = _run(str(repo), "--config", str(tmp_path / "missing.toml"))
    assert code == 2 and "missing.toml" in err


def test_nonexistent_path_and_unwritable_output(repo: Path) -> None:
    code, _, err = _run(str(repo / "nope"))
    assert code == 2 and "no such file or directory" in err
    code, _, err = _run(str(repo), "--output", str(repo / "missing-dir" / "out.json"), "--format", "json")
    assert code == 2 and "cannot write the report" in err


def test_missing_output_directory_is_refused_before_scanning(repo: Path) -> None:
    missing = repo / "no-dir"
    for option in (["--output", str(missing / "out.md")], ["--baseline", str(missing / "b.json"), "--write-baseline"]):
        code, out, err = _run(str(repo), *option)
        assert code == 2 and "no-dir is not a directory" in err and option[0] in err
        assert out == "" and not missing.exists()


def test_unparsable_files_are_diagnostics_and_exit_follows_findings(repo: Path) -> None:
    (repo / "broken.py").write_text("def f(:\n    q = 'INSERT INTO audit.log (msg) VALUES (1)'\n")
    (repo / "latin1.sql").write_bytes("-- caf\xe9\nSELECT 1;\n".encode("latin-1"))
    (repo / "garbage.sql").write_text("INSERT INTO titan.jobs (st_id VALUES ((;\n")
    (repo / "blob.py").write_bytes(b"\x00\x01INSERT INTO titan.jobs (a) VALUES (1)")
    code, out, _ = _run(str(repo), "--format", "json")
    document = json.loads(out)
    kinds = {(d["path"], d["kind"]) for d in document["diagnostics"]}
    assert ("broken.py", "parse-error") in kinds
    assert ("latin1.sql", "decode-error") in kinds
    assert ("blob.py", "skipped-binary") in kinds
    assert any(path == "garbage.sql" for path, _ in kinds)
    failing = [f["path"] for f in document["findings"] if f["severity"] in ("critical", "high")]
    assert code == 1 and failing == ["sync.py"]
    # the textual pass still reports the write in the file that does not parse, at low severity
    assert ("broken.py", "GRD003") in {(f["path"], f["rule"]) for f in document["findings"]}
    (repo / "sync.py").unlink()
    assert _run(str(repo), "--format", "json")[0] == 0


def test_single_file_argument(repo: Path) -> None:
    code, out, _ = _run(str(repo / "sync.py"), "--format", "json", "--fail-on", "low")
    document = json.loads(out)
    # no DDL next to a lone file (the schema is not part of the scan), but guard.toml lists the table
    assert code == 1 and document["findings"][0]["path"] == "sync.py"


def test_write_inventory_flag(repo: Path) -> None:
    code, out, _ = _run(str(repo), "--writes", "--format", "table")
    assert code == 1
    assert "Write inventory" in out and "insert" in out


def test_parallel_and_serial_agree(repo: Path) -> None:
    for i in range(30):
        (repo / f"mod{i}.py").write_text(f'SQL = "INSERT INTO titan.jobs (st_id) VALUES ({i})"\n')
    serial = json.loads(_run(str(repo), "--format", "json", "--jobs", "1")[1])
    parallel = json.loads(_run(str(repo), "--format", "json", "--jobs", "2")[1])
    for document in (serial, parallel):
        document["summary"].pop("seconds")
    assert serial == parallel and len(serial["findings"]) == 31


def test_console_script_runs(repo: Path) -> None:
    guard = Path(sys.executable).with_name("guard")
    proc = subprocess.run([str(guard), "scan", str(repo), "--format", "json"], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["summary"]["findings"] == 1


def test_batches_keep_packages_together_and_lose_nothing() -> None:
    from guard.model import SourceFile
    from guard.scan.engine import _batches

    files = [
        SourceFile(f"/r/{p}", p, "python", size) for p, size in [(f"pkg{i % 3}/m{i}.py", 100 * i) for i in range(60)]
    ]
    batches = _batches(files, 6)
    assert 1 < len(batches) <= 6
    flat = [f.relpath for batch in batches for f in batch]
    assert flat == sorted(f.relpath for f in files)  # contiguous runs in path order, nothing dropped
