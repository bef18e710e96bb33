"""Charts as inline SVG, drawn on the server from the data: no JavaScript library, no CDN, no network.

The HTML reports must work from ``file://`` and as a CI artifact, on a laptop and a phone, years later. A
chart library fetched from a CDN breaks all three; a few dozen lines of SVG do not. Every chart scales with
its container (``viewBox`` + ``width: 100%``), carries a ``<title>`` per mark (the tooltip, and what a screen
reader says) and a ``role="img"`` label, and uses CSS classes for colour so dark mode and print follow the page.

The functions return :class:`markupsafe.Markup` (already escaped) so templates insert them as they are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

#: Chart canvas in user units; the browser scales it to the container's width.
WIDTH = 720
HEIGHT = 220
_MARGIN_LEFT = 56
_MARGIN_RIGHT = 12
_MARGIN_TOP = 14
_MARGIN_BOTTOM = 36
#: height of the shortest non-zero bar
_MIN_VISIBLE = 1.5


@dataclass(frozen=True)
class Bar:
    """One bar: ``label`` is shown on the axis (when there is room) and in the tooltip."""

    label: str
    value: float
    highlight: bool = False
    tooltip: str = ""


@dataclass(frozen=True)
class Cell:
    """One cell of a heat strip: ``heat`` 0 (fresh) .. 1 (at the error threshold) .. above (past it)."""

    label: str
    heat: float | None  # None: not measurable (no timestamp column, empty table)
    status: str
    tooltip: str


def _num(value: float) -> str:
    """Coordinates with at most two decimals: short files, stable output."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _open(css_class: str, label: str, width: float = WIDTH, height: float = HEIGHT) -> str:
    return (
        f'<svg class="chart {escape(css_class)}" viewBox="0 0 {_num(width)} {_num(height)}" '
        f'xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(label)}" '
        f'preserveAspectRatio="xMidYMid meet"><title>{escape(label)}</title>'
    )


