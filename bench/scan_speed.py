"""Benchmark ``guard scan`` on a large tree and on a generated 250k-line repository.

1. The running interpreter's standard library and site-packages (well over 1M lines), scanned with the real
   CLI (``guard scan ROOT --format json``), next to ``grep -rIil 'insert into' ROOT`` timed in the same run.
2. A generated repository of ~250k lines of Python with ~200 SQL writes in the styles guard reads (literals,
   constants, f-strings, ``.format``, ``text()``, ``psycopg.sql``, ``.sql`` files with functions), scanned
   with the CLI; target: about one second on two cores.
3. A generated ~100k-line JavaScript/TypeScript tree (node-postgres, templates, postgres.js, knex, Drizzle,
   Prisma), timed next to the Python figure of the same run; and the Python tree scanned in-process with and
   without the JS/TS front-ends registered, to show a tree without JS/TS files does not pay for them.
4. ORM writes: the same generated repository (no ORM code) scanned in-process with the ORM drivers
   (SQLAlchemy ORM/Core, Django, pandas) unregistered and registered, interleaved in one run, best of 3 each
   (the ratio must stay within 10%); and an ORM-heavy generated repository (declarative models with mixins,
   Django models, ``session.add``/``add_all``, Core ``insert().values()``, ``objects.create``) with its figure.

5. Before/after (``--before PYTHON``, the interpreter of another install, e.g. a venv of 0.1): on trees without ORM
   code (the interpreter's lib dir: stdlib plus its site-packages, and the generated repository of 2.) both
   installs' CLIs run interleaved (``--rounds`` each, after one warm-up run of each), and the medians of wall and CPU
   seconds (over all processes) and their ratios after/before are printed with the load average; then the
   ORM-heavy generated repository's figure (CLI, this install). Only this section runs when ``--before`` is given.

With ``--baseline-tree DIR`` (a directory holding another version's ``guard/`` package, e.g. from
``git archive <commit> guard | tar -x -C DIR``), every measurement is repeated with that version in the same run,
interleaved with the current one, and the ratios current/baseline (wall and CPU) are printed; both versions must
report the same writes and findings (a difference is printed: a regression for a pure refactoring, expected when
the versions differ in features).

Usage: ``python bench/scan_speed.py [ROOT ...] [--jobs N] [--synthetic-lines 250000] [--baseline-tree DIR]``;
``python bench/scan_speed.py --before ../base/.venv/bin/python --rounds 3 [ROOT ...]`` (section 5 only).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path


def guard_command() -> list[str]:
    """The installed console script next to this interpreter, else the entry point through ``-c``."""
    script = Path(sys.executable).with_name("guard")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from guard.cli import main; main()"]


GUARD = guard_command()


def child_environment() -> dict[str, str]:
    """The environment for timed CLI runs: bytecode caching allowed, so an editable install (a work tree) is timed
    like an installed one, whose modules are compiled once; with ``PYTHONDONTWRITEBYTECODE`` set every run would
    recompile the package and the larger version would pay more for it."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def guard_of(python: str) -> list[str]:
    """The console script next to another install's interpreter, else its entry point through ``-c``."""
    script = Path(python).with_name("guard")
    return [str(script)] if script.is_file() else [python, "-c", "from guard.cli import main; main()"]


def default_roots() -> list[Path]:
    paths = sysconfig.get_paths()
    roots = [Path(paths["stdlib"]), Path(paths["purelib"])]
    return [r for i, r in enumerate(roots) if r.is_dir() and r not in roots[:i]]


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def count_lines(root: Path) -> tuple[int, int]:
    """(files, lines) of the files guard reads under ``root``."""
    from guard.scan.discover import discover

    found = discover(root)
    lines = 0
    for source in found.files:
        with open(source.path, "rb") as handle:
            lines += handle.read().count(b"\n")
    return len(found.files), lines


