"""The hand-written SVG charts: parsed back as XML and checked mark by mark."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from guard.report import svg
from guard.report.sparkline import sparkline

NS = {"s": "http://www.w3.org/2000/svg"}


def _parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def test_bar_chart_has_one_rect_per_value_even_for_zero() -> None:
    bars = [svg.Bar(f"04:{m:02d}", value) for m, value in enumerate([0, 1, 0, 10_461, 0, 2])]
    root = _parse(svg.bar_chart(bars, label="rows per minute", css_class="timeline"))
    rects = root.findall("s:rect", NS)
    assert len(rects) == 6
    assert [r.get("data-value") for r in rects] == ["0", "1", "0", "10,461", "0", "2"]
    heights = [float(r.get("height", "0")) for r in rects]
    assert heights[0] == 0 and heights[3] == max(heights)
    # a linear axis (the spike fills the plot) where a one-row minute still shows as a sliver
    assert heights[3] > 50 * heights[1] > 0 and heights[1] == heights[5]
    assert root.get("role") == "img" and root.find("s:title", NS).text == "rows per minute"


def test_bar_chart_highlights_and_labels_the_burst() -> None:
    bars = [svg.Bar(f"{m:02d}", 1, highlight=m == 40) for m in range(61)]
    root = _parse(svg.bar_chart(bars, label="x", css_class="timeline"))
    hot = [r for r in root.findall("s:rect", NS) if r.get("class") == "bar hot"]
    assert len(hot) == 1 and hot[0].get("data-label") == "40"
    labels = [t.text for t in root.findall("s:text", NS)]
    assert "40" in labels and "00" in labels and "60" in labels


def test_text_is_escaped() -> None:
    bars = [svg.Bar('<script>"&', 1, tooltip="a <b> & 'c'")]
    markup = str(svg.bar_chart(bars, label="<x>", css_class='"y'))
    root = _parse(markup)  # still well-formed XML
    assert "<script>" not in markup
    assert root.find("s:rect", NS).get("data-label") == '<script>"&'


def test_nice_ceiling() -> None:
    assert svg.nice_ceiling(0) == 1
    assert svg.nice_ceiling(7) == 8
    assert svg.nice_ceiling(10_461) == 12_000
    assert svg.nice_ceiling(100) == 100
    assert svg.nice_ceiling(0.3) == pytest.approx(0.3)


def test_heat_strip_one_cell_per_table_with_status() -> None:
    cells = [
        svg.Cell("titan.jobs", 3.2, "error", "jobs: 231 d"),
        svg.Cell("titan.call_logs", 0.5, "warn", "logs"),
        svg.Cell("titan.lookup", None, "no_timestamp_column", "none"),
    ]
    root = _parse(svg.heat_strip(cells, label="ages"))
    rects = root.findall("s:rect", NS)
    assert [r.get("class") for r in rects] == ["cell error", "cell warn", "cell no_timestamp_column"]
    assert [r.get("data-table") for r in rects] == ["titan.jobs", "titan.call_logs", "titan.lookup"]
    opacity = [float(r.get("fill-opacity", "0")) for r in rects]
    assert opacity[0] == 1.0 and 0.45 < opacity[1] < 1.0


def test_age_gauge_marks_thresholds_and_overflow() -> None:
    root = _parse(svg.age_gauge(500 * 3600, 24 * 3600, 72 * 3600, label="age", status="error"))
    lines = root.findall("s:line", NS)
    assert [line.get("class") for line in lines] == ["threshold warn", "threshold error"]
    assert root.find("s:path", NS) is not None  # beyond the axis: drawn with an arrow


def test_interval_chart_positions_follow_the_shares() -> None:
    root = _parse(svg.interval_chart(0.75, 0.41, 0.93, max_rate=0.7, label="rate", confidence=0.95))
    band = root.find("s:rect", NS)
    dot = root.find("s:circle", NS)
    assert band.get("data-lower") == "0.410000" and band.get("data-upper") == "0.930000"
    left, width = float(band.get("x")), float(band.get("width"))
    threshold = next(line for line in root.findall("s:line", NS) if line.get("class") == "threshold error")
    # the alarm rule in the picture: the threshold lies inside the band, so this is no alarm
    assert left < float(threshold.get("x1")) < left + width
    assert left < float(dot.get("cx")) < left + width


def test_sparkline() -> None:
    line = sparkline([0, 1, 0, 10_461, 0])
    assert len(line) == 5
    assert line[3] == "█" and line[0] == line[2] == "▁" and line[1] == "▂"
    assert sparkline([]) == "" and sparkline([0, 0]) == "▁▁"
