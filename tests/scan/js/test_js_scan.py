"""The JS/TS front-end through `guard scan`: discovery, findings, suppressions, skipped build output."""

from __future__ import annotations

from pathlib import Path

from guard.config import Config
from guard.scan.engine import scan
from tests.scan.js.helpers import write_tree

SCHEMA = "CREATE TABLE titan.jobs (id bigint, name text, created_at timestamptz NOT NULL DEFAULT now());\n"


def _rules(root: Path) -> list[tuple[str, str, int]]:
    result = scan(root, Config(), jobs=1)
    return [(f.rule, f.relpath, f.line) for f in result.findings]


def test_node_writer_is_reported_and_suppressed(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "schema.sql": SCHEMA,
            "src/load.ts": """\
await db.query('INSERT INTO titan.jobs (id, name) VALUES ($1, $2)', [1, 'a']);
await db.query('INSERT INTO titan.jobs (id, created_at) VALUES ($1, $2)', [1, at]);
// guard: ignore[GRD001] rows are created now, there is no source time
await db.query('INSERT INTO titan.jobs (id) VALUES ($1)', [2]);
""",
            "node_modules/pg/lib/client.js": "db.query('INSERT INTO titan.jobs (id) VALUES ($1)');\n",
            "dist/app.js": "db.query('INSERT INTO titan.jobs (id) VALUES ($1)');\n",
        },
    )
    assert _rules(tmp_path) == [("GRD001", "src/load.ts", 1)]


def test_prisma_and_drizzle_without_created_at(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "prisma/schema.prisma": (
                'model Job {\n  id Int @id\n  createdAt DateTime @default(now()) @map("created_at")\n'
                '  @@map("jobs")\n  @@schema("titan")\n}\n'
            ),
            "src/etl.ts": """\
export async function load(rows: any[]) {
  await prisma.job.createMany({ data: rows.map((r) => ({ id: r.id })) });
  await prisma.job.createMany({ data: rows.map((r) => ({ id: r.id, createdAt: r.createdOn })) });
}
""",
        },
    )
    assert _rules(tmp_path) == [("GRD001", "src/etl.ts", 2)]


def test_titan_example_reports_the_node_writer() -> None:
    root = Path(__file__).resolve().parents[3] / "examples" / "titan"
    found = [(rule, path) for rule, path, _line in _rules(root) if path.startswith("ingestor/")]
    assert found == [("GRD001", "ingestor/src/ingestors/jobs.js")]


def test_orm_filled_default_is_named_in_the_finding(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "src/schema.ts": (
                "import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';\n"
                "export const jobs = pgTable('jobs', {\n  name: text('name'),\n"
                "  createdAt: timestamp('created_at').$defaultFn(() => new Date()),\n});\n"
            ),
            "src/load.ts": "import { jobs } from './schema';\nawait db.insert(jobs).values({ name: 'a' });\n",
        },
    )
    [found] = scan(tmp_path, Config(), jobs=1).findings
    assert found.rule == "GRD001" and found.relpath == "src/load.ts"
    assert "jobs.createdAt (column created_at)" in found.message
    assert "the ORM fills it with its client-side default" in found.message
