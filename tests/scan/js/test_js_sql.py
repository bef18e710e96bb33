"""Plain SQL and tagged templates in JS/TS: node-postgres, postgres.js, slonik, @vercel/postgres, Prisma raw."""

from __future__ import annotations

from pathlib import Path

from guard.model import HOLE_PREFIX
from guard.scan.frontends.javascript.extract import extract_javascript
from tests.scan.js.helpers import extract_tree, shapes, writes_in

HOLE = f"{HOLE_PREFIX}0"


def test_node_postgres_literal_template_concat_and_query_config(tmp_path: Path) -> None:
    source = """\
const { Pool } = require('pg');
const pool = new Pool();
const TABLE = 'titan.jobs';
const INSERT_JOB = `INSERT INTO ${TABLE} (job_id, name) VALUES ($1, $2)`;
export async function load(client, rows) {
  await client.query(INSERT_JOB, [1, 'x']);
  await pool.query({ text: 'INSERT INTO titan.jobs (job_id, created_at) VALUES ($1, $2)', values: [1, 2] });
  await client.query('INSERT INTO titan.jobs (job_id) ' + "VALUES ($1)", [1]);
  const q = ['INSERT INTO titan.jobs (job_id, name)', 'VALUES ($1, $2)'].join('\\n');
  await client.query('SELECT * FROM titan.jobs WHERE job_id = $1', [1]);
}
"""
    found = writes_in(tmp_path, {"load.js": source})
    assert shapes(found) == [
        (4, "titan.jobs", ("job_id", "name")),
        (7, "titan.jobs", ("job_id", "created_at")),
        (8, "titan.jobs", ("job_id",)),
        (9, "titan.jobs", ("job_id", "name")),
    ]
    # positions point at the SQL text as written: the template literal's first character
    assert (found[0].line, found[0].column) == (4, 21)


def test_constants_imported_from_another_module(tmp_path: Path) -> None:
    files = {
        "src/queries.ts": (
            "export const JOBS = 'titan.jobs';\nexport const BASE = 'INSERT INTO titan.jobs (job_id, name) ';\n"
        ),
        "src/load.ts": """\
import { JOBS, BASE } from './queries';
import * as q from './queries';
await db.query(`INSERT INTO ${JOBS} (job_id) VALUES ($1)`, [1]);
await db.query(BASE + 'VALUES ($1, $2)', [1, 2]);
await db.query(`INSERT INTO ${q.JOBS} (name) VALUES ($1)`, [1]);
""",
    }
    found = writes_in(tmp_path, files)
    load = [w for w in found if w.relpath == "src/load.ts"]
    assert shapes(load) == [
        (3, "titan.jobs", ("job_id",)),
        (4, "titan.jobs", ("job_id", "name")),
        (5, "titan.jobs", ("name",)),
    ]
    # the composed statement is located in load.ts, where it is built, not in queries.ts
    assert all(w.line <= 5 for w in load)


def test_unknown_template_part_is_a_hole(tmp_path: Path) -> None:
    found = writes_in(tmp_path, {"a.js": "db.query(`INSERT INTO ${table} (a) VALUES ($1)`, [1]);\n"})
    assert len(found) == 1 and found[0].table is not None and HOLE_PREFIX in found[0].table
    assert found[0].dynamic


def test_postgres_js_helpers_and_tagged_templates(tmp_path: Path) -> None:
    source = """\
import postgres from 'postgres';
const sql = postgres();
export async function load(rows, unknownRows, row) {
  await sql`insert into titan.jobs ${sql(rows, 'job_id', 'name')}`;
  await sql`insert into titan.jobs ${sql(rows.map((r) => ({ job_id: r.id, created_at: r.createdOn })))}`;
  await sql`insert into titan.jobs ${sql(unknownRows)}`;
  await sql`insert into ${sql('titan.jobs')} (job_id) values (${row.id})`;
  await sql`update titan.jobs set ${sql(row, 'name')} where job_id = ${row.id}`;
  await prisma.$executeRaw`INSERT INTO titan.jobs (job_id) VALUES (${1})`;
  await sql.begin(async (tx) => tx`insert into titan.jobs ${tx({ job_id: 1, name: 'n' })}`);
}
"""
    found = writes_in(tmp_path, {"load.mjs": source})
    assert shapes(found) == [
        (4, "titan.jobs", ("job_id", "name")),
        (5, "titan.jobs", ("job_id", "created_at")),
        (6, "titan.jobs", (HOLE,)),
        (7, "titan.jobs", ("job_id",)),
        (9, "titan.jobs", ("job_id",)),
        (10, "titan.jobs", ("job_id", "name")),
    ]
    assert found[2].dynamic  # unknown row shape: reported for review, not dropped


def test_slonik_vercel_and_string_raw(tmp_path: Path) -> None:
    source = """\
import { sql } from 'slonik';
await pool.query(sql.type(Job)`INSERT INTO ${sql.identifier(['titan', 'jobs'])} (job_id) VALUES (${1})`);
await sql`INSERT INTO titan.jobs (job_id, created_at) VALUES (${id}, ${at})`;
await db.query(String.raw`INSERT INTO titan.jobs (name) VALUES ('a\\b')`);
const TABLE = 'jobs';
await db.query(sql<Job>`INSERT INTO ${sql.identifier(['titan', TABLE])} (job_id) VALUES (${id})`);
"""
    found = writes_in(tmp_path, {"a.ts": source})
    assert shapes(found) == [
        (2, "titan.jobs", ("job_id",)),
        (3, "titan.jobs", ("job_id", "created_at")),
        (4, "titan.jobs", ("name",)),
        (6, "titan.jobs", ("job_id",)),
    ]


def test_negatives_jsx_text_selects_and_prose(tmp_path: Path) -> None:
    source = """\
export function Help() {
  const tip = 'Select a job to view';
  return (
    <div title="insert into the form">
      <p>insert into jobs the values you need</p>
      {"create table of contents"}
    </div>
  );
}
type Mode = 'insert into x' | 'other';
await db.query('SELECT id FROM titan.jobs WHERE created_at > now()');
"""
    extraction = extract_tree(tmp_path, {"Help.tsx": source})["Help.tsx"]
    # only the SELECT is read as SQL (it mentions created_at); it writes nothing
    assert [c.text for c in extraction.candidates] == ["SELECT id FROM titan.jobs WHERE created_at > now()"]
    assert writes_in(tmp_path, {"Help.tsx": source}) == []


def test_minified_bundle_is_skipped_with_a_diagnostic() -> None:
    line = "var a=" + "1+" * 3000 + "1;db.query('INSERT INTO t (a) VALUES (1)');"
    extraction = extract_javascript(line.encode(), "public/app.min.js")
    assert extraction.candidates == []
    assert [d.kind for d in extraction.diagnostics] == ["skipped-minified"]


def test_syntax_error_reported_and_rest_scanned() -> None:
    source = b"const x = {;\nawait db.query('INSERT INTO titan.jobs (a) VALUES ($1)', [1]);\n"
    extraction = extract_javascript(source, "broken.js")
    assert [d.kind for d in extraction.diagnostics] == ["parse-error"]
    assert len(extraction.candidates) == 1


def test_escapes_and_non_ascii_positions(tmp_path: Path) -> None:
    source = "const n = 'ünïcode'; db.query('INSERT INTO titan.jobs\\n (name) VALUES ($1)', [n]);\n"
    found = writes_in(tmp_path, {"a.js": source})
    assert shapes(found) == [(1, "titan.jobs", ("name",))]
    assert found[0].column == 32
