"""The burst guard's margin, computed in Python from the interval text of a table's settings.

The row trigger of the burst guard (schema 1.2 on) fires only for rows whose business date is more than a margin,
``(min_span - window) / 2``, from their stamp (and, since 1.3, stamped after ``now()`` minus that margin).
``guard.install_triggers`` writes that margin into the trigger's ``WHEN`` clause as a literal computed by
``guard.burst_margin()``; a migration renders its DDL in Python (:mod:`guard.db.ddl`), offline too, so it needs
the same number without a database. A literal matters: a call of ``guard.burst_margin()`` in the ``WHEN`` clause
is correct but is folded again for every statement, which costs a one-row INSERT about 0.3 ms.

Only interval text without months or years is read here (what ``guard protect`` writes: ``'1 minute'``,
``'180 days'``, and PostgreSQL's own output of such intervals: ``'00:01:00'``, ``'3 days 04:05:06.5'``). A month
has no fixed length in timestamp arithmetic, so for those :func:`margin_literal` returns None and the caller
falls back to the function call.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from guard.durations import UNITS

_MICROSECONDS = Decimal(1_000_000)
#: PostgreSQL's sub-second unit spellings, which guard's durations do not take
_SMALL_UNITS = {
    "us": Decimal(1),
    "usec": Decimal(1),
    "usecs": Decimal(1),
    "microsecond": Decimal(1),
    "microseconds": Decimal(1),
    "msec": Decimal(1000),
    "msecs": Decimal(1000),
    "millisecond": Decimal(1000),
    "milliseconds": Decimal(1000),
}


def interval_microseconds(text: str) -> int | None:
    """``'1 minute'`` -> 60000000; None for text with months or years, or that this reader does not know."""
    tokens = text.replace("@", " ").split()
    total = Decimal(0)
    index = 0
    try:
        while index < len(tokens):
            token = tokens[index]
            if ":" in token:
                total += _clock(token)
                index += 1
                continue
            number, unit = Decimal(token), tokens[index + 1].lower().rstrip(",")
            if unit in _SMALL_UNITS:
                total += number * _SMALL_UNITS[unit]
            elif unit in UNITS:
                total += number * Decimal(str(UNITS[unit])) * _MICROSECONDS
            else:
                return None  # months, years, "ago", or a spelling not read here
            index += 2
    except (InvalidOperation, IndexError):
        return None
    return int(total)


def _clock(token: str) -> Decimal:
    """``'04:05:06.5'`` (or ``'-00:01'``) as microseconds."""
    sign = Decimal(-1) if token.startswith("-") else Decimal(1)
    parts = [Decimal(part) for part in token.lstrip("+-").split(":")]
    if len(parts) > 3:
        raise InvalidOperation(token)
    hours, minutes, seconds = (parts + [Decimal(0)] * 3)[:3]
    return sign * (hours * 3600 + minutes * 60 + seconds) * _MICROSECONDS


def margin_literal(window: str, min_span: str) -> str | None:
    """``guard.burst_margin(window, min_span)`` as interval input text (``'7775970 seconds'``), or None."""
    window_us, span_us = interval_microseconds(window), interval_microseconds(min_span)
    if window_us is None or span_us is None:
        return None
    margin = max(span_us - window_us, 0) // 2  # rounded down to the microsecond, as guard.burst_margin() does
    whole, fraction = divmod(margin, 1_000_000)
    return f"{whole}.{fraction:06d} seconds" if fraction else f"{whole} seconds"
