"""Fixtures for the recover/watch tests (see incident.py for the seeded data)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from .incident import CONFIG_TOML, INCIDENT_SQL, Guard, install_guard_schema


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "guard.toml"
    path.write_text(CONFIG_TOML)
    return path


@pytest.fixture
def incident(pg_dsn: str, config_file: Path) -> Iterator[Guard]:
    """A database holding the incident in titan.jobs and the guard schema."""
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(INCIDENT_SQL)
    install_guard_schema(pg_dsn)
    yield Guard(dsn=pg_dsn, config=config_file)


@pytest.fixture
def guard(pg_dsn: str, config_file: Path) -> Guard:
    """An empty database (no guard schema) and the CLI pointed at it."""
    return Guard(dsn=pg_dsn, config=config_file)
