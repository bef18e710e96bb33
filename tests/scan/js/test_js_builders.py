"""Query builders and ORMs in JS/TS: knex, Kysely, Drizzle, Prisma; and the catalogs they define."""

from __future__ import annotations

from pathlib import Path

from guard.model import HOLE_PREFIX
from guard.scan.frontends.javascript.prisma_schema import read_prisma_schema
from tests.scan.js.helpers import facts_in, shapes, writes_in

HOLE = f"{HOLE_PREFIX}0"

DRIZZLE_SCHEMA = """\
import { pgSchema, pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
export const titan = pgSchema('titan');
export const jobs = titan.table('jobs', {
  id: serial('id').primaryKey(),
  name: text('name'),
  createdAt: timestamp('created_at', { withTimezone: true }).defaultNow().notNull(),
});
export const events = pgTable('events', {
  id: serial().primaryKey(),
  createdAt: timestamp('created_at').default(sql`now()`),
  seenAt: timestamp('seen_at').$defaultFn(() => new Date()),
  note: text('note').default('none'),
});
"""

PRISMA_SCHEMA = """\
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
  schemas  = ["titan"]
}

/// one ServiceTitan job
model Job {
  id        Int      @id @default(autoincrement())
  name      String?  // free text
  createdAt DateTime @default(now()) @map("created_at") @db.Timestamptz(6)
  owner     User?    @relation(fields: [ownerId], references: [id])
  ownerId   Int?     @map("owner_id")
  tags      String[]

  @@map("jobs")
  @@schema("titan")
}

model User {
  id        Int      @id
  jobs      Job[]
  touchedAt DateTime @updatedAt @map("touched_at")
  @@schema("titan")
}

enum Status {
  OPEN
  DONE
}
"""


def test_knex_writes(tmp_path: Path) -> None:
    source = """\
const knex = require('knex')({ client: 'pg' });
async function load(rows, trx) {
  await knex('titan.jobs').insert(rows.map((r) => ({ job_id: r.id, name: r.name })));
  await knex.withSchema('titan').table('jobs').insert({ job_id: 1, created_at: new Date() });
  await knex.insert([{ job_id: 1 }, { job_id: 2, name: 'b' }]).into('titan.jobs');
  await trx('titan.jobs as j').insert(rows).onConflict('job_id').merge();
  await knex.batchInsert('titan.jobs', rows.map((r) => ({ job_id: r.id })), 500);
  await knex('titan.jobs').where({ job_id: 1 }).update({ name: 'x' });
}
"""
    found = writes_in(tmp_path, {"load.js": source})
    assert shapes(found) == [
        (3, "titan.jobs", ("job_id", "name")),
        (4, "titan.jobs", ("job_id", "created_at")),
        (5, "titan.jobs", ("job_id", "name")),
        (6, "titan.jobs", (HOLE,)),
        (7, "titan.jobs", ("job_id",)),
    ]
    assert found[3].kind == "upsert" and found[3].dynamic and found[3].parser == "builder"


def test_knex_migration_catalog(tmp_path: Path) -> None:
    source = """\
exports.up = async function (knex) {
  await knex.schema.withSchema('titan').createTable('runs', (t) => {
    t.increments('id');
    t.string('name').notNullable();
    t.timestamp('created_at').defaultTo(knex.fn.now());
    t.index(['name']);
  });
  await knex.schema.createTable('audit', function (table) {
    table.timestamps(true, true);
  });
  await knex.schema.alterTable('titan.runs', (t) => {
    t.timestamp('seen_at').defaultTo(knex.raw('CURRENT_TIMESTAMP'));
    t.dropColumn('name');
  });
};
"""
    facts = facts_in(tmp_path, {"migrations/20240101_init.js": source})
    summary = [(f.table, f.action, f.columns, dict(f.defaults)) for f in facts]
    assert summary == [
        ("titan.runs", "create", ("id", "name", "created_at"), {"created_at": "now()"}),
        (
            "audit",
            "create",
            ("created_at", "updated_at"),
            {"created_at": "CURRENT_TIMESTAMP", "updated_at": "CURRENT_TIMESTAMP"},
        ),
        ("titan.runs", "add_column", ("seen_at",), {"seen_at": "CURRENT_TIMESTAMP"}),
        ("titan.runs", "drop_column", ("name",), {}),
    ]


def test_kysely_writes(tmp_path: Path) -> None:
    source = """\
await db.insertInto('titan.jobs').values({ job_id: 1, name: 'a' }).execute();
await db.withSchema('titan').insertInto('jobs').values(rows)
  .onConflict((oc) => oc.column('job_id').doNothing()).execute();
await db.insertInto('titan.jobs').columns(['job_id', 'created_at'])
  .expression(db.selectFrom('staging').select(['id', 'ts'])).execute();
"""
    found = writes_in(tmp_path, {"a.ts": source})
    assert shapes(found) == [
        (1, "titan.jobs", ("job_id", "name")),
        (2, "titan.jobs", (HOLE,)),
        (4, "titan.jobs", ("job_id", "created_at")),
    ]
    assert found[1].on_conflict == "nothing" and found[2].kind == "insert-select"


