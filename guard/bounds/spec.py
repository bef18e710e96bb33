"""Metric declarations (``[metrics.NAME]`` in guard.toml), validated before any query runs.

A metric is one read-only ``SELECT`` returning one number (and, when ``min_rows`` is set, the sample size as
a second column). It is checked against fixed bounds (``min``/``max``) and/or against its own history
(``within = "3x"`` of the trailing median). History needs the query to be evaluated over past windows, so a
metric that wants it writes its window as two placeholders, ``:period_start`` and ``:period_end`` (half-open:
``created_at >= :period_start AND created_at < :period_end``), and says how long one window is
(``period = "7d"``). guard substitutes timestamp literals it generates itself, never user text.

The SQL is validated with the Postgres parser (pglast): exactly one ``SELECT``, nothing that writes, locks
or creates a table anywhere in the tree; the placeholders are found with the scanner's tokens, so a
``':period_start'`` inside a string or a ``::`` cast is never mistaken for one.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from guard.config import ConfigError
from guard.durations import parse_duration
from guard.errors import GuardError
from guard.scan.sql.placeholders import placeholder_spans
from guard.watch.predicate import check_read_only_tree

PERIOD_START = "period_start"
PERIOD_END = "period_end"
PLACEHOLDERS = (PERIOD_START, PERIOD_END)
DEFAULT_HISTORY = 8
#: a median over fewer past periods than this is noise, not a baseline
MIN_HISTORY = 3

_KEYS = {"sql", "min", "max", "within", "period", "history", "min_rows", "unit", "why"}


@dataclass(frozen=True)
class Within:
    """A band around the trailing median: ``3x`` -> [median/3, median*3]; ``50%`` -> [median*0.5, median*1.5]."""

    text: str
    factor: Decimal  # > 1 for "x"; the fraction for "%"
    relative: bool  # True for "%"

    def bounds(self, median: Decimal) -> tuple[Decimal, Decimal]:
        if self.relative:
            low, high = median * (1 - self.factor), median * (1 + self.factor)
        else:
            low, high = median / self.factor, median * self.factor
        return (min(low, high), max(low, high))  # a negative median flips the band


@dataclass(frozen=True)
class Metric:
    name: str
    sql: str
    min: Decimal | None = None
    max: Decimal | None = None
    within: Within | None = None
    period: float | None = None  # seconds
    history: int = DEFAULT_HISTORY
    min_rows: int | None = None
    unit: str = ""
    why: str = ""
    #: (start, end, name) of each placeholder in ``sql``
    placeholders: tuple[tuple[int, int, str], ...] = ()
    functions: tuple[str, ...] = ()  # called by the query (checked for volatility in the database)
    operators: tuple[str, ...] = ()

    @property
    def windowed(self) -> bool:
        """True when the query takes ``:period_start``/``:period_end`` (so it can be evaluated in the past)."""
        return bool(self.placeholders)

    def render(self, start: dt.datetime | None, end: dt.datetime | None) -> str:
        """The SQL to run for the window ``[start, end)``: placeholders become ``timestamptz`` literals."""
        if not self.placeholders:
            return self.sql
        if start is None or end is None:
            raise GuardError(f"metric {self.name}: its query needs a window (period_start/period_end)")
        values = {PERIOD_START: _literal(start), PERIOD_END: _literal(end)}
        pieces, position = [], 0
        for begin, finish, name in self.placeholders:
            pieces += [self.sql[position:begin], values[name]]
            position = finish
        pieces.append(self.sql[position:])
        return "".join(pieces)


def _literal(moment: dt.datetime) -> str:
    """A ``timestamptz`` literal of a datetime guard computed (ISO text has no quote to escape)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return f"'{moment.isoformat()}'::timestamptz"


def load_metrics(raw: dict[str, Any], source: str | None) -> list[Metric]:
    """Validate every ``[metrics.NAME]`` table; raises :class:`ConfigError` naming the file and key."""
    where = source or "<config>"
    return [parse_metric(name, settings, where) for name, settings in raw.items()]


