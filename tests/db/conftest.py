"""Fixtures for database-guard tests: a database with guard installed and a titan.jobs like the incident's."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from guard.db import migrate

#: the newest revision of guard's own lineage (schema 1.3 at the time of writing)
[GUARD_HEAD] = migrate.guard_heads()

JOBS_DDL = """
CREATE SCHEMA titan;
CREATE TABLE titan.jobs (
    id bigint PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    scheduled_at date NOT NULL,
    amount numeric
);
"""


class Session:
    """A connection that records the WARNINGs the server sends, per statement."""

    def __init__(self, dsn: str) -> None:
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.warnings: list[str] = []
        self.conn.add_notice_handler(self._notice)

    def _notice(self, diag: psycopg.errors.Diagnostic) -> None:
        if diag.severity_nonlocalized == "WARNING":
            self.warnings.append(diag.message_primary or "")

    def scalar(self, query: str, params: tuple[object, ...] | None = None) -> Any:
        row = self.conn.execute(query, params).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def guard_dsn(pg_dsn: str) -> str:
    """A fresh database with the guard schema installed through the real migration."""
    migrate.upgrade(pg_dsn)
    return pg_dsn


@pytest.fixture
def jobs_dsn(guard_dsn: str) -> str:
    """guard installed plus an unguarded titan.jobs holding one historical row (id 1)."""
    with psycopg.connect(guard_dsn, autocommit=True) as conn:
        conn.execute(JOBS_DDL)
        conn.execute("INSERT INTO titan.jobs VALUES (1, '2021-05-01 10:00+00', '2021-05-03', 100)")
    return guard_dsn


@pytest.fixture
def session(jobs_dsn: str) -> Iterator[Session]:
    s = Session(jobs_dsn)
    yield s
    s.close()


def protect(session: Session, mode: str, business_column: str | None = "scheduled_at") -> None:
    session.conn.execute("SELECT guard.protect_table('titan.jobs', 'created_at', %s, %s)", (mode, business_column))


@pytest.fixture
def make_role(guard_dsn: str) -> Iterator[object]:
    """Create LOGIN roles with unique names (roles are cluster-wide) and drop them afterwards."""
    created: list[str] = []

    def make(*memberships: str) -> str:
        name = f"guard_t_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(guard_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name)))
            for group in memberships:
                conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), sql.Identifier(name)))
        created.append(name)
        return name

    yield make
    with psycopg.connect(guard_dsn, autocommit=True) as conn:
        for name in created:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))
