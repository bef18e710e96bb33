"""Kill-test: SIGKILL `guard migrate` at random points during install and during protect, with a writer running.

After every kill a plain `guard migrate` must succeed, the table must end guarded and validated, and every row
the writer committed must be there exactly once. Kill points are drawn uniformly over the database phase of a
calibration run (from the moment `guard migrate` connects to its exit), so they land inside install, protect
and VALIDATE rather than in Python's start-up. The seed is printed in every failure message to replay a run.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from guard.cli import cli
from guard.db import migrate
from guard.testing import PostgresServer

from .conftest import JOBS_DDL

GUARD = [sys.executable, "-c", "from guard.cli import main; main()"]
INSTALL_RUNS = 10
PROTECT_RUNS = 10
FAILED_VALIDATE_RUNS = 4


class Writer:
    """Inserts rows with an explicit created_at, one per autocommit statement; remembers what committed."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.committed: list[int] = []
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Writer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def _run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            key = 10_000_000
            while not self._stop.is_set():
                try:
                    conn.execute(
                        "INSERT INTO titan.jobs (id, created_at, scheduled_at) VALUES (%s, now(), current_date)",
                        (key,),
                    )
                    self.committed.append(key)
                except psycopg.Error as exc:
                    self.errors.append(exc)
                key += 1
                time.sleep(0.002)


