"""The Apr 3 incident re-created in a real PostgreSQL, and a small driver for the CLI."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner, Result

from guard.cli import cli
from guard.db.migrate import upgrade

BURST_ROWS = 10_461
NORMAL_ROWS = 1_370
BURST_STAMP = "2026-04-03 04:07:12.345678+00"
BURST_MINUTE = "2026-04-03T04:07:00Z"
BUSINESS_FIRST = "2020-11-30T00:00:00Z"
BUSINESS_LAST = "2026-04-02T00:00:00Z"
BUSINESS_DAYS = 1949  # 2020-11-30 .. 2026-04-02


#: the incident's phantom revenue. The burst's invoice_total is 567 + g % 100 (+1 for the first 3,305 rows):
#: 567 * 10,461 + 516,691 (the sum of g % 100 over g = 1..10,461) + 3,305 = 6,451,383.
BURST_MONEY = Decimal("6451383.00")
NORMAL_MONEY = sum(Decimal((g % 50) * 10) for g in range(1, NORMAL_ROWS + 1))

INCIDENT_SQL = f"""
CREATE SCHEMA titan;
CREATE TABLE titan.jobs (
    id bigserial PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    scheduled_at timestamptz,
    lead_source text,
    status text,
    invoice_total numeric(12, 2)
);
CREATE INDEX jobs_created_at_idx ON titan.jobs (created_at);
-- normal traffic: one job every 111 minutes from Jan 1 to mid-April, scheduled a few hours before creation
INSERT INTO titan.jobs (created_at, scheduled_at, lead_source, status, invoice_total)
SELECT ts, ts - interval '3 hours', (ARRAY['Google Ads', 'Referral', 'Yelp'])[1 + g % 3], 'completed', (g % 50) * 10
  FROM generate_series(1, {NORMAL_ROWS}) AS g,
       LATERAL (SELECT timestamptz '2026-01-01 00:00:00+00' + g * interval '111 minutes' AS ts) AS s;
-- the phantom: one statement's now(), business dates spread over five years
INSERT INTO titan.jobs (created_at, scheduled_at, lead_source, status, invoice_total)
SELECT timestamptz '{BURST_STAMP}',
       timestamptz '2020-11-30 00:00:00+00' + ((g - 1) * {BUSINESS_DAYS} / {BURST_ROWS - 1}) * interval '1 day',
       'Imported Default Campaign', 'completed', 567 + g % 100 + CASE WHEN g <= 3305 THEN 1 ELSE 0 END
  FROM generate_series(1, {BURST_ROWS}) AS g;
ANALYZE titan.jobs;
"""

CONFIG_TOML = """
search_path = ["titan", "public"]

[tables."titan.jobs"]
business_column = "scheduled_at"
money_column = "invoice_total"
"""


def install_guard_schema(dsn: str) -> None:
    """Install the guard schema the way `guard migrate` does."""
    upgrade(dsn)


@dataclass
class Guard:
    """Run the CLI the way a user does and read its JSON."""

    dsn: str
    config: Path

    def run(self, *args: str, config: bool = True) -> Result:
        argv = [*args, "--dsn", self.dsn]
        if config:
            argv += ["--config", str(self.config)]
        return CliRunner().invoke(cli, argv, catch_exceptions=False)

    def json(self, *args: str, expect_exit: int | None = None, config: bool = True) -> dict[str, Any]:
        result = self.run(*args, "--format", "json", config=config)
        if expect_exit is not None:
            assert result.exit_code == expect_exit, result.output
        return json.loads(result.stdout)

    def query(self, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            return conn.execute(statement, params).fetchall()

    def query_script(self, script: str) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(script)

    def scalar(self, statement: str, params: Any = None) -> Any:
        return self.query(statement, params)[0][0]
