"""JS/TS driver families, one module each; the extractor runs every module whose anchors the file contains.

Plain SQL strings (node-postgres and any other call) and tagged templates (postgres.js, slonik,
@vercel/postgres, Prisma raw) yield SQL text for the shared SQL parse stage; the builders and ORMs
(knex, Kysely, Drizzle, Prisma, TypeORM, pg-promise helpers) yield writes and schema facts directly.
"""

from __future__ import annotations

from types import ModuleType

from guard.scan.frontends.javascript.drivers import (
    drizzle,
    knex,
    kysely,
    pg_promise,
    plain_sql,
    prisma,
    tagged,
    typeorm,
)

DRIVERS: tuple[ModuleType, ...] = (plain_sql, tagged, knex, kysely, drizzle, prisma, typeorm, pg_promise)
