"""guard bounds on the re-created incident: the phantom $6.4M breaches the revenue range, the clean view passes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from .incident import BURST_MONEY, CONFIG_TOML, Guard

#: the incident week: the burst landed on 2026-04-03, normal traffic runs Jan 1 .. mid-April
AS_OF = "2026-04-08T00:00:00Z"
WEEKLY = (
    "SELECT coalesce(sum(invoice_total), 0) FROM {table} WHERE status = 'completed' "
    "AND created_at >= :period_start AND created_at < :period_end"
)
REVENUE = f"""
[metrics.revenue_7d]
sql = "{WEEKLY.format(table="titan.jobs")}"
period = "7d"
min = 20000
max = 200000
unit = "$"
why = "weekly revenue on the owner's dashboard"

[metrics.revenue_7d_clean]
sql = "{WEEKLY.format(table="titan.jobs_clean")}"
period = "7d"
min = 20000
max = 200000
unit = "$"
"""


def _config(guard: Guard, tmp_path: Path, metrics: str) -> Path:
    path = tmp_path / "metrics.toml"
    path.write_text(CONFIG_TOML + metrics)
    guard.config = path
    return path


def _quarantine_burst(guard: Guard) -> None:
    burst = guard.json("detect", "--table", "titan.jobs")["tables"][0]["bursts"][0]["id"]
    guard.json("quarantine", "--table", "titan.jobs", "--burst", burst, "--apply", expect_exit=0)


def test_phantom_revenue_breaches_then_the_clean_view_passes(incident: Guard, tmp_path: Path) -> None:
    _config(incident, tmp_path, REVENUE)
    report = incident.json("bounds", "--metric", "revenue_7d", "--as-of", AS_OF, expect_exit=1)
    [metric] = report["metrics"]
    assert metric["status"] == "breach"
    assert Decimal(metric["value"]) > BURST_MONEY  # the phantom plus the week's real jobs
    assert metric["window"] == ["2026-04-01T00:00:00Z", "2026-04-08T00:00:00Z"]
    assert (metric["min"], metric["max"]) == ("20000", "200000")
    text = incident.run("bounds", "--metric", "revenue_7d", "--as-of", AS_OF)
    assert text.exit_code == 1
    assert "$6.47M" in text.stdout and "[$20K, $200K]" in text.stdout and "breach" in text.stdout
    assert "weekly revenue on the owner's dashboard" in text.stdout

    _quarantine_burst(incident)
    clean = incident.json("bounds", "--metric", "revenue_7d_clean", "--as-of", AS_OF, expect_exit=0)
    [metric] = clean["metrics"]
    assert metric["status"] == "ok"
    assert Decimal(20000) < Decimal(metric["value"]) < Decimal(30000)


def test_within_the_trailing_median_catches_the_phantom_without_fixed_bounds(incident: Guard, tmp_path: Path) -> None:
    weekly = WEEKLY.format(table="titan.jobs")
    _config(incident, tmp_path, f'[metrics.revenue]\nsql = "{weekly}"\nperiod = "7d"\nwithin = "3x"\nhistory = 8\n')
    report = incident.json("bounds", "--as-of", AS_OF, expect_exit=1)
    [metric] = report["metrics"]
    assert metric["status"] == "breach"
    assert len(metric["history"]) == 8
    median = Decimal(metric["median"])
    assert Decimal(20000) < median < Decimal(25000)  # eight ordinary weeks before the phantom
    assert Decimal(metric["upper"]) == median * 3 and Decimal(metric["lower"]) == median / 3
    assert "x the trailing median" in metric["message"]
    # the week before the phantom is ordinary
    assert incident.json("bounds", "--as-of", "2026-04-01T00:00:00Z", expect_exit=0)["metrics"][0]["status"] == "ok"


def test_min_rows_refuses_to_judge_a_small_sample(incident: Guard, tmp_path: Path) -> None:
    # the n >= 20 lesson: a one-day window holds ~13 jobs; a rate on that is noise
    sql = (
        "SELECT avg((invoice_total = 0)::int) * 100, count(*) FROM titan.jobs "
        "WHERE created_at >= :period_start AND created_at < :period_end"
    )
    _config(incident, tmp_path, f'[metrics.zero_invoice_pct]\nsql = "{sql}"\nperiod = "1d"\nmax = 1\nmin_rows = 20\n')
    small = incident.json("bounds", "--as-of", "2026-03-01", expect_exit=0)["metrics"][0]
    assert small["status"] == "low_sample"
    assert 10 <= small["rows"] < 20
    assert "too few to judge" in small["message"]
    incident.config.write_text(incident.config.read_text().replace('period = "1d"', 'period = "7d"'))
    judged = incident.json("bounds", "--as-of", "2026-03-01", expect_exit=1)["metrics"][0]
    assert judged["rows"] >= 20 and judged["status"] == "breach"  # 2% of jobs have a zero invoice (g % 50 == 0)


def test_suggest_learns_from_ninety_days_and_leaves_the_phantom_week_out(incident: Guard, tmp_path: Path) -> None:
    _config(incident, tmp_path, REVENUE)
    report = incident.json(
        "bounds", "--suggest", "--metric", "revenue_7d", "--as-of", "2026-04-15T00:00:00Z", expect_exit=0
    )
    [proposal] = report["metrics"]
    assert proposal["windows"] == 12  # 90 days of 7-day windows
    assert [o["start"] for o in proposal["outliers"]] == ["2026-04-01T00:00:00Z"]
    low, high = Decimal(proposal["min"]), Decimal(proposal["max"])
    assert Decimal(5000) <= low <= Decimal(12000) and Decimal(40000) <= high <= Decimal(60000)
    text = incident.run("bounds", "--suggest", "--metric", "revenue_7d", "--as-of", "2026-04-15T00:00:00Z")
    assert text.exit_code == 0
    assert "[metrics.revenue_7d]" in text.stdout and f"max = {proposal['max']}" in text.stdout
    assert "left out: 2026-04-01..2026-04-08 = $6.47M, more than 10x away from the median" in text.stdout
    assert "observed $20.4K .. $2" in text.stdout  # the phantom week is not in the observed range


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("DELETE FROM titan.jobs", "must be a SELECT returning one number, not a DeleteStmt"),
        ("SELECT 1; SELECT 2", "must be a single SELECT"),
        ("SELECT count(*) INTO t FROM titan.jobs", "must not contain INTO"),
        ("SELECT count(*) FROM titan.jobs FOR UPDATE", "must not contain FOR UPDATE"),
        ("WITH d AS (DELETE FROM titan.jobs RETURNING 1) SELECT count(*) FROM d", "data-modifying WITH"),
        ("SELECT count(*) FROM titan.jobs WHERE id = :id", "placeholder :id is not supported"),
        ("SELECT count(*) FROM titan.jobs WHERE id = %s", "placeholder %s is not supported"),
        ("SELECT count(*) FROM", "not valid SQL"),
    ],
)
def test_metric_sql_must_be_one_read_only_select(guard: Guard, tmp_path: Path, sql: str, message: str) -> None:
    _config(guard, tmp_path, f'[metrics.bad]\nsql = "{sql}"\nmax = 1\n')
    result = guard.run("bounds")
    assert result.exit_code == 2
    assert "metrics.bad.sql" in result.stderr and message in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ('sql = "SELECT 1"', "give min and/or max, or within"),
        ('sql = "SELECT 1"\nwithin = "3x"', "within: needs the query's own history"),
        ('sql = "SELECT 1"\nperiod = "7d"\nmax = 1', "period is set but the query has no :period_start"),
        ('sql = "SELECT 1 WHERE now() > :period_start AND now() < :period_end"\nmax = 1', "say how long one window"),
        ('sql = "SELECT 1"\nmin = 5\nmax = 1', "max: is below min"),
        ('sql = "SELECT 1"\nmax = "10"', "max: must be a number"),
        ('sql = "SELECT 1 WHERE now() > :period_start"\nperiod = "7d"\nwithin = "1x"', "a factor must be above 1"),
        ('sql = "SELECT 1"\nmax = 1\nmin_row = 20', "min_row: unknown key"),
        ('sql = "SELECT 1 WHERE now() > :period_start"\nperiod = "weekly"\nmax = 1', "period: not a duration"),
    ],
)
def test_bad_metric_settings_name_the_key(guard: Guard, tmp_path: Path, settings: str, message: str) -> None:
    _config(guard, tmp_path, f"[metrics.m]\n{settings}\n")
    result = guard.run("bounds")
    assert result.exit_code == 2, result.output
    assert "metrics.m" in result.stderr and message in result.stderr


def test_volatile_functions_and_writes_through_a_lying_function_are_refused(guard: Guard, tmp_path: Path) -> None:
    guard.query_script(
        """
        CREATE TABLE public.t (x int);
        CREATE SEQUENCE public.s;
        CREATE FUNCTION public.sneaky() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT nextval(''public.s'')';
        """
    )
    _config(guard, tmp_path, '[metrics.volatile]\nsql = "SELECT nextval(\'public.s\')"\nmax = 1\n'
                             '[metrics.lying]\nsql = "SELECT public.sneaky()"\nmax = 1\n'
                             '[metrics.fine]\nsql = "SELECT count(*) FROM public.t"\nmax = 1\n')  # fmt: skip
    report = guard.json("bounds", expect_exit=2)
    by_name = {m["metric"]: m for m in report["metrics"]}
    assert "a volatile function" in by_name["volatile"]["message"]
    assert by_name["lying"]["status"] == "error"
    assert "read-only transaction" in by_name["lying"]["message"]
    assert by_name["fine"]["status"] == "ok"  # one failing metric does not hide the others
    assert guard.scalar("SELECT last_value FROM public.s") == 1 and not guard.scalar("SELECT is_called FROM public.s")


def test_results_that_are_not_one_number(guard: Guard, tmp_path: Path) -> None:
    metrics = {
        "text": "SELECT 'abc'",
        "rows": "SELECT g FROM generate_series(1, 3) g",
        "none": "SELECT 1 WHERE false",
        "null": "SELECT NULL::numeric",
        "sample": "SELECT 1",
        "slow": "SELECT count(*) FROM generate_series(1, 500000000)",
    }
    settings = "".join(f'[metrics.{name}]\nsql = "{sql}"\nmax = 1000\n' for name, sql in metrics.items())
    _config(guard, tmp_path, settings.replace('"SELECT 1"\n', '"SELECT 1"\nmin_rows = 20\n'))
    report = guard.json("bounds", "--statement-timeout", "1s", expect_exit=2)
    by_name = {m["metric"]: m for m in report["metrics"]}
    assert "not a number" in by_name["text"]["message"]
    assert "more than one row" in by_name["rows"]["message"]
    assert "no row" in by_name["none"]["message"]
    assert by_name["null"]["status"] == "no_value" and "coalesce" in by_name["null"]["message"]
    assert "sample size" in by_name["sample"]["message"]
    assert "statement timeout" in by_name["slow"]["message"]


def test_no_metrics_and_unknown_metric(guard: Guard, tmp_path: Path) -> None:
    result = guard.run("bounds")
    assert result.exit_code == 2 and "no metrics declared" in result.stderr
    _config(guard, tmp_path, '[metrics.a]\nsql = "SELECT 1"\nmax = 1\n')
    result = guard.run("bounds", "--metric", "b")
    assert result.exit_code == 2 and "unknown metric b (declared: a)" in result.stderr
