"""guard coverage: the seed's zero-invoice rate done right (Wilson interval, minimum sample)."""

from __future__ import annotations

import pytest

from guard.watch.stats import wilson_interval, z_for

from .incident import Guard

# 8 recent jobs, 6 without invoice (the alert that fired), and 124 April jobs, 100 without (the real gap)
JOBS_SQL = """
CREATE TABLE public.jobs (id int PRIMARY KEY, recent boolean, invoice_total numeric, lead_source text);
INSERT INTO public.jobs SELECT g, g <= 8, CASE WHEN g <= 6 THEN NULL ELSE 250 END, 'Yelp' FROM generate_series(1, 8) g;
INSERT INTO public.jobs
SELECT g, false, CASE WHEN g <= 68 THEN 0 WHEN g <= 108 THEN NULL ELSE 99.5 END,
       CASE WHEN g % 2 = 0 THEN '' ELSE 'Referral' END
  FROM generate_series(9, 132) AS g;
"""


@pytest.fixture
def jobs(guard: Guard) -> Guard:
    guard.query_script(JOBS_SQL)
    return guard


def test_wilson_interval_matches_hand_computation() -> None:
    # the seed: 6 of 8 -> 40.9% to 93.0%; 100 of 124 -> 73% to 87%
    small = wilson_interval(6, 8)
    assert (round(small.lower, 4), round(small.upper, 4)) == (0.4093, 0.9285)
    large = wilson_interval(100, 124)
    assert (round(large.lower, 4), round(large.upper, 4)) == (0.7281, 0.8663)
    assert z_for(0.95) == pytest.approx(1.959964, abs=1e-6)
    assert (wilson_interval(0, 30).lower, wilson_interval(30, 30).upper) == (0.0, 1.0)
    empty = wilson_interval(0, 0)
    assert (empty.rate, empty.lower, empty.upper) == (None, 0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(9, 8)


def test_small_sample_is_insufficient_not_an_alarm(jobs: Guard) -> None:
    report = jobs.json(
        "coverage", "--table", "jobs", "--column", "invoice_total", "--where", "recent", "--max-rate", "70%",
        config=False, expect_exit=0,
    )  # fmt: skip
    assert (report["rows"], report["missing"], report["rate"]) == (8, 6, 0.75)
    assert report["status"] == "insufficient_sample"
    assert report["missing_means"] == "null or zero"
    assert round(report["interval"]["lower"], 3) == 0.409
    assert round(report["interval"]["upper"], 3) == 0.929
    text = jobs.run("coverage", "--table", "jobs", "--column", "invoice_total", "--where", "recent", config=False)
    assert "insufficient sample: n = 8 < 20" in text.stdout


@pytest.mark.parametrize(
    ("max_rate", "status", "exit_code"),
    [("0.7", "alarm", 1), ("75%", "inconclusive", 0), ("0.9", "ok", 0)],
)
def test_large_sample_alarms_only_when_the_lower_bound_exceeds_the_bar(
    jobs: Guard, max_rate: str, status: str, exit_code: int
) -> None:
    report = jobs.json(
        "coverage", "--table", "public.jobs", "--column", "invoice_total", "--where", "NOT recent",
        "--max-rate", max_rate, config=False, expect_exit=exit_code,
    )  # fmt: skip
    assert (report["rows"], report["missing"]) == (124, 100)
    assert round(report["interval"]["lower"], 4) == 0.7281
    assert report["status"] == status


def test_text_columns_count_empty_strings(jobs: Guard) -> None:
    report = jobs.json(
        "coverage", "--table", "jobs", "--column", "lead_source", "--where", "NOT recent", config=False, expect_exit=0
    )
    assert (report["missing_means"], report["missing"], report["status"]) == ("null or empty", 62, "measured")


def test_refusals(jobs: Guard) -> None:
    writing = jobs.run("coverage", "--table", "jobs", "--column", "invoice_total", "--where", "true; DROP TABLE jobs",
                       config=False)  # fmt: skip
    assert writing.exit_code == 2
    assert "single expression" in writing.stderr
    column = jobs.run("coverage", "--table", "jobs", "--column", "nope", config=False)
    assert column.exit_code == 2
    assert "public.jobs has no column 'nope'" in column.stderr
    rate = jobs.run("coverage", "--table", "jobs", "--column", "invoice_total", "--max-rate", "170%", config=False)
    assert rate.exit_code == 2
    table = jobs.run("coverage", "--table", "nope", "--column", "x", config=False)
    assert table.exit_code == 2
    assert "table 'nope' not found" in table.stderr
