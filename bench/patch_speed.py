"""How fast ``guard patch`` plans a big blast radius (issue 4: >= 200 sites/s on two cores).

Generates a tree of ~1,000 write sites in mixed styles (tuples, dicts, constants shared by two calls,
comprehension rows, execute_values, COPY write_row, asyncpg arguments, SQLAlchemy text(), sql.SQL,
f-strings, .sql INSERT ... SELECT) across ~200 files, then measures in the same run:

* baseline: ``guard scan`` alone on the tree (what any patch run must pay first);
* the patch planner alone on the scan's findings (libcst + span edits, parallel across files);
* the whole dry run (scan + plan + diff rendering), which is what a user waits for.

Usage: ``python bench/patch_speed.py [--files 200] [--jobs N]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from guard.codemods.patchers import PATCHERS
from guard.config import load_config
from guard.patch.diff import unified_diff
from guard.patch.planner import SiteSelection, plan, sites_from_scan
from guard.scan.engine import scan

TABLES = 10
T = TypeVar("T")

STYLES = [
    """def save_{n}(cur, job):
    cur.execute(
        "INSERT INTO bench.t{t} (st_id, name, total) VALUES (%s, %s, %s)",
        (job["id"], job["name"], job.get("total", 0)),
    )
""",
    """def sync_{n}(conn, job):
    conn.execute(
        "INSERT INTO bench.t{t} (st_id, name) VALUES (%(st_id)s, %(name)s) ON CONFLICT (st_id) DO NOTHING",
        {{"st_id": job["id"], "name": job["name"]}},
    )
""",
    '''INSERT_{n} = """
    INSERT INTO bench.t{t} (st_id, name)
    VALUES (%s, %s)
"""


def one_{n}(cur, job):
    cur.execute(INSERT_{n}, (job["id"], job["name"]))


def many_{n}(cur, jobs):
    cur.executemany(INSERT_{n}, [(j["id"], j["name"]) for j in jobs])
''',
    """async def voice_{n}(conn, call):
    await conn.execute("INSERT INTO bench.t{t} (st_id, name) VALUES ($1, $2)", call["id"], call["name"])
""",
    """def gclid_{n}(cur, captures):
    execute_values(cur, "INSERT INTO bench.t{t} (st_id, name) VALUES %s", [(c["id"], c["name"]) for c in captures])
""",
    """def sms_{n}(cur, messages):
    with cur.copy("COPY bench.t{t} (st_id, name) FROM STDIN") as copy:
        for m in messages:
            copy.write_row((m["id"], m["name"]))
""",
    """BOOK_{n} = text("INSERT INTO bench.t{t} (st_id, name) VALUES (:st_id, :name)")


def book_{n}(connection, b):
    connection.execute(BOOK_{n}, {{"st_id": b["id"], "name": b["name"]}})
""",
    """def calls_{n}(cur, calls):
    query = sql.SQL("INSERT INTO {{}} (st_id, name) VALUES (%s, %s)").format(sql.Identifier("bench", "t{t}"))
    for c in calls:
        cur.execute(query, (c["id"], c["name"]))
""",
    """def est_{n}(cur, estimates):
    statement = f"INSERT INTO bench.t{t} (st_id, name) VALUES (%s, %s) -- {{__name__}}"
    for e in estimates:
        cur.execute(statement, (e["id"], e["name"]))
""",
]
HEADER = "from psycopg import sql\nfrom psycopg2.extras import execute_values\nfrom sqlalchemy import text\n\n\n"
SITES_PER_FILE = 5


def generate(root: Path, files: int) -> None:
    """``files`` Python files of SITES_PER_FILE sites each, plus the schema and config that make them GRD001."""
    (root / "schema").mkdir(parents=True)
    ddl = ["CREATE SCHEMA bench;"]
    for t in range(TABLES):
        ddl.append(
            f"CREATE TABLE bench.t{t} (st_id bigint PRIMARY KEY, name text, total numeric, "
            "created_at timestamptz NOT NULL DEFAULT now());"
        )
    (root / "schema" / "001.sql").write_text("\n".join(ddl) + "\n")
    config = ['search_path = ["bench"]']
    config += [f'[tables."bench.t{t}"]\nsource_field = "createdOn"' for t in range(TABLES)]
    (root / "guard.toml").write_text("\n".join(config) + "\n")
    (root / "app").mkdir()
    n = 0
    for f in range(files):
        chunks = []
        for k in range(SITES_PER_FILE):
            style = STYLES[(f + k) % len(STYLES)]
            chunks.append(style.format(n=n, t=n % TABLES))
            n += 1
        (root / "app" / f"m{f:04d}.py").write_text(HEADER + "\n\n".join(chunks))


def _cpu_seconds() -> float:
    """CPU time of this process and its finished workers: unlike wall time, not inflated by a busy machine."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def timed(label: str, func: Callable[[], T]) -> tuple[T, float, float]:
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    value = func()
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
    print(f"{label:<36} wall {seconds:6.2f} s   cpu {cpu:6.2f} s")
    return value, seconds, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per core)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="guard-patch-bench-") as tmp:
        root = Path(tmp)
        generate(root, args.files)
        config = load_config(root)
        result, scan_s, scan_cpu = timed("baseline: guard scan", lambda: scan(root, config, jobs=args.jobs))
        sites, unfixable = sites_from_scan(result, config, SiteSelection())
        patches, plan_s, plan_cpu = timed(
            "patch planner (libcst + edits)", lambda: plan(root, sites, PATCHERS, jobs=args.jobs)
        )

        def dry_run() -> int:
            again = scan(root, config, jobs=args.jobs)
            todo, _ = sites_from_scan(again, config, SiteSelection())
            planned = plan(root, todo, PATCHERS, jobs=args.jobs)
            return sum(len(unified_diff(p.relpath, p.original, p.patched)) for p in planned)

        diff_chars, total_s, total_cpu = timed("whole dry run (scan + plan + diff)", dry_run)
    results = [r for p in patches for r in p.results]
    fixed = sum(r.fixed for r in results)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0]
    n = len(sites)
    print(
        f"sites: {n} fixable findings in {len(patches)} files, {fixed} fixed, "
        f"{len(unfixable) + sum(r.unfixable for r in results)} unfixable; diff {diff_chars:,} chars"
    )
    print(f"cores: {cores}, load average at the end: {load:.1f} (other processes slow every wall time)")
    print(f"planner:        {n / plan_s:7.0f} sites/s wall   {n / plan_cpu:7.0f} sites per cpu-second")
    print(
        f"whole dry run:  {n / total_s:7.0f} sites/s wall   {n / total_cpu:7.0f} sites per cpu-second  (target 200/s)"
    )
    print(
        f"baseline scan:  {n / scan_s:7.0f} sites/s wall   {n / scan_cpu:7.0f} sites per cpu-second"
        f"  -> the dry run costs {total_s / scan_s:.1f}x the scan's wall time, {total_cpu / scan_cpu:.1f}x its cpu"
    )


if __name__ == "__main__":
    main()
