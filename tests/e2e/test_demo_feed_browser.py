"""The demo's feed in a real browser: an EventSource the server cuts off resumes without loss.

The server ends every feed stream after 5 events; Chromium's ``EventSource``
reconnects on its own with ``Last-Event-ID``, and ``app.broadcast.sse`` resumes
the ``feed`` channel from there. The page lists each tick with its id: across
several reconnects the ids must follow one another with none missing or repeated.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.e2e import _server
from tests.e2e._playwright import TIMEOUT_MS, chromium, watch
from tests.e2e._server import RunningServer, serve

pytestmark = pytest.mark.e2e

TOKEN = "feed-browser-token"
TICKS = 14  # three streams of 5 events at least


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    port = _server.free_port()
    env = {
        "LANNER_DISABLE_PLUGIN_AUTOLOAD": "0",
        "LANNER_DEMO_TOKEN": TOKEN,
        "LANNER_DEMO_ORIGINS": f"http://127.0.0.1:{port}",
    }
    with serve("demo_rotating_app:app", env=env, cli=True, port=port) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


_TICK_NUMBERS = (
    "[...document.querySelectorAll('#feed li')]"
    ".map(li => li.textContent.match(/^#\\S*-(\\d+) /))"
    ".filter(m => m).map(m => Number(m[1])).reverse()"
)


def test_the_feed_reconnects_and_misses_no_tick(server: RunningServer, browser: Browser) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        seen = watch(page)
        page.goto(f"{server.http_url}/")
        page.wait_for_function(f"() => ({_TICK_NUMBERS}).length >= {TICKS}", timeout=2 * TIMEOUT_MS)
        numbers = page.evaluate(f"() => {_TICK_NUMBERS}")
        gaps = page.evaluate(
            "() => [...document.querySelectorAll('#feed li')]"
            ".filter(li => li.textContent.includes('missed')).length"
        )
    finally:
        context.close()
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), numbers
    assert gaps == 0
    assert seen.problems() == []
    # Every stream ended after 5 events, so the browser reconnected at least twice.
    assert server.log().count("GET /events") >= 3