def children_cpu() -> float:
    """CPU seconds used by finished child processes (and the workers they reaped)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def baseline_command(tree: Path) -> list[str]:
    """The CLI of the ``guard`` package under ``tree``, run by this interpreter (same dependencies)."""
    code = f"import sys; sys.path.insert(0, {str(tree)!r}); from guard.cli import main; main()"
    return [sys.executable, "-c", code]


def time_guard(root: Path, jobs: int | None, guard: list[str] = GUARD) -> tuple[float, float, dict]:
    """(wall seconds, CPU seconds across all processes, JSON report) of one CLI run."""
    command = [*guard, "scan", str(root), "--format", "json", "--fail-on", "never", "--no-progress"]
    if jobs:
        command += ["--jobs", str(jobs)]
    cpu_before = children_cpu()
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, check=False, env=child_environment())
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"guard scan failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed, children_cpu() - cpu_before, json.loads(proc.stdout)


def time_grep(root: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["grep", "-rIil", "insert into", str(root)], capture_output=True, check=False)
    return time.perf_counter() - started


Timings = list[float]


def interleaved(
    root: Path, jobs: int | None, baseline: Path | None, runs: int
) -> tuple[tuple[float, float, dict], tuple[float, float, dict] | None, Timings, Timings, Timings, Timings]:
    """Best (by wall time) of ``runs`` CLI runs of this version and, alternating with it, of the baseline."""
    current: list[tuple[float, float, dict]] = []
    base: list[tuple[float, float, dict]] = []
    for _ in range(runs):
        if baseline is not None:
            base.append(time_guard(root, jobs, baseline_command(baseline)))
        current.append(time_guard(root, jobs))
    best = min(current, key=lambda run: run[0])
    best_base = min(base, key=lambda run: run[0]) if base else None
    if best_base is not None and _inventory(best_base[2]) != _inventory(best[2]):
        base_writes, base_findings = (len(part) for part in _inventory(best_base[2]))
        print(
            f"  NOTE {root}: the versions report different results (baseline {base_writes} writes, "
            f"{base_findings} findings; this version {len(best[2]['writes'])} writes, {len(best[2]['findings'])} "
            "findings): expected only when they differ in features, a regression for a pure refactoring"
        )
    return best, best_base, [r[0] for r in current], [r[0] for r in base], [r[1] for r in current], [r[1] for r in base]


def _inventory(document: dict) -> tuple[object, ...]:
    writes = sorted((w["path"], w["line"], w["kind"], w["table"] or "") for w in document["writes"])
    findings = sorted((f["rule"], f["path"], f["line"]) for f in document["findings"])
    return tuple(writes), tuple(findings)


def compare_line(label: str, runs: list[float], base_runs: list[float], cpu: list[float], base_cpu: list[float]) -> str:
    """Wall and CPU of both versions; CPU (summed over the processes) is the steadier figure on a shared machine."""
    if not base_runs:
        return ""

    def listed(values: list[float]) -> str:
        return ", ".join(f"{v:.2f}" for v in values)

    return (
        f"\n  {label} (best of {len(runs)} interleaved runs): "
        f"wall {min(runs):.2f} s vs baseline {min(base_runs):.2f} s, ratio {min(runs) / min(base_runs):.2f}x; "
        f"CPU {min(cpu):.2f} s vs baseline {min(base_cpu):.2f} s, ratio {min(cpu) / min(base_cpu):.2f}x\n"
        f"    wall this: {listed(runs)}; baseline: {listed(base_runs)}; "
        f"CPU this: {listed(cpu)}; baseline: {listed(base_cpu)}"
    )


def bench_tree(roots: list[Path], jobs: int | None, baseline: Path | None = None, runs: int = 1) -> None:
    print("== large tree: guard scan vs grep -rIil 'insert into'")
    total = {"files": 0, "lines": 0, "guard": 0.0, "cpu": 0.0, "grep": 0.0, "writes": 0, "findings": 0}
    total.update({"base": 0.0, "base_cpu": 0.0, "best_cpu": 0.0})
    for root in roots:
        files, lines = count_lines(root)
        grep_seconds = time_grep(root)
        (guard_seconds, guard_cpu, document), base_run, times, base_times, cpus, base_cpus = interleaved(
            root, jobs, baseline, runs
        )
        if base_run is not None:
            total["base"] += min(base_times)
            total["base_cpu"] += min(base_cpus)
            total["best_cpu"] += min(cpus)
        total["files"] += files
        total["lines"] += lines
        total["guard"] += guard_seconds
        total["cpu"] += guard_cpu
        total["grep"] += grep_seconds
        total["writes"] += len(document["writes"])
        total["findings"] += len(document["findings"])
        print(
            f"{root}: {files} files, {lines:,} lines; guard {guard_seconds:.2f} s wall, {guard_cpu:.2f} s CPU "
            f"({lines / guard_seconds:,.0f} lines/s, {len(document['writes'])} writes, "
            f"{document['summary']['files_with_sql']} files with SQL); grep {grep_seconds:.2f} s"
            + compare_line("vs baseline", times, base_times, cpus, base_cpus)
        )
    print(
        f"TOTAL: {total['files']} files, {total['lines']:,} lines, {total['writes']} writes, "
        f"{total['findings']} findings\n"
        f"  guard scan: {total['guard']:.2f} s wall ({total['lines'] / total['guard']:,.0f} lines/s), "
        f"{total['cpu']:.2f} s CPU over all processes\n"
        f"  grep -rIil 'insert into': {total['grep']:.2f} s wall\n"
        f"  ratio guard/grep: {total['guard'] / total['grep']:.1f}x"
        + (
            f"\n  ratio this version / baseline: wall {total['guard'] / total['base']:.2f}x, "
            f"CPU {total['best_cpu'] / total['base_cpu']:.2f}x"
            if total["base"]
            else ""
        )
    )


# ---------------------------------------------------------------------------------------------------------
# the synthetic repository

SCHEMA = """CREATE SCHEMA app;
CREATE TABLE app.orders (id bigserial PRIMARY KEY, customer_id bigint, total numeric,
                         placed_at timestamptz, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE app.events (id bigserial, kind text, payload jsonb, created_at timestamptz DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE app.notes (id bigserial, body text);
"""

WRITERS = [
    'cur.execute("INSERT INTO app.orders (customer_id, total) VALUES (%s, %s)", (c, t))',
    'cur.execute("INSERT INTO app.orders (customer_id, total, created_at) VALUES (%s, %s, %s)", (c, t, at))',
    "cur.execute(ORDER_SQL, (c, t))",
    'cur.execute(f"INSERT INTO app.events (kind, payload) VALUES (%s, {payload!r})", (k,))',
    'cur.execute("INSERT INTO app.notes (body) VALUES ({})".format(body))',
    'session.execute(text("INSERT INTO app.events (kind) VALUES (:kind)"), {"kind": k})',
    'cur.execute(sql.SQL("INSERT INTO {} (kind) VALUES (%s)").format(sql.Identifier(table)), (k,))',
    'cur.executemany("INSERT INTO app.orders VALUES (%s, %s, %s)", rows)',
    'cur.copy_expert("COPY app.orders (customer_id, total) FROM STDIN WITH CSV", fh)',
]

FILLER = '''

class Handler{n}:
    """Request handler {n}: validates input and computes totals."""

    def __init__(self, config):
        self.config = config
        self.cache = {{}}

    def validate(self, payload):
        if not isinstance(payload, dict):
            raise ValueError("payload must be a mapping, got %r" % (payload,))
        missing = [key for key in ("id", "total") if key not in payload]
        if missing:
            raise KeyError(", ".join(missing))
        return payload

    def total(self, items):
        subtotal = sum(item["price"] * item["qty"] for item in items)
        tax = round(subtotal * self.config.get("tax", 0.2), 2)
        return subtotal + tax

    def describe(self, order):
        return f"order {{order['id']}} for {{order.get('customer', 'unknown')}}: {{self.total(order['items'])}}"
'''


def padded(parts: list[str], filler: str, file_lines: int) -> str:
    """The module's parts followed by numbered copies of ordinary code until it has ``file_lines`` lines."""
    n = 0
    while sum(p.count("\n") for p in parts) < file_lines:
        parts.append(filler.format(n=n))
        n += 1
    return "".join(parts)


def generate_repo(root: Path, lines: int, writes: int) -> tuple[int, int]:
    """Python modules of ordinary code plus ``writes`` SQL writes spread over them; returns (files, lines)."""
    rng = random.Random(7)
    (root / "db").mkdir(parents=True)
    (root / "db" / "schema.sql").write_text(SCHEMA)
    routines = [
        f"CREATE FUNCTION app.f{i}() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n"
        f"    INSERT INTO app.orders (customer_id) VALUES ({i});\nEND\n$$;\n"
        for i in range(writes // 10)
    ]
    (root / "db" / "routines.sql").write_text("\n".join(routines))
    file_lines = 250
    count = max(1, lines // file_lines)
    per_file = [0] * count
    for _ in range(writes - len(routines)):
        per_file[rng.randrange(count)] += 1
    written = SCHEMA.count("\n") + sum(r.count("\n") + 1 for r in routines)
    for index in range(count):
        package = root / "service" / f"pkg{index // 50}"
        package.mkdir(parents=True, exist_ok=True)
        parts = ['"""Generated module."""\n\nfrom psycopg import sql\nfrom sqlalchemy import text\n\n']
        bodies = [WRITERS[rng.randrange(len(WRITERS))] for _ in range(per_file[index])]
        if any("ORDER_SQL" in body for body in bodies):  # the constant is where that write is written
            parts.append('ORDER_SQL = "INSERT INTO app.orders (customer_id, total) VALUES (%s, %s)"\n')
        for w, body in enumerate(bodies):
            parts.append(f"\n\ndef write_{w}(cur, session, c, t, at, k, payload, body, table, rows, fh):\n    {body}\n")
        text = padded(parts, FILLER, file_lines)
        (package / f"module_{index}.py").write_text(text)
        written += text.count("\n")
    return count + 2, written


JS_SCHEMA = """datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model Order {
  id         Int      @id @default(autoincrement())
  customerId Int      @map("customer_id")
  total      Decimal
  createdAt  DateTime @default(now()) @map("created_at")
  @@map("orders")
  @@schema("app")
}
"""

JS_TABLES = """import { pgSchema, serial, text, timestamp } from 'drizzle-orm/pg-core';
export const app = pgSchema('app');
export const events = app.table('events', {
  id: serial('id').primaryKey(),
  kind: text('kind'),
  createdAt: timestamp('created_at').defaultNow(),
});
"""

JS_WRITERS = [
    "await client.query('INSERT INTO app.orders (customer_id, total) VALUES ($1, $2)', [o.customer, o.total]);",
    "await client.query(ORDER_SQL, [o.customer, o.total]);",
    "await pool.query({ text: `INSERT INTO app.orders (customer_id, total, created_at) VALUES ($1, $2, $3)`, "
    "values: [o.customer, o.total, o.at] });",
    "await sql`insert into app.events ${sql(rows, 'kind', 'payload')}`;",
    "await knex('app.notes').insert(rows.map((r) => ({ body: r.body })));",
    "await db.insert(events).values({ kind: o.kind });",
    "await prisma.order.createMany({ data: rows.map((r) => ({ customerId: r.c, total: r.t })) });",
]

JS_FILLER = """
export class Handler{n} {{
  constructor(config) {{
    this.config = config;
    this.cache = new Map();
  }}

  validate(payload) {{
    if (typeof payload !== 'object' || payload === null) {{
      throw new TypeError(`payload must be an object, got ${{typeof payload}}`);
    }}
    const missing = ['id', 'total'].filter((key) => !(key in payload));
    if (missing.length) throw new Error(missing.join(', '));
    return payload;
  }}

  total(items) {{
    const subtotal = items.reduce((sum, item) => sum + item.price * item.qty, 0);
    return subtotal + Math.round(subtotal * (this.config.tax ?? 0.2) * 100) / 100;
  }}

  describe(order) {{
    return `order ${{order.id}} for ${{order.customer ?? 'unknown'}}: ${{this.total(order.items)}}`;
  }}
}}
"""


def generate_js_repo(root: Path, lines: int, writes: int) -> tuple[int, int]:
    """JS/TS modules of ordinary code plus ``writes`` writes in the JS styles guard reads; (files, lines)."""
    rng = random.Random(11)
    (root / "db").mkdir(parents=True)
    (root / "db" / "schema.sql").write_text(SCHEMA)
    (root / "prisma").mkdir()
    (root / "prisma" / "schema.prisma").write_text(JS_SCHEMA)
    (root / "src").mkdir()
    (root / "src" / "tables.ts").write_text(JS_TABLES)
    file_lines = 250
    count = max(1, lines // file_lines)
    per_file = [0] * count
    for _ in range(writes):
        per_file[rng.randrange(count)] += 1
    written = SCHEMA.count("\n") + JS_SCHEMA.count("\n") + JS_TABLES.count("\n")
    suffixes = (".ts", ".js", ".tsx", ".mjs")
    for index in range(count):
        package = root / "src" / f"pkg{index // 50}"
        package.mkdir(parents=True, exist_ok=True)
        parts = ["import { events } from '../tables';\n\n"]
        bodies = [JS_WRITERS[rng.randrange(len(JS_WRITERS))] for _ in range(per_file[index])]
        if any("ORDER_SQL" in body for body in bodies):
            parts.append("const ORDER_SQL = 'INSERT INTO app.orders (customer_id, total) VALUES ($1, $2)';\n")
        for w, body in enumerate(bodies):
            parts.append(
                f"\nexport async function write{w}(client, pool, sql, knex, db, prisma, o, rows) {{\n  {body}\n}}\n"
            )
        text = padded(parts, JS_FILLER, file_lines)
        (package / f"module_{index}{suffixes[index % len(suffixes)]}").write_text(text)
        written += text.count("\n")
    return count + 3, written


def bench_javascript(lines: int, writes: int, jobs: int | None) -> float:
    """Time the generated JS/TS tree with the CLI (best of 3); returns the best wall time."""
    print(f"== generated JS/TS repository: ~{lines:,} lines, ~{writes} writes")
    with tempfile.TemporaryDirectory(prefix="guard-bench-js-") as tmp:
        root = Path(tmp)
        files, total_lines = generate_js_repo(root, lines, writes)
        runs = [time_guard(root, jobs) for _ in range(3)]
        best, best_cpu, document = min(runs, key=lambda run: run[0])
        print(
            f"{files} files, {total_lines:,} lines: {len(document['writes'])} writes found, "
            f"{len(document['findings'])} findings\n"
            f"  guard scan (CLI, best of 3, incl. interpreter start): {best:.2f} s "
            f"({total_lines / best:,.0f} lines/s), {best_cpu:.2f} s CPU; runs: {', '.join(f'{r[0]:.2f}' for r in runs)}"
        )
        return best


def bench_no_js_cost(lines: int, writes: int, jobs: int | None) -> None:
    """The Python tree scanned in-process with the JS/TS front-ends registered and unregistered, interleaved."""
    from guard.config import Config
    from guard.scan.engine import scan
    from guard.scan.frontends import FRONTENDS
    from guard.scan.frontends.javascript import FRONTEND, PRISMA_FRONTEND

    print("== tree without JS/TS files: engine in-process, JS/TS front-ends registered vs not (best of 3 each)")
    with tempfile.TemporaryDirectory(prefix="guard-bench-nojs-") as tmp:
        root = Path(tmp)
        generate_repo(root, lines, writes)
        timings: dict[str, list[float]] = {"with": [], "without": []}
        for _ in range(3):
            for variant in ("without", "with"):
                if variant == "without":
                    FRONTENDS.unregister(FRONTEND.name)
                    FRONTENDS.unregister(PRISMA_FRONTEND.name)
                else:
                    FRONTENDS.register(FRONTEND)
                    FRONTENDS.register(PRISMA_FRONTEND)
                started = time.perf_counter()
                scan(root, Config(), jobs=jobs)
                timings[variant].append(time.perf_counter() - started)
        before, after = min(timings["without"]), min(timings["with"])
        loaded = "tree_sitter" in sys.modules
        print(
            f"  without JS/TS front-ends (before): {before:.2f} s; with them (after): {after:.2f} s; "
            f"ratio {after / before:.2f}x; tree-sitter imported: {loaded}"
        )


def bench_synthetic(lines: int, writes: int, jobs: int | None, baseline: Path | None = None) -> float:
    print(f"== generated repository: ~{lines:,} lines, ~{writes} SQL writes")
    with tempfile.TemporaryDirectory(prefix="guard-bench-") as tmp:
        root = Path(tmp)
        files, total_lines = generate_repo(root, lines, writes)
        grep_seconds = time_grep(root)
        (best, best_cpu, document), _, times, base_times, cpus, base_cpus = interleaved(root, jobs, baseline, 3)
        from guard.config import Config
        from guard.scan.engine import scan

        started = time.perf_counter()
        scan(root, Config(), jobs=jobs)
        in_process = time.perf_counter() - started
        print(
            f"{files} files, {total_lines:,} lines: {len(document['writes'])} writes found, "
            f"{len(document['findings'])} findings\n"
            f"  guard scan (CLI, best of 3, incl. interpreter start): {best:.2f} s "
            f"({total_lines / best:,.0f} lines/s), {best_cpu:.2f} s CPU over all processes; "
            f"runs: {', '.join(f'{r:.2f}' for r in times)}"
            + compare_line("vs baseline (CLI)", times, base_times, cpus, base_cpus)
            + "\n"
            f"  engine in-process: {in_process:.2f} s\n"
            f"  grep -rIil 'insert into': {grep_seconds:.3f} s; ratio guard/grep {best / grep_seconds:.1f}x\n"
            f"  cores available: {available_cores()}, "
            f"load average now: {os.getloadavg()[0]:.1f} (wall times inflate when other work shares the cores)"
        )
        return best


ORM_MODELS = '''"""Generated models."""
from datetime import datetime

from sqlalchemy import Column, DateTime, Integer, MetaData, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = MetaData(schema="app")


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
'''
ORM_MODEL = '''

class Model{n}(TimestampMixin, Base):
    __tablename__ = "model_{n}"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    created = Column("stamped_at", DateTime, default=datetime.utcnow)
'''
DJANGO_MODEL = '''

class Record{n}(models.Model):
    name = models.CharField(max_length=80)
    created_at = models.DateTimeField(default=timezone.now)
'''
ORM_WRITERS = [
    "session.add(Model{m}(name=p['name']))",
    "session.add(Model{m}(name=p['name'], created_at=p['at']))",
    "session.add_all([Model{m}(name=x['name']) for x in p['items']])",
    "session.execute(insert(Model{m}).values(name=p['name']))",
    "session.execute(insert(Model{m}), [{{'name': x['name']}} for x in p['items']])",
    "Record{m}.objects.create(name=p['name'])",
    "job = session.get(Model{m}, p['id'])\n    job.name = 'x'\n    session.add(job)",
]


def generate_orm_repo(root: Path, lines: int, writes: int, models: int = 60) -> tuple[int, int]:
    """Models (SQLAlchemy with a mixin, Django) and writer modules of ordinary code with ORM writes."""
    rng = random.Random(11)
    app = root / "app"
    app.mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text(ORM_MODELS + "".join(ORM_MODEL.format(n=n) for n in range(models)))
    shop = root / "shop"
    shop.mkdir()
    (shop / "__init__.py").write_text("")
    django_header = "from django.db import models\nfrom django.utils import timezone\n"
    (shop / "models.py").write_text(django_header + "".join(DJANGO_MODEL.format(n=n) for n in range(models)))
    file_lines = 250
    count = max(1, lines // file_lines)
    per_file = [0] * count
    for _ in range(writes):
        per_file[rng.randrange(count)] += 1
    written = 0
    for index in range(count):
        package = root / "service" / f"pkg{index // 50}"
        package.mkdir(parents=True, exist_ok=True)
        parts = [
            '"""Generated module."""\n\nfrom sqlalchemy import insert\n\n'
            f"from app.models import {', '.join(f'Model{m}' for m in range(models))}\n"
            f"from shop.models import {', '.join(f'Record{m}' for m in range(models))}\n"
        ]
        for w in range(per_file[index]):
            body = ORM_WRITERS[rng.randrange(len(ORM_WRITERS))].format(m=rng.randrange(models))
            parts.append(f"\n\ndef write_{w}(session, p):\n    {body}\n")
        n = 0
        while sum(p.count("\n") for p in parts) < file_lines:
            parts.append(FILLER.format(n=n))
            n += 1
        text = "".join(parts)
        (package / f"module_{index}.py").write_text(text)
        written += text.count("\n")
    return count + 4, written


def _in_process(root: Path, jobs: int | None) -> tuple[float, int, int, float]:
    """(wall seconds, writes, findings, CPU seconds of this process) of one in-process scan."""
    from guard.config import Config
    from guard.scan.engine import scan

    started, cpu = time.perf_counter(), time.process_time()
    result = scan(root, Config(), jobs=jobs)
    return time.perf_counter() - started, len(result.writes), len(result.findings), time.process_time() - cpu


def bench_orm(lines: int, writes: int, jobs: int | None) -> None:
    from guard.scan.frontends.python.drivers import DRIVERS

    orm_drivers = DRIVERS.row_writers()
    print(f"== ORM drivers on a generated repository without ORM code (~{lines:,} lines, ~{writes} SQL writes)")
    with tempfile.TemporaryDirectory(prefix="guard-bench-") as tmp:
        root = Path(tmp)
        generate_repo(root, lines, writes)
        without, with_orm = [], []
        for _ in range(5):  # interleaved, so load from other processes hits both alike
            for driver in orm_drivers:
                DRIVERS.unregister(driver.name)
            without.append(_in_process(root, 1))  # one process: its CPU time is the whole cost, load or not
            for driver in orm_drivers:
                DRIVERS.register(driver)
            with_orm.append(_in_process(root, 1))
        before, after = min(r[0] for r in without), min(r[0] for r in with_orm)
        cpu_before, cpu_after = min(r[3] for r in without), min(r[3] for r in with_orm)
        print(
            f"  without ORM drivers: best {before:.2f} s wall, {cpu_before:.2f} s CPU ({without[0][1]} writes); "
            f"with: best {after:.2f} s wall, {cpu_after:.2f} s CPU ({with_orm[0][1]} writes)\n"
            f"  ratio with/without: wall {after / before:.3f}, CPU {cpu_after / cpu_before:.3f} "
            f"(wall runs without: {', '.join(f'{r[0]:.2f}' for r in without)}; with: "
            f"{', '.join(f'{r[0]:.2f}' for r in with_orm)})"
        )
    print(f"== ORM-heavy generated repository (~{lines:,} lines, ~{writes * 5} ORM writes)")
    with tempfile.TemporaryDirectory(prefix="guard-bench-orm-") as tmp:
        root = Path(tmp)
        files, total_lines = generate_orm_repo(root, lines, writes * 5)
        runs = [_in_process(root, jobs) for _ in range(3)]
        best = min(r[0] for r in runs)
        print(
            f"  {files} files, {total_lines:,} lines: {runs[0][1]} writes, {runs[0][2]} findings; "
            f"best {best:.2f} s ({total_lines / best:,.0f} lines/s); runs: {', '.join(f'{r[0]:.2f}' for r in runs)}"
        )


def before_after(name: str, root: Path, before: list[str], rounds: int, jobs: int | None) -> tuple[float, float]:
    """Both installs' CLIs on ``root``, interleaved; prints medians and ratios; returns (wall, CPU) after/before."""
    time_guard(root, jobs, before)  # warm-up: page cache, and each install's bytecode cache
    time_guard(root, jobs)
    runs: dict[str, list[tuple[float, float, dict]]] = {"before": [], "after": []}
    for _ in range(rounds):
        runs["before"].append(time_guard(root, jobs, before))
        runs["after"].append(time_guard(root, jobs))
    wall = {k: statistics.median(r[0] for r in v) for k, v in runs.items()}
    cpu = {k: statistics.median(r[1] for r in v) for k, v in runs.items()}
    print(f"== {name}")
    for key in ("before", "after"):
        document = runs[key][0][2]
        print(
            f"  {key:6}: median {wall[key]:.2f} s wall, {cpu[key]:.2f} s CPU; "
            f"wall runs {', '.join(f'{r[0]:.2f}' for r in runs[key])}; "
            f"CPU runs {', '.join(f'{r[1]:.2f}' for r in runs[key])}; "
            f"{len(document['writes'])} writes, {len(document['findings'])} findings"
        )
    ratios = wall["after"] / wall["before"], cpu["after"] / cpu["before"]
    print(
        f"  after/before: {ratios[0]:.2f}x wall, {ratios[1]:.2f}x CPU "
        f"(medians of {rounds} interleaved runs; load average {os.getloadavg()[0]:.1f} on {available_cores()} cores)"
    )
    return ratios


def bench_before_after(
    roots: list[Path], before_python: str, rounds: int, jobs: int | None, lines: int, writes: int
) -> None:
    """Section 5: this install against another on trees without ORM code, then the ORM-heavy tree's figure."""
    before = guard_of(before_python)
    print(f"before: {' '.join(before)}\nafter:  {' '.join(GUARD)}")
    for root in roots:
        files, total = count_lines(root)
        before_after(f"{root} (no ORM code): {files:,} files, {total:,} lines", root, before, rounds, jobs)
    with tempfile.TemporaryDirectory(prefix="guard-bench-") as tmp:
        files, total = generate_repo(Path(tmp), lines, writes)
        before_after(f"generated repository without ORM code: {files:,} files, {total:,} lines", Path(tmp), before,
                     rounds, jobs)
    with tempfile.TemporaryDirectory(prefix="guard-bench-orm-") as tmp:
        files, total = generate_orm_repo(Path(tmp), lines, writes * 5)
        time_guard(Path(tmp), jobs)
        runs = [time_guard(Path(tmp), jobs) for _ in range(rounds)]
        wall, cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
        document = runs[0][2]
        print(
            f"== ORM-heavy generated repository (SQLAlchemy ORM/Core and Django writers, models in their own modules): "
            f"{files:,} files, {total:,} lines\n"
            f"  after: median {wall:.2f} s wall, {cpu:.2f} s CPU ({total / wall:,.0f} lines/s); "
            f"{len(document['writes'])} writes, {len(document['findings'])} findings; "
            f"load average {os.getloadavg()[0]:.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("roots", nargs="*", type=Path, help="trees to scan (default: stdlib + site-packages)")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per core)")
    parser.add_argument("--synthetic-lines", type=int, default=250_000)
    parser.add_argument("--synthetic-writes", type=int, default=200)
    parser.add_argument("--js-lines", type=int, default=100_000)
    parser.add_argument("--skip-tree", action="store_true", help="only run the generated-repository benchmarks")
    parser.add_argument("--baseline-tree", type=Path, help="a directory holding another version's guard/ to compare")
    parser.add_argument("--tree-runs", type=int, default=1, help="runs per large tree (best counts)")
    parser.add_argument("--orm-only", action="store_true", help="only run the ORM benchmarks (4.)")
    parser.add_argument("--before", metavar="PYTHON", help="another install's interpreter: run section 5 only")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs per install in section 5")
    args = parser.parse_args()
    if args.before:
        roots = args.roots or [Path(sysconfig.get_paths()["stdlib"])]
        bench_before_after(roots, args.before, args.rounds, args.jobs, args.synthetic_lines, args.synthetic_writes)
        return
    baseline = args.baseline_tree.resolve() if args.baseline_tree else None
    if baseline is not None and not (baseline / "guard" / "cli.py").is_file():
        parser.error(f"--baseline-tree {baseline}: no guard/cli.py there")
    if not args.orm_only:
        if not args.skip_tree:
            bench_tree(args.roots or default_roots(), args.jobs, baseline, args.tree_runs)
        python_best = bench_synthetic(args.synthetic_lines, args.synthetic_writes, args.jobs, baseline)
        js_best = bench_javascript(args.js_lines, args.synthetic_writes, args.jobs)
        print(
            f"== side by side (one run): Python {args.synthetic_lines:,} lines {python_best:.2f} s "
            f"({args.synthetic_lines / python_best:,.0f} lines/s); JS/TS {args.js_lines:,} lines {js_best:.2f} s "
            f"({args.js_lines / js_best:,.0f} lines/s)"
        )
        bench_no_js_cost(args.synthetic_lines, args.synthetic_writes, args.jobs)
    bench_orm(args.synthetic_lines, args.synthetic_writes, args.jobs)


if __name__ == "__main__":
    main()
