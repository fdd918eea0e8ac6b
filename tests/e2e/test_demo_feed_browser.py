"""The demo's feed in a real browser: an EventSource the server cuts off resumes without loss.

The server ends every feed stream after 5 events; Chromium's ``EventSource``
reconnects on its own with ``Last-Event-ID``, and ``app.broadcast.sse`` resumes
the ``feed`` channel from there. The page lists each tick with its id: across
several reconnects the ids must follow one another with none missing or repeated.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e import _server
from tests.e2e._browser import RunningBrowser, connect_devtools, launch_chromium, require_chromium
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
def browser() -> Iterator[RunningBrowser]:
    with launch_chromium(require_chromium()) as running:
        yield running


_TICK_NUMBERS = (
    "[...document.querySelectorAll('#feed li')]"
    ".map(li => li.textContent.match(/^#\\S*-(\\d+) /))"
    ".filter(m => m).map(m => Number(m[1])).reverse()"
)


async def test_the_feed_reconnects_and_misses_no_tick(
    server: RunningServer, browser: RunningBrowser
) -> None:
    async with connect_devtools(browser) as devtools:
        page = await devtools.open_page(f"{server.http_url}/")
        await page.wait_until(
            f"({_TICK_NUMBERS}).length >= {TICKS}",
            what=f"{TICKS} ticks in the feed, across several server-ended streams",
            timeout=60,
        )
        numbers = await page.evaluate(_TICK_NUMBERS)
        gaps = await page.evaluate(
            "[...document.querySelectorAll('#feed li')]"
            ".filter(li => li.textContent.includes('missed')).length"
        )
        assert page.exceptions == []
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), numbers
    assert gaps == 0
    # Every stream ended after 5 events, so the browser reconnected at least twice.
    assert server.log().count("GET /events") >= 3
