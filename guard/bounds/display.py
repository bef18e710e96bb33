"""How metric values and ranges read in tables: ``$6.45M`` against ``[$20K, $200K]``."""

from __future__ import annotations

from decimal import Decimal

from guard.bounds.evaluate import MetricResult


def compact(value: Decimal | None, unit: str = "") -> str:
    """``6451383`` -> ``6.45M`` (with ``unit = "$"``: ``$6.45M``); small numbers keep two decimals at most."""
    if value is None:
        return "-"
    sign, magnitude = ("-" if value < 0 else ""), abs(value)
    text = f"{magnitude.normalize():f}" if magnitude == magnitude.to_integral() else f"{magnitude:,.2f}"
    for size, suffix in ((Decimal(10**9), "B"), (Decimal(10**6), "M"), (Decimal(10**3), "K")):
        if magnitude >= size:
            text = f"{magnitude / size:.3g}{suffix}"
            break
    return f"{sign}{unit}{text}" if unit in ("$", "€", "£") else f"{sign}{text}{' ' + unit if unit else ''}"


def range_text(result: MetricResult) -> str:
    unit = result.metric.unit
    if result.lower is None and result.upper is None:
        return "-"
    low = compact(result.lower, unit) if result.lower is not None else "-inf"
    high = compact(result.upper, unit) if result.upper is not None else "+inf"
    return f"[{low}, {high}]"
