"""Shared fixtures. Database tests use a real PostgreSQL (see guard.testing), never a mock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from chromium_driver import browser  # noqa: F401 - the headless Chromium fixture for the HTML report tests

from guard.testing import NoPostgres, PostgresServer, start_postgres

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = REPO_ROOT / "examples"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One server per test session (per xdist worker): GUARD_TEST_DSN, testcontainers, or a local cluster."""
    try:
        server = start_postgres()
    except NoPostgres as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_dsn(postgres_server: PostgresServer) -> Iterator[str]:
    """DSN of a fresh, empty database (superuser) dropped after the test."""
    with postgres_server.fresh_database() as dsn:
        yield dsn
