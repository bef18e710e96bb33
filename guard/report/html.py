"""The one HTML renderer: a Jinja2 environment over the template family in ``guard/report/templates``.

Every report (scan, detect, freshness, coverage, doctor) extends ``base.html.j2``, which inlines the
stylesheet and the small filtering script, so each report is one self-contained file: no network fetch,
opens from ``file://``, survives as a CI artifact, and reads on a phone (a fluid layout, no fixed widths).
Autoescaping is on for everything; charts arrive as :class:`markupsafe.Markup` from :mod:`guard.report.svg`.
Templates ship in the wheel as package data and are loaded through the package, not the file system path.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from guard import __version__

_ENV: Environment | None = None


def environment() -> Environment:
    """The shared environment (built once: template compilation is the slow part)."""
    global _ENV
    if _ENV is None:
        env = Environment(
            loader=PackageLoader("guard.report", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True),
            undefined=StrictUndefined,  # a misspelt field fails the test suite instead of rendering blank
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["num"] = number
        env.filters["when"] = when
        env.filters["pct"] = percent
        _ENV = env
    return _ENV


def render(template: str, *, title: str, command: str, **context: Any) -> str:
    """Render one report page; ``command`` is shown in the header and stored in ``<body data-command>``."""
    generated = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = environment().get_template(template)
    return page.render(title=title, command=command, generated=generated, version=__version__, **context)


def number(value: Any) -> str:
    """``10,461``; decimals keep two places (money); None is a dash."""
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def when(value: Any) -> str:
    """Timestamps as people read them in an incident report: ``2026-04-03 04:07`` (UTC), dates as dates."""
    if value is None:
        return "-"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc)
        suffix = " UTC" if value.tzinfo is not None else ""
        if value.time() == dt.time(0):
            return f"{value:%Y-%m-%d}"
        if value.second == 0 and value.microsecond == 0:
            return f"{value:%Y-%m-%d %H:%M}{suffix}"
        return f"{value:%Y-%m-%d %H:%M:%S}{suffix}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"
