"""Other databases' SQL: recognised from the client a module imports or from the text Postgres rejects."""

from __future__ import annotations

import ast

import pytest

from guard.scan.frontends.python.dialect import dialect_of_module
from guard.scan.sql.dialects import foreign_dialect

CLICKHOUSE_DDL = """CREATE TABLE IF NOT EXISTS analytics.events
(
    event_id UUID,
    user_id UInt64,
    event_time DateTime64(3, 'UTC'),
    props String CODEC(ZSTD(3)),
    kind LowCardinality(String)
)
ENGINE = ReplacingMergeTree(event_time)
PARTITION BY toYYYYMM(event_time)
ORDER BY (user_id, event_time)
TTL toDateTime(event_time) + INTERVAL 90 DAY
SETTINGS index_granularity = 8192"""


@pytest.mark.parametrize(
    ("sql", "dialect"),
    [
        (CLICKHOUSE_DDL, "clickhouse"),
        ("CREATE TABLE t (id UInt64, ts DateTime) ENGINE = MergeTree() ORDER BY id", "clickhouse"),
        ("CREATE TABLE users (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(255)) ENGINE=InnoDB", "mysql"),
        ("INSERT INTO counters (k, n) VALUES ($1, 1) ON DUPLICATE KEY UPDATE n = n + 1", "mysql"),
        ("INSERT OR REPLACE INTO settings (key, value) VALUES ($1, $2)", "sqlite"),
        ("COPY INTO raw.events FROM @landing_stage FILE_FORMAT = (TYPE = JSON)", "snowflake"),
    ],
)
def test_statements_postgres_rejects_are_recognised_as_their_dialect(sql: str, dialect: str) -> None:
    found = foreign_dialect(sql)
    assert found is not None and found.dialect == dialect and found.trees


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO jobs (a VALUES (1)",  # broken PostgreSQL stays PostgreSQL (and gets its diagnostic)
        "Create New Role",
        "CREATE INDEX guard_hole_0 IF NOT EXISTS ON jobs (st_id)",
    ],
)
def test_broken_or_prose_text_is_not_a_foreign_dialect(sql: str) -> None:
    assert foreign_dialect(sql) is None


@pytest.mark.parametrize(
    ("source", "dialect"),
    [
        ("import sqlite3\nconn = sqlite3.connect('cache.db')\n", "sqlite"),
        ("import aiosqlite\n", "sqlite"),
        ("from clickhouse_driver import Client\nclient = Client('ch')\n", "clickhouse"),
        ("import clickhouse_connect\n", "clickhouse"),
        ("import snowflake.connector\n", "snowflake"),
        ("from google.cloud import bigquery\n", "bigquery"),
        ("import pymysql\n", "mysql"),
        ("import mysql.connector\n", "mysql"),
        ("import sqlalchemy as sa\nengine = sa.create_engine('sqlite:///local.db')\n", "sqlite"),
        ("from sqlalchemy import create_engine\ne = create_engine('mysql+pymysql://u@h/db')\n", "mysql"),
    ],
)
def test_modules_whose_only_client_is_foreign(source: str, dialect: str) -> None:
    assert dialect_of_module(ast.parse(source)) == dialect


@pytest.mark.parametrize(
    "source",
    [
        "import os\n",
        "import psycopg2\n",
        "import sqlite3\nimport psycopg\n",  # both: per-call attribution is not attempted, PostgreSQL assumed
        "from sqlalchemy import create_engine\nengine = create_engine(DATABASE_URL)\n",
        "import sqlalchemy\ne = sqlalchemy.create_engine('postgresql+psycopg://app@db/app')\n",
        "from mysql_utils import helper\n",
    ],
)
def test_modules_that_may_talk_to_postgres(source: str) -> None:
    assert dialect_of_module(ast.parse(source)) is None