def start_migrate(dsn: str, project: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*GUARD, "migrate", "--dsn", dsn, "--lock-timeout", "1s", "--lock-tries", "20"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


#: where a kill is aimed: any moment of the database phase, or just after a step started (its statement
#: shows in pg_stat_activity). The step that VALIDATEs is where older guards left the database stuck.
AIMS = {
    "anywhere": "%",
    "install script": "%CREATE TABLE guard.protected_tables%",
    # migrations render the protect step's DDL since issue 12 (guard.db.ddl); its first statement checks the column
    "protect": "%guard.require_column%",
    "validate": "%VALIDATE%",
}


def wait_for(dsn: str, proc: subprocess.Popen[str], pattern: str) -> bool:
    """Until the child runs a statement matching ``pattern`` (False if it exited first)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        while proc.poll() is None:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'guard migrate'"
                " AND (%s = '%%' OR (state = 'active' AND query ILIKE %s))",
                (pattern, pattern),
            ).fetchone()
            if row and row[0]:
                return True
            time.sleep(0.002)
    return False


#: historical rows: enough that VALIDATE's scan is a real part of the run (the window older guards left open)
HISTORY = 100_000


def prepare(dsn: str, installed: bool, bad_row: bool) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(JOBS_DDL)
        conn.execute(
            "INSERT INTO titan.jobs (id, created_at, scheduled_at)"
            " SELECT g, timestamptz '2020-01-01' + g * interval '1 minute', date '2020-01-01' + g %% 900"
            " FROM generate_series(1, %s) AS g",
            (HISTORY,),
        )
        if bad_row:
            conn.execute("INSERT INTO titan.jobs (id, created_at, scheduled_at) VALUES (-1, '-infinity', '2021-01-01')")
        conn.execute("VACUUM ANALYZE titan.jobs")
    if installed:
        migrate.upgrade(dsn, "guard_0001")


@contextlib.contextmanager
def copy_of(server: PostgresServer, template: str) -> Iterator[str]:
    """A new database cloned from ``template`` (a file copy: much faster than loading the rows again)."""
    name = f"guard_kill_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
    try:
        yield server.dsn_for(name)
    finally:
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextlib.contextmanager
def templates(server: PostgresServer) -> Iterator[dict[tuple[bool, bool], str]]:
    """One prepared database per (installed, bad_row) combination, dropped at the end."""
    names = {}
    try:
        for installed, bad_row in ((False, False), (True, False), (True, True)):
            name = f"guard_kill_tpl_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(server.dsn, autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            names[installed, bad_row] = name
            prepare(server.dsn_for(name), installed, bad_row)
        yield names
    finally:
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            for name in names.values():
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def check_guarded(dsn: str, writer: Writer, context: str) -> None:
    assert writer.errors == [], f"{context}: the writer failed: {writer.errors[:3]}"
    with psycopg.connect(dsn) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM titan.jobs WHERE id >= 10000000 ORDER BY id")]
        historical = conn.execute("SELECT count(*) FROM titan.jobs WHERE id BETWEEN 1 AND %s", (HISTORY,)).fetchone()
        guarded = conn.execute(
            "SELECT count(*) FROM guard.protected_tables p JOIN pg_constraint c"
            " ON c.conname = 'jobs_created_at_must_be_explicit' AND c.convalidated"
        ).fetchone()
    assert ids == writer.committed, f"{context}: rows lost or duplicated"
    assert historical == (HISTORY,), context
    assert guarded == (1,), f"{context}: not guarded and validated"


@pytest.mark.slow
def test_sigkill_at_random_points_then_a_plain_rerun_finishes(
    postgres_server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "guard.toml").write_text('[tables."titan.jobs"]\nbusiness_column = "scheduled_at"\n')
    assert CliRunner().invoke(cli, ["protect", "titan.jobs", "--mode", "quarantine"]).exit_code == 0
    seed = int(os.environ.get("GUARD_KILL_SEED", time.time_ns() % 1_000_000))

    with templates(postgres_server) as prepared:
        kill_runs(postgres_server, prepared, tmp_path, seed)


def kill_runs(server: PostgresServer, prepared: dict[tuple[bool, bool], str], project: Path, seed: int) -> None:
    rng = random.Random(seed)
    # Calibration: how long the database phase of a full install + protect takes on this machine.
    with copy_of(server, prepared[False, False]) as dsn:
        proc = start_migrate(dsn, project)
        wait_for(dsn, proc, AIMS["anywhere"])
        started = time.monotonic()
        _out, err = proc.communicate(timeout=120)
        phase = time.monotonic() - started
        assert proc.returncode == 0, err

    plan = (
        [("install", False, False)] * INSTALL_RUNS
        + [("protect", True, False)] * PROTECT_RUNS
        + [("failed VALIDATE", True, True)] * FAILED_VALIDATE_RUNS
    )
    outcomes: dict[str, int] = {"killed": 0, "finished before the kill": 0}
    for number, (kind, installed, bad_row) in enumerate(plan):
        aims = [aim for aim in AIMS if not (installed and aim == "install script")]
        aim = aims[number % len(aims)]
        delay = rng.uniform(0, phase * 1.1) if aim == "anywhere" else rng.uniform(0, 0.03)
        context = f"run {number} ({kind}, kill {delay:.3f}s after {aim} of a {phase:.3f}s phase, seed {seed})"
        with copy_of(server, prepared[installed, bad_row]) as dsn:
            with Writer(dsn) as writer:
                time.sleep(0.05)
                proc = start_migrate(dsn, project)
                wait_for(dsn, proc, AIMS[aim])
                time.sleep(delay)
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    outcomes["killed"] += 1
                else:
                    outcomes["finished before the kill"] += 1
                proc.communicate(timeout=60)
                rerun = CliRunner().invoke(cli, ["migrate", "--dsn", dsn, "--lock-timeout", "1s", "--lock-tries", "20"])
                if bad_row:
                    assert rerun.exit_code == 2, f"{context}: {rerun.output}"
                    assert "hold '-infinity' in created_at" in rerun.output, context
                    with psycopg.connect(dsn, autocommit=True) as conn:
                        conn.execute("DELETE FROM titan.jobs WHERE id = -1")
                    rerun = CliRunner().invoke(cli, ["migrate", "--dsn", dsn])
                assert rerun.exit_code == 0, f"{context}: {rerun.output}"
                time.sleep(0.05)
            check_guarded(dsn, writer, context)
    assert outcomes["killed"] >= len(plan) // 2, f"too few runs were killed mid-way: {outcomes} (seed {seed})"
