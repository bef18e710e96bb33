"""guard doctor: status + detect + freshness on one screen, exit code = the worst."""

from __future__ import annotations

from .incident import Guard, install_guard_schema


def test_incident_database_fails_on_bursts_and_staleness(incident: Guard) -> None:
    report = incident.json("doctor", expect_exit=1)
    sections = report["sections"]
    assert report["exit_code"] == 1
    assert sections["guard"]["exit_code"] == 0
    assert "no table is guarded yet" in sections["guard"]["summary"]
    assert sections["detect"]["exit_code"] == 1
    assert [b["rows"] for b in sections["detect"]["bursts"]] == [10_461]
    assert sections["freshness"]["exit_code"] == 1  # the newest job is from April
    text = incident.run("doctor")
    assert text.exit_code == 1
    assert "1 phantom burst(s) in 1 table(s) scanned" in text.stdout
    assert "titan.jobs: 10,461 rows at 2026-04-03T04:07:00Z" in text.stdout
    assert len(text.stdout.splitlines()) <= 25  # one screen


def test_healthy_database_exits_zero(guard: Guard) -> None:
    install_guard_schema(guard.dsn)
    guard.query_script(
        """
        CREATE TABLE public.orders (id int PRIMARY KEY, created_at timestamptz, updated_at timestamptz);
        INSERT INTO public.orders SELECT g, now() - g * interval '1 minute', now() FROM generate_series(1, 300) g;
        """
    )
    report = guard.json("doctor", config=False, expect_exit=0)
    assert {name: s["exit_code"] for name, s in report["sections"].items()} == {
        "guard": 0, "detect": 0, "freshness": 0, "rollout": 0, "bounds": 0
    }  # fmt: skip
    assert "not checked: give --scan" in report["sections"]["rollout"]["summary"]
    assert "no metrics declared" in report["sections"]["bounds"]["summary"]


def test_missing_guard_schema_is_a_finding_and_other_checks_still_run(guard: Guard) -> None:
    guard.query_script("CREATE TABLE public.orders (id int PRIMARY KEY, created_at timestamptz DEFAULT now())")
    report = guard.json("doctor", config=False, expect_exit=1)
    assert report["sections"]["guard"]["exit_code"] == 1
    assert "guard migrate" in report["sections"]["guard"]["summary"]
    assert report["sections"]["detect"]["exit_code"] == 0
    assert report["sections"]["freshness"]["tables"] == [
        {
            "table": "public.orders",
            "status": "empty",
            "age_seconds": None,
            "warn_after_seconds": 86400.0,
            "error_after_seconds": 259200.0,
        }
    ]


def test_a_broken_check_is_reported_with_exit_2(guard: Guard, tmp_path) -> None:
    guard.query_script("CREATE TABLE public.orders (id int PRIMARY KEY, created_at timestamptz)")
    config = tmp_path / "bad.toml"
    config.write_text('[tables."public.orders"]\nbusiness_column = "scheduled_at"\n')
    report = guard.json("doctor", "--config", str(config), config=False, expect_exit=2)
    assert report["sections"]["detect"]["exit_code"] == 2
    assert "has no column 'scheduled_at'" in report["sections"]["detect"]["summary"]
    assert report["sections"]["freshness"]["exit_code"] == 0


def test_bound_breaches_on_the_one_screen(incident: Guard, tmp_path) -> None:
    config = tmp_path / "metrics.toml"
    incident_week = "created_at >= '2026-04-01' AND created_at < '2026-04-08'"
    config.write_text(
        incident.config.read_text()
        + f'[metrics.revenue_7d]\nsql = "SELECT sum(invoice_total) FROM titan.jobs WHERE {incident_week}"\n'
        + 'min = 20000\nmax = 200000\nunit = "$"\n'
    )
    report = incident.json("doctor", "--config", str(config), config=False, expect_exit=1)
    bounds = report["sections"]["bounds"]
    assert bounds["exit_code"] == 1 and bounds["summary"] == "1 of 1 metric(s) out of bounds"
    assert bounds["details"] == ["revenue_7d: $6.47M not in [$20K, $200K] (breach)"]
    text = incident.run("doctor", "--config", str(config), config=False).stdout
    assert "revenue_7d: $6.47M not in [$20K, $200K]" in text
    assert len(text.splitlines()) <= 25  # still one screen
    config.write_text(incident.config.read_text() + '[metrics.bad]\nsql = "SELECT 1"\nmax = "x"\n')
    broken = incident.json("doctor", "--config", str(config), config=False, expect_exit=2)["sections"]["bounds"]
    assert broken["exit_code"] == 2 and "metrics.bad.max: must be a number" in broken["summary"]
