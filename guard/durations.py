"""Durations, read one way by every command and every config key: a number *and* a unit.

Bare numbers used to mean hours in ``--window``, ``--since``, ``--statement-timeout`` and config values, but
seconds in ``migrate --lock-timeout``: ``--statement-timeout 30`` waited 30 hours. A bare number is now refused
with a message asking for a unit, everywhere, so no reader has to remember which command counts in what.
"""

from __future__ import annotations

import re

#: Unit spellings -> seconds.
UNITS = {
    "ms": 0.001,
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
}
EXAMPLES = "90s, 15m, 2h or 7d"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)\s*$", re.IGNORECASE)


def parse_duration(value: str | int | float) -> float:
    """``"24h"`` -> 86400.0 seconds. Raises ValueError with a message fit for the user (no traceback needed)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"not a duration: {value!r}; write a number and a unit, such as {EXAMPLES}")
    if isinstance(value, int | float):
        raise ValueError(f"{value:g} has no unit; write a number and a unit, such as {EXAMPLES}")
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"not a duration: {value!r}; write a number and a unit, such as {EXAMPLES}")
    number, unit = match.groups()
    if not unit:
        raise ValueError(f"{value.strip()!r} has no unit; write a number and a unit, such as {EXAMPLES}")
    seconds = UNITS.get(unit.lower())
    if seconds is None:
        known = "ms, s, m, h, d or w"
        raise ValueError(f"not a duration: {value.strip()!r} (unknown unit {unit!r}); use {known}, e.g. {EXAMPLES}")
    return float(number) * seconds


def format_duration(seconds: float) -> str:
    """86400.0 -> "1d", 90.0 -> "90s": the largest unit that divides evenly, as :func:`parse_duration` reads back."""
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
