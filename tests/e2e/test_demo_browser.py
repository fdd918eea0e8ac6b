"""The demo page in a real browser: headless Chromium against the demo under uvicorn.

Two windows open the page, join the chat under two names and talk: the page's
own JavaScript opens the WebSocket (the token in a ``bearer.`` subprotocol
entry) and the EventSource feed (the token in ``?access_token=``), so this
checks what the in-process and client-library tests cannot: that a browser
accepts the handshake, the Origin check admits the page, and the page renders
what arrives. The demo is served on a free port, never 8000, with no origin
configured: its ``allowed_origins: ["self"]`` must admit the page wherever it
is served. Chromium comes from ``.ci/install-browser``; without it the tests
fail and say so.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e import _server
from tests.e2e._browser import (
    DevTools,
    Page,
    RunningBrowser,
    connect_devtools,
    launch_chromium,
    require_chromium,
)
from tests.e2e._server import RunningServer, serve

pytestmark = pytest.mark.e2e

TOKEN = "browser-demo-token"
DEFAULT_PORT = 8000


@pytest.fixture(scope="module", params=["websockets-sansio", "wsproto"])
def server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    """The demo under ``lanner serve``, once per uvicorn WebSocket implementation.

    Nothing tells it the port: it allows its own page's origin whatever the port.
    """
    port = _server.free_port()
    while port == DEFAULT_PORT:
        port = _server.free_port()
    env = {"LANNER_DISABLE_PLUGIN_AUTOLOAD": "0", "LANNER_DEMO_TOKEN": TOKEN}
    with serve("demo_app:app", ws=request.param, env=env, cli=True, port=port) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[RunningBrowser]:
    """One headless Chromium for the module; each test opens its own windows."""
    with launch_chromium(require_chromium()) as running:
        yield running


def _js(value: str) -> str:
    """``value`` as a JavaScript string literal."""
    return json.dumps(value)


def _shows_message(name: str, text: str) -> str:
    return (
        "[...document.querySelectorAll('#messages li.message')].some(li => "
        f"li.querySelector('.who').textContent === {_js(name + ':')} && "
        f"li.querySelector('.text').textContent === {_js(text)})"
    )


async def _join(devtools: DevTools, server: RunningServer, name: str) -> Page:
    """Open the page, wait for it to connect, then rejoin as ``name`` via the name form."""
    page = await devtools.open_page(f"{server.http_url}/")
    await page.wait_until(
        "document.getElementById('status').classList.contains('on')",
        what="the chat badge to turn on (WebSocket open)",
    )
    await page.evaluate(
        f"document.getElementById('name').value = {_js(name)};"
        "document.querySelector('#name-form button').click()"
    )
    await page.wait_until(
        f"document.getElementById('status').textContent === {_js('online as ' + name)}",
        what=f"the chat badge to read 'online as {name}'",
    )
    await page.wait_until(
        f"document.getElementById('messages').textContent.includes({_js('You joined as ' + name)})",
        what=f"the welcome line for {name}",
    )
    return page


async def _say(page: Page, text: str) -> None:
    """Type ``text`` into the message box and press Send, as a person would."""
    await page.evaluate(
        f"document.getElementById('text').value = {_js(text)};"
        "document.querySelector('#send-form button').click()"
    )
    await page.wait_until(
        "document.getElementById('text').value === ''",
        what="the page to send the message and clear the box",
    )


async def test_two_windows_chat_over_the_websocket(
    server: RunningServer, browser: RunningBrowser
) -> None:
    async with connect_devtools(browser) as devtools:
        ada = await _join(devtools, server, "ada")
        bob = await _join(devtools, server, "bob")
        await ada.wait_until(
            "document.getElementById('messages').textContent.includes('bob joined')",
            what="ada's window to announce that bob joined",
        )

        await _say(ada, "hello from a browser")

        for page in (ada, bob):
            await page.wait_until(
                _shows_message("ada", "hello from a browser"),
                what="ada's message in the chat log",
            )
        assert ada.exceptions == []
        assert bob.exceptions == []


async def test_the_chat_connects_on_a_port_other_than_8000(
    server: RunningServer, browser: RunningBrowser
) -> None:
    assert server.port != DEFAULT_PORT
    async with connect_devtools(browser) as devtools:
        page = await _join(devtools, server, "porter")
        assert await page.evaluate("location.port") == str(server.port)
        assert page.exceptions == []
    assert "Refused WebSocket handshake" not in server.log()


async def test_markup_in_a_message_is_shown_as_text(
    server: RunningServer, browser: RunningBrowser
) -> None:
    async with connect_devtools(browser) as devtools:
        ada = await _join(devtools, server, "ada")
        bob = await _join(devtools, server, "bob")

        await _say(ada, "<b>x</b>")

        for page in (ada, bob):
            await page.wait_until(_shows_message("ada", "<b>x</b>"), what="the literal <b>x</b>")
            assert await page.evaluate("document.querySelectorAll('#messages b').length") == 0
        # The feed's "Last:" line repeats the text, also as text.
        await bob.wait_until(
            "document.getElementById('last').textContent === 'Last: ada: <b>x</b>'",
            what="the feed's last message to show <b>x</b> literally",
        )
        assert await bob.evaluate("document.querySelectorAll('#last b').length") == 0


async def test_feed_panel_goes_live_and_follows_the_chat(
    server: RunningServer, browser: RunningBrowser
) -> None:
    async with connect_devtools(browser) as devtools:
        ada = await _join(devtools, server, "ada")
        await ada.wait_until(
            "document.getElementById('feed-status').textContent === 'live'",
            what="the feed badge to read 'live' (EventSource open)",
        )
        first = await ada.wait_until(
            "document.querySelectorAll('#feed li').length", what="a first tick in the feed"
        )
        await ada.wait_until(
            f"document.querySelectorAll('#feed li').length > {first}",
            what="another tick (one a second)",
        )
        assert await ada.evaluate("document.getElementById('feed-time').textContent") != "--:--:--"

        await _say(ada, "seen by the feed")
        await ada.wait_until(
            "document.getElementById('last').textContent === 'Last: ada: seen by the feed'",
            what="the next tick to carry the new message",
        )
        # The feed works because the page sends the token: without it the API refuses.
        assert await ada.evaluate("fetch('/api/messages').then(r => r.status)") == 401
        assert ada.exceptions == []


async def test_screenshot_of_the_page_is_a_png(
    server: RunningServer, browser: RunningBrowser, tmp_path: Path
) -> None:
    async with connect_devtools(browser) as devtools:
        ada = await _join(devtools, server, "ada")
        await _say(ada, "smile for the screenshot")
        await ada.wait_until(
            _shows_message("ada", "smile for the screenshot"), what="the message to show"
        )

        png = await ada.screenshot(tmp_path / "demo.png")

    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])  # from the IHDR chunk
    assert (width, height) > (1000, 500)  # the window is 1280 wide; a real viewport
    assert len(png) > 20_000  # a blank page of that size is about 5 kB; the demo about 80
    assert (tmp_path / "demo.png").read_bytes() == png