def test_drizzle_tables_and_inserts_across_modules(tmp_path: Path) -> None:
    files = {
        "src/db/schema.ts": DRIZZLE_SCHEMA,
        "src/load.ts": """\
import { db } from './db/client';
import { jobs, events } from './db/schema.js';
import * as schema from './db/schema';
export async function load(rows: Row[]) {
  await db.insert(jobs).values(rows.map((r) => ({ id: r.id, name: r.name })));
  await db.insert(schema.jobs).values({ id: 1, name: 'x', createdAt: new Date(r.created) });
  await db.insert(events).values(rows).onConflictDoNothing();
  await db.insert(unknownTable).values({ id: 1 });
}
""",
    }
    found = [w for w in writes_in(tmp_path, files) if w.relpath == "src/load.ts"]
    assert shapes(found) == [
        (5, "titan.jobs", ("id", "name")),
        (6, "titan.jobs", ("id", "name", "created_at")),
        (7, "events", (HOLE,)),
        (8, None, (HOLE,)),
    ]
    assert found[0].entity == "drizzle:src/db/schema.ts#jobs" and found[0].parser == "orm"
    facts = {f.table: f for f in facts_in(tmp_path, files)}
    assert facts["titan.jobs"].columns == ("id", "name", "created_at")
    assert dict(facts["titan.jobs"].defaults) == {"created_at": "now()"}
    assert dict(facts["events"].defaults) == {"created_at": "now()", "seen_at": "now()", "note": "'none'"}
    assert dict(facts["events"].default_kinds) == {"created_at": "database", "seen_at": "orm", "note": "database"}
    assert dict(facts["titan.jobs"].attributes) == {"createdAt": "created_at"}


def test_prisma_schema_reader() -> None:
    schema = read_prisma_schema(PRISMA_SCHEMA, "prisma/schema.prisma")
    facts = {f.table: f for f in schema.facts()}
    job = facts["titan.jobs"]
    assert job.columns == ("id", "name", "created_at", "owner_id", "tags")
    assert dict(job.defaults) == {"created_at": "now()"}
    assert job.entity == "prisma:Job" and dict(job.attributes) == {"createdAt": "created_at", "ownerId": "owner_id"}
    user = facts["titan.User"]
    assert user.columns == ("id", "touched_at") and dict(user.default_kinds) == {"touched_at": "orm"}


def test_prisma_client_writes(tmp_path: Path) -> None:
    files = {
        "prisma/schema.prisma": PRISMA_SCHEMA,
        "src/etl.ts": """\
import { PrismaClient } from '@prisma/client';
const prisma = new PrismaClient();
export async function load(rows: any[]) {
  await prisma.job.createMany({ data: rows.map((r) => ({ id: r.id, name: r.name })), skipDuplicates: true });
  await prisma.job.create({ data: { id: 1, createdAt: new Date(r.createdOn) } });
  await prisma.job.upsert({ where: { id: 1 }, create: { id: 1, ownerId: 2 }, update: {} });
  await prisma.$transaction(async (tx) => { await tx.job.create({ data: payload }); });
  await prisma.job.findMany({ where: { id: 1 } });
  await other.thing.create({ data: { a: 1 } });
}
""",
    }
    found = writes_in(tmp_path, files)
    assert shapes(found) == [
        (4, "titan.jobs", ("id", "name")),
        (5, "titan.jobs", ("id", "created_at")),
        (6, "titan.jobs", ("id", "owner_id")),
        (7, "titan.jobs", (HOLE,)),
    ]
    assert found[0].on_conflict == "nothing" and found[2].kind == "upsert" and found[0].entity == "prisma:Job"


def test_prisma_without_schema_in_tree_names_the_model_table(tmp_path: Path) -> None:
    files = {"etl.js": "await this.prisma.jobRun.createMany({ data: [{ id: 1 }] });\n"}
    assert shapes(writes_in(tmp_path, files)) == [(1, "JobRun", ("id",))]


TYPEORM_ENTITY = """\
import { Entity, Column, PrimaryGeneratedColumn, CreateDateColumn, ManyToOne, JoinColumn } from 'typeorm';

@Entity({ name: 'jobs', schema: 'titan' })
export class Job {
  @PrimaryGeneratedColumn() id!: number;
  @Column('text', { name: 'customer_name', nullable: true }) customerName?: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'seen_at', default: () => 'CURRENT_TIMESTAMP' }) seenAt!: Date;
  @ManyToOne(() => User) @JoinColumn({ name: 'owner_id' }) owner!: User;
}

@Entity()
export class JobRun {
  @PrimaryGeneratedColumn() id!: number;
}
"""


def test_typeorm_entities(tmp_path: Path) -> None:
    facts = {f.table: f for f in facts_in(tmp_path, {"src/entity/Job.ts": TYPEORM_ENTITY})}
    job = facts["titan.jobs"]
    assert job.columns == ("id", "customer_name", "created_at", "seen_at", "owner_id")
    assert dict(job.defaults) == {"created_at": "now()", "seen_at": "CURRENT_TIMESTAMP"}
    assert job.entity == "typeorm:src/entity/Job.ts#Job"
    assert facts["job_run"].columns == ("id",)


