"""A real headless Chromium for the HTML report tests: Debian's ``chromium`` driven over the DevTools protocol.

playwright (a PyPI package) is only the protocol client here: it launches the system browser
(``/usr/bin/chromium``, or ``GUARD_CHROMIUM``), never a browser it downloaded. ``scripts/bootstrap.sh``
installs chromium when it is missing; if it still cannot be found, the tests that need it are skipped and
the skip says why.

Every page is opened from ``file://`` with a record of failed requests, requests that left the file
system, console errors and uncaught exceptions, so "self-contained" is checked, not assumed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

#: the flags a root user in a container needs, and those that keep Chromium from calling home
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]
#: screenshots are kept here (a CI artifact); override with GUARD_TEST_ARTIFACTS
ARTIFACTS = Path(
    os.environ.get("GUARD_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / "build" / "test-artifacts")
)
LOCAL_SCHEMES = ("file:", "data:", "about:")


def chromium_path() -> str | None:
    configured = os.environ.get("GUARD_CHROMIUM")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class LoadedPage:
    """A page loaded from a file, and everything that went wrong (or over the network) while loading it."""

    page: Any
    failed: list[str] = field(default_factory=list)
    remote: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def screenshot(self, name: str, *, full_page: bool = True) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        target = ARTIFACTS / name
        self.page.screenshot(path=str(target), full_page=full_page)
        return target

    def assert_self_contained(self) -> None:
        assert self.failed == [], f"failed requests: {self.failed}"
        assert self.remote == [], f"requests that left file://: {self.remote}"
        assert self.errors == [], f"console errors: {self.errors}"


class Browser:
    def __init__(self, browser: Any) -> None:
        self.browser = browser

    def open(self, html_file: Path, *, width: int = 1280, height: int = 900) -> LoadedPage:
        page = self.browser.new_page(viewport={"width": width, "height": height})
        loaded = LoadedPage(page)
        page.on("requestfailed", lambda request: loaded.failed.append(f"{request.url}: {request.failure}"))
        page.on("request", lambda request: _remote(loaded, request.url))
        page.on("console", lambda message: _console(loaded, message))
        page.on("pageerror", lambda error: loaded.errors.append(str(error)))
        page.goto(html_file.resolve().as_uri(), wait_until="load")
        return loaded


def _remote(loaded: LoadedPage, url: str) -> None:
    if not url.startswith(LOCAL_SCHEMES):
        loaded.remote.append(url)


def _console(loaded: LoadedPage, message: Any) -> None:
    if message.type == "error":
        loaded.errors.append(message.text)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    if executable is None:
        pytest.skip(
            "no chromium found (scripts/bootstrap.sh installs Debian's chromium): HTML reports not checked in a browser"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright (the DevTools client, in the test extra) is not installed: run scripts/bootstrap.sh")
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield Browser(launched)
        finally:
            launched.close()
