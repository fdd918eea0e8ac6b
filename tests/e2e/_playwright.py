"""Headless Chromium for the browser tests, driven by Playwright for Python.

Playwright drives Debian's Chromium (``/usr/bin/chromium``, installed by
``.ci/install-browser``) through ``executable_path``, so nothing is downloaded at
test time. The flags keep a root-run headless browser quiet on a machine with no
network: no sandbox (root), no GPU, and none of the background services that
would otherwise try to reach Google's hosts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response, sync_playwright

CHROMIUM: Final = Path("/usr/bin/chromium")
"""Where Debian's ``chromium`` package (``.ci/install-browser``) puts the browser."""

CHROMIUM_ARGS: Final = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
)

TIMEOUT_MS: Final = 30_000
"""Every Playwright wait in these tests is bounded by this (milliseconds)."""


def require_chromium(executable: Path = CHROMIUM) -> Path:
    """Return ``executable``, or fail the test saying how to install it."""
    if not executable.exists():
        pytest.fail(
            f"expected Chromium at {executable}, found nothing: run .ci/install-browser "
            "(Debian's `apt-get install chromium`), which `make test` runs before pytest."
        )
    return executable


@contextmanager
def chromium() -> Iterator[Browser]:
    """Launch headless Chromium for the duration of the block, and always close it."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(require_chromium()),
            headless=True,
            args=list(CHROMIUM_ARGS),
            timeout=TIMEOUT_MS,
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageWatch:
    """What went wrong on a page while it was open: console errors and failed requests."""

    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Every console error and failed request seen, one line each."""
        return [*self.console_errors, *self.failed_requests]


def watch(page: Page) -> PageWatch:
    """Record the console errors, uncaught exceptions and failed requests of ``page``."""
    seen = PageWatch()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            seen.console_errors.append(f"console error: {message.text}")

    def on_page_error(error: Exception) -> None:
        seen.console_errors.append(f"uncaught exception: {error}")

    def on_request_failed(request: Request) -> None:
        # A request cut short because the test navigated on (a favicon, the search
        # worker's index) is not a failure of the page; any other error is.
        if request.failure != "net::ERR_ABORTED":
            seen.failed_requests.append(f"request failed: {request.url} ({request.failure})")

    def on_response(response: Response) -> None:
        if response.status >= 400:
            seen.failed_requests.append(f"HTTP {response.status}: {response.url}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    page.on("requestfailed", on_request_failed)
    page.on("response", on_response)
    page.set_default_timeout(TIMEOUT_MS)
    return seen