def parse_metric(name: str, raw: dict[str, Any], source: str = "<config>") -> Metric:
    prefix = f"metrics.{name}"

    def fail(key: str, problem: str) -> ConfigError:
        return ConfigError(f"{source}: {prefix}{'.' + key if key else ''}: {problem}")

    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise fail(unknown[0], f"unknown key (known: {', '.join(sorted(_KEYS))})")
    text = raw.get("sql")
    if not isinstance(text, str) or not text.strip():
        raise fail("sql", "required: a read-only SELECT returning one number")
    for key in ("unit", "why"):
        if not isinstance(raw.get(key, ""), str):
            raise fail(key, "must be a string")
    low, high = _number(raw, "min", fail), _number(raw, "max", fail)
    if low is not None and high is not None and low > high:
        raise fail("max", f"is below min ({high} < {low})")
    within = _within(raw["within"], fail) if "within" in raw else None
    period = None
    if "period" in raw:
        try:
            period = parse_duration(raw["period"])
        except ValueError as exc:
            raise fail("period", str(exc)) from None
        if period <= 0:
            raise fail("period", "must be longer than zero")
    history = _positive_int(raw, "history", fail, DEFAULT_HISTORY, minimum=MIN_HISTORY)
    min_rows = _positive_int(raw, "min_rows", fail, None, minimum=1)
    try:
        placeholders = period_placeholders(text, f"{prefix}.sql")
    except GuardError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    if low is None and high is None and within is None:
        raise fail("", "give min and/or max, or within (a band around the trailing median)")
    if placeholders and period is None:
        raise fail("period", "the query uses :period_start/:period_end, so say how long one window is (e.g. '7d')")
    if period is not None and not placeholders:
        raise fail("sql", "period is set but the query has no :period_start/:period_end; write its window with them")
    if within is not None and not placeholders:
        raise fail(
            "within",
            "needs the query's own history: write its window as :period_start/:period_end and set period",
        )
    metric = Metric(
        name=name, sql=text, min=low, max=high, within=within, period=period, history=history,
        min_rows=min_rows, unit=raw.get("unit", ""), why=raw.get("why", ""), placeholders=placeholders,
    )  # fmt: skip
    try:
        functions, operators = check_metric_sql(metric)
    except GuardError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    return replace(metric, functions=tuple(sorted(functions)), operators=tuple(sorted(operators)))


def _number(raw: dict[str, Any], key: str, fail: Any) -> Decimal | None:
    if key not in raw:
        return None
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(key, f"must be a number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise fail(key, "must be a finite number")
    return Decimal(str(value))


def _positive_int(raw: dict[str, Any], key: str, fail: Any, default: int | None, minimum: int) -> Any:
    if key not in raw:
        return default
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise fail(key, f"must be an integer >= {minimum}, got {value!r}")
    return value


def _within(value: Any, fail: Any) -> Within:
    """``"3x"`` or ``"50%"``."""
    if not isinstance(value, str) or len(value.strip()) < 2 or value.strip()[-1].lower() not in "x%":
        raise fail("within", f"must be a factor like '3x' or a percentage like '50%', got {value!r}")
    text = value.strip()
    try:
        amount = Decimal(text[:-1])
    except InvalidOperation:
        raise fail("within", f"must be a factor like '3x' or a percentage like '50%', got {value!r}") from None
    if text[-1] == "%":
        if amount <= 0:
            raise fail("within", "a percentage must be above 0")
        return Within(text=text, factor=amount / 100, relative=True)
    if not amount > 1:
        raise fail("within", "a factor must be above 1 (3x means between a third and three times the median)")
    return Within(text=text.lower(), factor=amount, relative=False)


def period_placeholders(text: str, subject: str) -> tuple[tuple[int, int, str], ...]:
    """``(start, end, name)`` of each ``:period_start``/``:period_end``; any other placeholder is refused."""
    from pglast.parser import scan

    try:
        tokens = scan(text)
    except Exception as exc:  # pglast raises its own ParseError for unterminated quotes and the like
        raise GuardError(f"{subject}: not valid SQL ({exc})") from None
    found = []
    for start, end, replacement in placeholder_spans(text, tokens):
        spelled = text[start:end]
        name = spelled[1:]
        if replacement is not None or not spelled.startswith(":") or name not in PLACEHOLDERS:
            raise GuardError(
                f"{subject}: placeholder {spelled} is not supported; a metric query may only use "
                ":period_start and :period_end (guard fills them in for each window)"
            )
        found.append((start, end, name))
    return tuple(found)


def check_metric_sql(metric: Metric) -> tuple[set[str], set[str]]:
    """Exactly one SELECT that only reads; raises :class:`GuardError` saying what is not allowed.

    Returns the functions and operators the query calls: whether they are volatile (can write) is only known
    to the database, so ``guard bounds`` checks them there before running anything.
    """
    from pglast import ast, parse_sql
    from pglast.parser import ParseError

    subject = f"metrics.{metric.name}.sql"
    sample = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    try:
        statements = parse_sql(metric.render(sample, sample))
    except ParseError as exc:
        message = exc.args[0] if exc.args else str(exc)
        raise GuardError(f"{subject}: not valid SQL ({message})") from None
    if len(statements) != 1:
        raise GuardError(f"{subject}: must be a single SELECT; ';' and further statements are not allowed")
    select = statements[0].stmt
    if not isinstance(select, ast.SelectStmt):
        raise GuardError(f"{subject}: must be a SELECT returning one number, not a {type(select).__name__}")
    return check_read_only_tree(select, subject)
