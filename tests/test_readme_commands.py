"""The README's commands run as written, against the bundled example and a real PostgreSQL (issue 12).

Convention (also stated in the README's "Command line" section): every fenced block holding a ``$ guard ...``
line carries a marker comment on the line before its fence:

- ``<!-- run: cwd=PATH -->``: the block's ``$ guard`` lines are executed, in document order, by bash in a
  scratch workspace (PATH relative to it: ``.`` holds ``examples/titan`` and ``tests/fixtures/orm_e2e``) with
  ``$DATABASE_URL`` and ``$DSN`` set to one database seeded from the example's schema plus the April 3
  phantom. A command passes when it exits 0 or 1 (1: findings, the documented "something to look at") and
  prints no traceback; exit 2 (usage, config, I/O or database error) fails the test.
- ``<!-- illustrative: REASON -->``: shown, not run (output of another machine's state, a placeholder ...).

A block with ``$ guard`` lines and neither marker fails the test: nothing the README shows goes unverified
silently. Lines that are not ``$ guard`` commands (``psql``, ``git``, output) are not executed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
MARKER = re.compile(r"^<!--\s*(run|illustrative)\s*:\s*(.*?)\s*-->$")
#: batch IDs are random: a documented one is replaced by the newest batch of this run
BATCH_ID = re.compile(r"\bq\d{8}-\d{6}-[0-9a-f]{6}\b")

SEED = """
INSERT INTO titan.jobs (st_id, customer_name, job_status, lead_source, invoice_total, scheduled_at, created_at)
SELECT g, 'customer ' || g, 'completed', (ARRAY['Google Ads', 'Referral', 'Yelp'])[1 + g % 3], (g % 50) * 10,
       ts - interval '3 hours', ts
  FROM generate_series(1, 1370) AS g,
       LATERAL (SELECT timestamptz '2026-01-01 00:00:00+00' + g * interval '111 minutes' AS ts) AS s;
INSERT INTO titan.jobs (st_id, customer_name, job_status, lead_source, invoice_total, scheduled_at, created_at)
SELECT 100000 + g, 'imported ' || g, 'completed', 'Imported Default Campaign', 567 + g % 100,
       timestamptz '2020-11-30 00:00:00+00' + ((g - 1) * 1949 / 10460) * interval '1 day',
       timestamptz '2026-04-03 04:07:12.345678+00'
  FROM generate_series(1, 10461) AS g;
ANALYZE titan.jobs;
"""


@dataclass
class Block:
    line: int
    kind: str  # "run" | "illustrative" | ""
    argument: str
    commands: list[str]


def readme_blocks(text: str) -> list[Block]:
    """Fenced blocks holding ``$ guard`` lines, with the marker before each (a line scan: Markdown fences)."""
    blocks: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if not lines[index].startswith("```"):
            index += 1
            continue
        start = index
        index += 1
        body = []
        while index < len(lines) and not lines[index].startswith("```"):
            body.append(lines[index])
            index += 1
        index += 1
        commands = [line[2:] for line in body if line.startswith("$ guard ")]
        if not commands:
            continue
        previous = next((lines[i].strip() for i in range(start - 1, -1, -1) if lines[i].strip()), "")
        match = MARKER.match(previous)
        kind, argument = (match.group(1), match.group(2)) if match else ("", "")
        blocks.append(Block(start + 1, kind, argument, commands))
    return blocks


def test_every_guard_block_is_marked() -> None:
    unmarked = [block.line for block in readme_blocks(README.read_text(encoding="utf-8")) if not block.kind]
    assert not unmarked, (
        f"README.md blocks with `$ guard` lines need <!-- run: ... --> or <!-- illustrative: ... -->: lines {unmarked}"
    )
    for block in readme_blocks(README.read_text(encoding="utf-8")):
        assert block.argument, f"README.md line {block.line}: the marker needs cwd=... or a reason"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "workspace"
    shutil.copytree(REPO / "examples" / "titan", root / "examples" / "titan")
    shutil.copytree(REPO / "tests" / "fixtures" / "orm_e2e", root / "tests" / "fixtures" / "orm_e2e")
    (root / ".git").mkdir()
    return root


@pytest.mark.slow
def test_readme_commands_run_as_written(workspace: Path, pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA staging")
        for script in sorted((workspace / "examples" / "titan" / "schema").glob("*.sql")):
            conn.execute(script.read_text(encoding="utf-8"))
        conn.execute(SEED)
    env = {
        **os.environ,
        "DATABASE_URL": pg_dsn,
        "DSN": pg_dsn,
        "GUARD_DSN": "",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "COLUMNS": "160",
    }
    ran = 0
    for block in readme_blocks(README.read_text(encoding="utf-8")):
        if block.kind != "run":
            continue
        cwd = workspace / dict(part.split("=", 1) for part in block.argument.split()).get("cwd", ".")
        for command in block.commands:
            command = BATCH_ID.sub(lambda _: _newest_batch(pg_dsn), command)
            result = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True)
            where = f"README.md line {block.line}: {command}"
            assert result.returncode in (0, 1), f"{where}\nexit {result.returncode}\n{result.stdout}\n{result.stderr}"
            assert "Traceback" not in result.stderr, f"{where}\n{result.stderr}"
            ran += 1
    assert ran >= 10


def _newest_batch(dsn: str) -> str:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT batch_id FROM guard.quarantined_rows ORDER BY quarantined_at DESC LIMIT 1"
        ).fetchone()
    return row[0] if row else "no-batch-yet"