def nice_ceiling(value: float) -> float:
    """The smallest round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k) at or above ``value``; 1 for nothing."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        candidate = step * 10.0**exponent
        if candidate >= value:
            return candidate
    return 10.0 ** (exponent + 1)  # pragma: no cover - the loop always returns


def _count(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def bar_chart(bars: Sequence[Bar], *, label: str, css_class: str, axis_labels: int = 6) -> Markup:
    """Vertical bars on a linear axis: one ``rect.bar`` per entry, even when its value is 0.

    A linear axis is the point for a phantom burst: one minute holding ten thousand rows next to minutes
    holding one or none is the picture that convinced people in the incident; a log axis would hide it.
    Highlighted bars get ``class="bar hot"``. ``axis_labels`` x labels are spread evenly, and every
    highlighted bar is labelled too.
    """
    plot_w = WIDTH - _MARGIN_LEFT - _MARGIN_RIGHT
    plot_h = HEIGHT - _MARGIN_TOP - _MARGIN_BOTTOM
    top = nice_ceiling(max((b.value for b in bars), default=0))
    parts = [_open(css_class, label)]
    baseline = _MARGIN_TOP + plot_h
    for fraction in (0, 0.5, 1):
        y = baseline - plot_h * fraction
        parts.append(
            f'<line class="grid" x1="{_MARGIN_LEFT}" x2="{_num(WIDTH - _MARGIN_RIGHT)}" y1="{_num(y)}" y2="{_num(y)}"/>'
            f'<text class="tick" x="{_MARGIN_LEFT - 6}" y="{_num(y + 4)}" text-anchor="end">'
            f"{escape(_count(top * fraction))}</text>"
        )
    count = len(bars)
    slot = plot_w / count if count else plot_w
    gap = min(2.0, slot * 0.2)
    labelled = _label_indexes(count, axis_labels) | {i for i, b in enumerate(bars) if b.highlight}
    for i, bar in enumerate(bars):
        height = plot_h * (max(bar.value, 0) / top)
        if bar.value > 0:
            height = max(height, _MIN_VISIBLE)  # one row next to ten thousand must still show: "some", not "none"
        x = _MARGIN_LEFT + i * slot + gap / 2
        css = "bar hot" if bar.highlight else "bar"
        tooltip = bar.tooltip or f"{bar.label}: {_count(bar.value)}"
        parts.append(
            f'<rect class="{css}" x="{_num(x)}" y="{_num(baseline - height)}" width="{_num(max(slot - gap, 0.5))}" '
            f'height="{_num(height)}" data-label="{escape(bar.label)}" data-value="{escape(_count(bar.value))}">'
            f"<title>{escape(tooltip)}</title></rect>"
        )
        if i in labelled:
            anchor = "start" if i == 0 else "end" if i == count - 1 else "middle"
            parts.append(
                f'<text class="{"tick hot" if bar.highlight else "tick"}" x="{_num(x + (slot - gap) / 2)}" '
                f'y="{_num(baseline + 16)}" text-anchor="{anchor}">{escape(bar.label)}</text>'
            )
    parts.append(
        f'<line class="axis" x1="{_MARGIN_LEFT}" x2="{_num(WIDTH - _MARGIN_RIGHT)}" '
        f'y1="{_num(baseline)}" y2="{_num(baseline)}"/></svg>'
    )
    return Markup("".join(parts))


def _label_indexes(count: int, wanted: int) -> set[int]:
    """``wanted`` indexes spread from first to last (all of them when there are few bars)."""
    if count <= wanted:
        return set(range(count))
    if wanted <= 1:
        return {0}
    return {round(k * (count - 1) / (wanted - 1)) for k in range(wanted)}


def heat_strip(cells: Sequence[Cell], *, label: str) -> Markup:
    """A row of equal cells, one per table, coloured by age against its thresholds (``status`` class).

    Colour comes from the status (ok / warn / error / none) so it matches the table next to it; the
    cell's opacity rises with ``heat`` inside its band, so two "ok" tables of very different ages still differ.
    """
    count = max(len(cells), 1)
    height = 44.0
    cell_w = WIDTH / count
    parts = [_open("heat-strip", label, WIDTH, height)]
    for i, cell in enumerate(cells):
        opacity = 1.0 if cell.heat is None else 0.45 + 0.55 * min(max(cell.heat, 0.0), 1.0)
        parts.append(
            f'<rect class="cell {escape(cell.status)}" x="{_num(i * cell_w + 1)}" y="2" '
            f'width="{_num(max(cell_w - 2, 0.5))}" height="{_num(height - 4)}" rx="3" '
            f'fill-opacity="{_num(opacity)}" data-table="{escape(cell.label)}">'
            f"<title>{escape(cell.tooltip)}</title></rect>"
        )
        room = int(cell_w // 7.5) - 1  # characters that fit at 12px
        if room >= 4:
            name = cell.label if len(cell.label) <= room else cell.label[: room - 1] + "…"
            parts.append(
                f'<text class="cell-label" x="{_num(i * cell_w + cell_w / 2)}" y="{_num(height / 2 + 4)}" '
                f'text-anchor="middle">{escape(name)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def age_gauge(age: float | None, warn: float, error: float, *, label: str, status: str) -> Markup:
    """One table's age on an axis running to twice its error threshold, warn and error marked.

    Ages beyond the axis are drawn to its end with an arrow: what matters is that they are past the
    error line, not by how many pixels.
    """
    width, height = 360.0, 26.0
    span = max(error * 2, 1.0)
    parts = [_open("gauge", label, width, height)]
    parts.append(f'<rect class="track" x="0" y="8" width="{_num(width)}" height="10" rx="5"/>')
    if age is not None and age > 0:
        filled = min(age / span, 1.0) * width
        parts.append(f'<rect class="fill {escape(status)}" x="0" y="8" width="{_num(filled)}" height="10" rx="5"/>')
        if age > span:
            parts.append(f'<path class="overflow" d="M{_num(width - 8)} 4 L{_num(width)} 13 L{_num(width - 8)} 22 Z"/>')
    for name, at in (("warn", warn), ("error", error)):
        x = min(at / span, 1.0) * width
        parts.append(
            f'<line class="threshold {name}" x1="{_num(x)}" x2="{_num(x)}" y1="2" y2="24">'
            f"<title>{name} after {escape(_hours(at))}</title></line>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:g} h"


def interval_chart(
    rate: float | None, lower: float, upper: float, *, max_rate: float | None, label: str, confidence: float
) -> Markup:
    """A 0-100% axis with the Wilson interval as a band, the observed rate as a dot and ``max_rate`` as a line.

    Drawn so the alarm rule can be read off the picture: it fires only when the whole band lies right of
    the dashed line.
    """
    width, height = float(WIDTH), 92.0
    left, right = 24.0, 24.0
    plot = width - left - right

    def x_of(share: float) -> float:
        return left + plot * min(max(share, 0.0), 1.0)

    parts = [_open("interval", label, width, height)]
    parts.append(f'<line class="axis" x1="{_num(left)}" x2="{_num(width - right)}" y1="52" y2="52"/>')
    for tick in range(0, 101, 10):
        x = x_of(tick / 100)
        parts.append(f'<line class="grid" x1="{_num(x)}" x2="{_num(x)}" y1="48" y2="56"/>')
        if tick % 20 == 0:
            parts.append(f'<text class="tick" x="{_num(x)}" y="74" text-anchor="middle">{tick}%</text>')
    band = f"{confidence:.0%} Wilson interval {lower:.1%} - {upper:.1%}"
    parts.append(
        f'<rect class="band" x="{_num(x_of(lower))}" y="40" width="{_num(max(x_of(upper) - x_of(lower), 1.0))}" '
        f'height="24" rx="4" data-lower="{lower:.6f}" data-upper="{upper:.6f}"><title>{escape(band)}</title></rect>'
    )
    if max_rate is not None:
        x = x_of(max_rate)
        parts.append(
            f'<line class="threshold error" x1="{_num(x)}" x2="{_num(x)}" y1="28" y2="68">'
            f"<title>--max-rate {max_rate:.1%}</title></line>"
            f'<text class="tick" x="{_num(x)}" y="22" text-anchor="middle">max {max_rate:.0%}</text>'
        )
    if rate is not None:
        parts.append(
            f'<circle class="rate" cx="{_num(x_of(rate))}" cy="52" r="6" data-rate="{rate:.6f}">'
            f"<title>observed {rate:.1%}</title></circle>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
