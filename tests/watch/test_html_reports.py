"""HTML reports of the database commands against the re-created incident, checked in a real headless Chromium.

The burst chart must have one bar per minute of its window (thirty minutes either side of the burst minute),
its red bar on the burst's minute holding all 10,461 rows, and agree with the JSON report; the business-date
chart must carry the burst's five years. Screenshots are kept as test artifacts.
"""

from __future__ import annotations

from pathlib import Path

from chromium_driver import Browser

from guard.watch.burst_charts import CONTEXT_STEPS

from .incident import BURST_ROWS, Guard

BARS = 2 * CONTEXT_STEPS + 1  # a one-minute window and thirty minutes either side


def _page(incident: Guard, tmp_path: Path, name: str, *args: str, expect_exit: int) -> Path:
    result = incident.run(*args, "--format", "html")
    assert result.exit_code == expect_exit, result.output
    target = tmp_path / name
    target.write_text(result.stdout, encoding="utf-8")
    return target


def test_detect_json_carries_the_chart_data(incident: Guard) -> None:
    report = incident.json("detect", "--table", "titan.jobs", expect_exit=1)
    burst = report["tables"][0]["bursts"][0]
    charts = burst["charts"]
    timeline = charts["timeline"]
    assert len(timeline) == BARS and charts["step_seconds"] == 60
    assert timeline[CONTEXT_STEPS] == {"start": burst["window_start"], "rows": BURST_ROWS}
    # the normal pace around it: one job every 111 minutes at most
    assert all(step["rows"] <= 1 for i, step in enumerate(timeline) if i != CONTEXT_STEPS)
    histogram = charts["business_histogram"]
    assert charts["business_bin"] == "month"
    assert histogram[0]["start"].startswith("2020-11") and histogram[-1]["start"].startswith("2026-04")
    assert sum(b["rows"] for b in histogram) == BURST_ROWS
    assert len(histogram) == 66  # Nov 2020 .. Apr 2026, every month present (zero-filled if empty)


def test_detect_page_in_a_browser(incident: Guard, browser: Browser, tmp_path: Path) -> None:
    report = incident.json("detect", "--table", "titan.jobs", expect_exit=1)
    burst = report["tables"][0]["bursts"][0]
    html_file = _page(incident, tmp_path, "detect.html", "detect", "--table", "titan.jobs", expect_exit=1)
    loaded = browser.open(html_file, width=1100)
    loaded.assert_self_contained()
    page = loaded.page
    assert page.inner_text("#burst-count") == str(report["bursts_found"]) == "1"
    section = page.locator(f"section.burst#{burst['id']}")
    bars = section.locator("svg.timeline rect.bar")
    assert bars.count() == BARS == len(burst["charts"]["timeline"])
    hot = section.locator("svg.timeline rect.bar.hot")
    assert hot.count() == 1 and hot.get_attribute("data-value") == f"{BURST_ROWS:,}"
    assert hot.get_attribute("data-label") == "04:07"
    business = section.locator("svg.business rect.bar")
    assert business.count() == len(burst["charts"]["business_histogram"])
    assert "6,451,383.00" in section.inner_text() and "Imported Default Campaign" in section.inner_text()
    # the chart is drawn, not just present: the spike is the tallest thing in it
    heights = bars.evaluate_all("els => els.map(e => e.getBoundingClientRect().height)")
    assert max(heights) == heights[CONTEXT_STEPS] > 50
    loaded.screenshot("detect-report.png")


def test_detect_terminal_sparkline(incident: Guard) -> None:
    result = incident.run("detect", "--table", "titan.jobs")
    line = next(text for text in result.stdout.splitlines() if "rows/min" in text)
    chart = line.split("rows/min ", 1)[1].split(" ")[1]
    assert len(chart) == BARS and chart[CONTEXT_STEPS] == "█"
    assert f"peak {BURST_ROWS:,} at 04:07" in line


def test_freshness_page(incident: Guard, browser: Browser, tmp_path: Path) -> None:
    report = incident.json("freshness", expect_exit=1)
    html_file = _page(incident, tmp_path, "freshness.html", "freshness", expect_exit=1)
    loaded = browser.open(html_file)
    loaded.assert_self_contained()
    page = loaded.page
    cells = page.locator("svg.heat-strip rect.cell")
    assert cells.count() == len(report["tables"])
    expected = [(t["table"], t["status"]) for t in report["tables"]]
    shown = cells.evaluate_all("els => els.map(e => [e.dataset.table, e.getAttribute('class').split(' ')[1]])")
    assert [tuple(pair) for pair in shown] == expected
    assert page.locator("#freshness-table tbody tr").count() == len(report["tables"])
    assert page.locator("svg.gauge line.threshold").count() == 2 * len(report["tables"])
    loaded.screenshot("freshness-report.png")


def test_coverage_page_draws_the_wilson_interval(incident: Guard, browser: Browser, tmp_path: Path) -> None:
    args = ("coverage", "--table", "titan.jobs", "--column", "invoice_total", "--max-rate", "1%")
    report = incident.json(*args, expect_exit=0)
    html_file = _page(incident, tmp_path, "coverage.html", *args, expect_exit=0)
    loaded = browser.open(html_file)
    loaded.assert_self_contained()
    page = loaded.page
    band = page.locator("svg.interval rect.band")
    assert float(band.get_attribute("data-lower")) == round(report["interval"]["lower"], 6)
    assert float(band.get_attribute("data-upper")) == round(report["interval"]["upper"], 6)
    assert float(page.locator("svg.interval circle.rate").get_attribute("data-rate")) == round(report["rate"], 6)
    assert page.locator("svg.interval line.threshold").count() == 1
    assert report["status"] in page.inner_text(".status." + report["status"]).replace(" ", "_")
    loaded.screenshot("coverage-report.png")


def test_doctor_page(incident: Guard, browser: Browser, tmp_path: Path) -> None:
    report = incident.json("doctor", expect_exit=1)
    html_file = _page(incident, tmp_path, "doctor.html", "doctor", expect_exit=1)
    loaded = browser.open(html_file)
    loaded.assert_self_contained()
    page = loaded.page
    assert page.get_attribute("#doctor-exit", "data-exit") == str(report["exit_code"])
    checks = page.locator("section.check").evaluate_all("els => els.map(e => e.dataset.check)")
    assert checks == list(report["sections"])
    assert page.locator("section.check[data-check=freshness] svg.heat-strip rect.cell").count() == len(
        report["sections"]["freshness"]["tables"]
    )
    loaded.screenshot("doctor-report.png")
