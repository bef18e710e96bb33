"""A non-editable install carries the SQL and the revisions, and `guard migrate` works from it."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import psycopg
import pytest

from .conftest import GUARD_HEAD

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_contains_the_schema_and_migrates(tmp_path: Path, pg_dsn: str) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            str(REPO_ROOT),
            "-w",
            str(wheels),
        ],
        check=True,
        capture_output=True,
    )
    [wheel] = wheels.glob("pg_schema_guard-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "guard/triggers/guard--1.0.sql" in names
    assert "guard/triggers/uninstall--1.0.sql" in names
    assert "guard/migrations/env.py" in names and "guard/migrations/script.py.mako" in names
    assert "guard/migrations/versions/guard_0001_install.py" in names
    assert "guard/docs/rules/GRD001.md" in names and "guard/docs/cli.md" in names
    # every revision and every versioned script of the checkout, upgrades and downgrades
    for folder, pattern in (("migrations/versions", "guard_*.py"), ("triggers", "*.sql")):
        for path in (REPO_ROOT / folder).glob(pattern):
            assert f"guard/{folder}/{path.name}" in names, path

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    venv_python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(venv_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv_python), "install", "--no-deps", "-q", str(wheel)],
        check=True,
        capture_output=True,
    )
    # Reuse this environment's dependencies (a plain path entry: its editable-install hook is not run).
    (Path(purelib) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {**os.environ, "GUARD_DSN": pg_dsn}
    where = subprocess.run(
        [str(venv_python), "-c", "import guard.triggers as t; print(t.__file__)"],
        check=True, capture_output=True, text=True, cwd=tmp_path, env=env,
    ).stdout  # fmt: skip
    assert where.startswith(purelib)
    result = subprocess.run(
        [str(venv / "bin" / "guard"), "migrate"], capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert result.returncode == 0, result.stderr
    assert f"database at revision {GUARD_HEAD}" in result.stdout
    # the docs the help text points at are in the wheel and readable from it
    rule = subprocess.run([str(venv / "bin" / "guard"), "rule", "GRD001"], capture_output=True, text=True, cwd=tmp_path)
    assert rule.returncode == 0 and rule.stdout.startswith("# GRD001"), rule.stderr
    module = subprocess.run(
        [str(venv_python), "-m", "guard", "docs", "database"], capture_output=True, text=True, cwd=tmp_path
    )
    assert module.returncode == 0 and "guard" in module.stdout, module.stderr
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("SELECT to_regclass('guard.quarantined_rows') IS NOT NULL").fetchone() == (True,)
    # the HTML report's templates travel as package data and load from the installed package
    assert "guard/report/templates/scan.html.j2" in names and "guard/report/templates/report.css" in names
    (tmp_path / "app.py").write_text('def f(cur):\n    cur.execute("INSERT INTO jobs (a) VALUES (1)")\n')
    html = subprocess.run(
        [str(venv / "bin" / "guard"), "scan", ".", "--format", "html", "-o", "report.html"],
        capture_output=True, text=True, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert html.returncode in (0, 1), html.stderr
    assert 'id="finding-count"' in (tmp_path / "report.html").read_text()