def test_typeorm_writes(tmp_path: Path) -> None:
    files = {
        "src/entity/Job.ts": TYPEORM_ENTITY,
        "src/jobs.service.ts": """\
import { Repository, DataSource } from 'typeorm';
import { InjectRepository } from '@nestjs/typeorm';
import { Job } from './entity/Job';

export class JobsService {
  constructor(@InjectRepository(Job) private readonly jobs: Repository<Job>, private ds: DataSource) {}

  async load(rows: any[]) {
    await this.jobs.insert(rows.map((r) => ({ id: r.id, customerName: r.name })));
    await this.ds.getRepository(Job).save({ id: 1, createdAt: new Date(r.createdOn) });
    const repo = this.ds.getRepository(Job);
    await repo.save(repo.create({ id: 2 }));
    await this.ds.manager.insert(Job, { id: 3 });
    await this.ds.createQueryBuilder().insert().into(Job).values([{ id: 4 }]).execute();
    await this.jobs.save(entity);
  }
}
""",
    }
    found = [w for w in writes_in(tmp_path, files) if w.relpath == "src/jobs.service.ts"]
    assert shapes(found) == [
        (9, "titan.jobs", ("id", "customer_name")),
        (10, "titan.jobs", ("id", "created_at")),
        (12, "titan.jobs", ("id",)),
        (13, "titan.jobs", ("id",)),
        (14, "titan.jobs", ("id",)),
        (15, "titan.jobs", (HOLE,)),
    ]
    assert found[1].kind == "upsert" and found[0].entity == "typeorm:src/entity/Job.ts#Job"


def test_drizzle_shared_column_helpers_spreads_and_orm_defaults(tmp_path: Path) -> None:
    files = {
        "src/db/helpers.ts": """\
import { timestamp } from 'drizzle-orm/pg-core';
export const createdAt = timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
export const timestamps = () => ({ updatedAt: timestamp('updated_at').defaultNow() });
""",
        "src/db/schema.ts": """\
import { pgTable, text, bigint } from 'drizzle-orm/pg-core';
import { createdAt, timestamps } from './helpers';
export const users = pgTable('users', { name: text('name'), createdAt, ...timestamps() });
export const hits = pgTable('hits', { at: bigint({ mode: 'number' }).$defaultFn(() => Date.now()) });
""",
    }
    facts = {f.table: f for f in facts_in(tmp_path, files)}
    assert facts["users"].columns == ("updated_at", "name", "created_at")
    assert dict(facts["users"].defaults) == {"updated_at": "now()", "created_at": "now()"}
    assert dict(facts["hits"].default_kinds) == {"at": "orm"}


def test_knex_migration_helpers_in_the_module_and_imported(tmp_path: Path) -> None:
    files = {
        "db/utils.js": """\
exports.timestamps = function (knex, table) {
  table.timestamp('created_at').notNullable().defaultTo(knex.raw('CURRENT_TIMESTAMP'));
};
module.exports.more = { seen(t, knex) { t.timestamp('seen_at').defaultTo(knex.fn.now()); } };
""",
        "db/migrations/001_jobs.js": """\
const { timestamps, more } = require('../utils');
function addName(table) { table.string('name'); }
exports.up = (knex) => knex.schema.createTable('jobs', (table) => {
  table.increments('id');
  addName(table);
  timestamps(knex, table);
  more.seen(table, knex);
});
""",
    }
    [fact] = facts_in(tmp_path, files)
    assert fact.columns == ("id", "name", "created_at", "seen_at")
    assert dict(fact.defaults) == {"created_at": "CURRENT_TIMESTAMP", "seen_at": "now()"}


def test_pg_promise_insert_helper(tmp_path: Path) -> None:
    source = """\
const pgp = require('pg-promise')({ capSQL: true });
const cs = new pgp.helpers.ColumnSet(['?job_id', 'name', { name: 'payload', mod: ':json' }], { table: 'jobs' });
const full = new pgp.helpers.ColumnSet(['job_id', 'created_at'], {
  table: new pgp.helpers.TableName({ table: 'jobs', schema: 'titan' }),
});
async function load(db, rows) {
  await db.none(pgp.helpers.insert(rows, cs, { table: 'jobs', schema: 'titan' }));
  await db.none(pgp.helpers.insert(rows, full));
  await db.none(pgp.helpers.insert([{ job_id: 1, name: 'a' }], null, 'titan.jobs'));
  await db.none(pgp.helpers.insert(rows, columnsFromElsewhere));
}
"""
    found = writes_in(tmp_path, {"load.js": source})
    assert shapes(found) == [
        (7, "titan.jobs", ("job_id", "name", "payload")),
        (8, "titan.jobs", ("job_id", "created_at")),
        (9, "titan.jobs", ("job_id", "name")),
        (10, None, (HOLE,)),
    ]
