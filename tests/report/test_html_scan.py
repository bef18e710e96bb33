"""``guard scan --format html`` in a real headless Chromium: self-contained, the numbers agree with JSON."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from chromium_driver import Browser
from click.testing import CliRunner

from guard.cli import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "titan"


def _scan(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["scan", *args, "--no-progress"])
    return result.exit_code, result.stdout


@pytest.fixture(scope="module")
def titan_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("html") / "scan-report.html"
    code, _ = _scan(str(EXAMPLE), "--format", "html", "-o", str(out))
    assert code == 1
    code, text = _scan(str(EXAMPLE), "--format", "json")
    return out, json.loads(text)


def test_page_is_self_contained_and_counts_match_json(browser: Browser, titan_report: tuple[Path, dict]) -> None:
    html_file, document = titan_report
    loaded = browser.open(html_file)
    loaded.assert_self_contained()
    page = loaded.page
    expected = len(document["findings"])
    assert expected > 0
    assert page.inner_text("#finding-count") == str(expected)
    assert page.locator("article.finding").count() == expected
    # every finding of the JSON report is on the page, under its table, with its excerpt
    for finding in document["findings"]:
        article = page.locator(f"#f-{finding['fingerprint']}")
        assert article.count() == 1
        assert article.get_attribute("data-rule") == finding["rule"]
        assert article.get_attribute("data-severity") == finding["severity"]
        assert article.locator("span.line.hit").count() >= 1
    tables = {f["table"] for f in document["findings"] if f["table"]}
    shown = set(page.locator("section.group").evaluate_all("els => els.map(e => e.dataset.table)"))
    assert tables <= shown
    assert page.locator("#write-inventory tbody tr").count() == len(document["writes"])
    assert page.locator("#diagnostics-table tbody tr").count() == len(document["diagnostics"])
    loaded.screenshot("scan-report.png", full_page=False)
    loaded.screenshot("scan-report-full.png")


def test_filters_hide_what_does_not_match(browser: Browser, titan_report: tuple[Path, dict]) -> None:
    html_file, document = titan_report
    page = browser.open(html_file).page
    by_severity = Counter(f["severity"] for f in document["findings"])
    page.select_option("#filter-severity", "critical")
    assert page.locator("article.finding:visible").count() == by_severity["critical"]
    assert page.inner_text("#shown-count") == f"showing {by_severity['critical']} of {len(document['findings'])}"
    page.select_option("#filter-table", "titan.jobs")
    jobs_critical = sum(1 for f in document["findings"] if f["severity"] == "critical" and f["table"] == "titan.jobs")
    assert page.locator("article.finding:visible").count() == jobs_critical
    assert page.locator("section.group:visible").count() == 1
    page.select_option("#filter-severity", "")
    page.select_option("#filter-table", "")
    page.select_option("#filter-rule", "GRD002")
    grd002 = sum(1 for f in document["findings"] if f["rule"] == "GRD002")
    assert page.locator("article.finding:visible").count() == grd002
    assert "rule=GRD002" in page.url  # the filtered view can be linked


def test_suggested_diff_is_the_patch_dry_run(browser: Browser, titan_report: tuple[Path, dict], tmp_path: Path) -> None:
    html_file, _ = titan_report
    page = browser.open(html_file).page
    article = page.locator("article.finding", has=page.locator("code", has_text="titan/api/portal.py:7"))
    article.locator("details.suggested summary").click()
    diff = article.locator("pre.diff").inner_text()
    patch = CliRunner().invoke(cli, ["patch", str(EXAMPLE), "--select", "titan/api/portal.py:7"])
    added = [line for line in patch.stdout.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert added and all(line in diff for line in added)


def test_phone_width_has_no_horizontal_scroll(browser: Browser, titan_report: tuple[Path, dict]) -> None:
    html_file, _ = titan_report
    loaded = browser.open(html_file, width=390, height=844)
    overflow = loaded.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    loaded.screenshot("scan-report-phone.png", full_page=False)


def test_empty_scan_renders(browser: Browser, tmp_path: Path) -> None:
    (tmp_path / "ok.py").write_text("x = 1\n")
    out = tmp_path / "report.html"
    code, _ = _scan(str(tmp_path), "-o", str(out))  # the format follows the suffix
    assert code == 0
    loaded = browser.open(out)
    loaded.assert_self_contained()
    assert loaded.page.inner_text("#finding-count") == "0"


def test_html_ships_no_external_reference(titan_report: tuple[Path, dict]) -> None:
    text = titan_report[0].read_text()
    for needle in ("http://", "https://", "//cdn", "<link", "src="):
        hits = [line for line in text.splitlines() if needle in line and "xmlns=" not in line and "See " not in line]
        assert not [h for h in hits if needle != "https://" or "docs/rules" not in h], (needle, hits[:3])


def test_example_copy_keeps_relative_excerpts(tmp_path: Path) -> None:
    tree = tmp_path / "titan"
    shutil.copytree(EXAMPLE, tree)
    code, text = _scan(str(tree / "titan" / "api"), "--format", "html")
    assert code in (0, 1) and "portal.py" in text and 'class="line hit"' in text


def test_each_finding_says_why_it_ranks_where_it_does(titan_report: tuple[Path, dict]) -> None:
    """Evidence of history (docs/rules/ranking.md) is on the page next to each finding, as in the JSON."""
    text, document = titan_report[0].read_text(), titan_report[1]
    first = document["findings"][0]
    assert first["path"] == "titan/nexus_titan_migration.py" and first["evidence"]
    assert text.count('class="ranks"') == sum(1 for f in document["findings"] if f["evidence"])
    for item in first["evidence"]:
        assert f'data-kind="{item["kind"]}"' in text
    assert "scheduled_at &lt;- scheduledOn" in text
