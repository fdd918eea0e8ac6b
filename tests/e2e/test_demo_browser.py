"""The demo page in a real browser: headless Chromium against the demo under uvicorn.

Two windows open the page, join the chat under two names and talk: the page's
own JavaScript opens the WebSocket (the token in a ``bearer.`` subprotocol
entry) and the EventSource feed (the token in ``?access_token=``), so this
checks what the in-process and client-library tests cannot: that a browser
accepts the handshake, the Origin check admits the page, and the page renders
what arrives. The demo is served on a free port, never 8000, with no origin
configured: its ``allowed_origins: ["self"]`` must admit the page wherever it
is served. Playwright drives Debian's Chromium (``.ci/install-browser``);
without it the tests fail and say so.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.e2e import _server
from tests.e2e._playwright import PageWatch, chromium, watch
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
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module; each test opens its own windows."""
    with chromium() as running:
        yield running


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile per test, closed after it so no window outlives its test."""
    opened = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        yield opened
    finally:
        opened.close()


def _js(value: str) -> str:
    """``value`` as a JavaScript string literal."""
    return json.dumps(value)


def _shows_message(name: str, text: str) -> str:
    return (
        "() => [...document.querySelectorAll('#messages li.message')].some(li => "
        f"li.querySelector('.who').textContent === {_js(name + ':')} && "
        f"li.querySelector('.text').textContent === {_js(text)})"
    )


def _join(context: BrowserContext, server: RunningServer, name: str) -> tuple[Page, PageWatch]:
    """Open the page in a new window, wait for it to connect, then rejoin as ``name``."""
    page = context.new_page()
    seen = watch(page)
    page.goto(f"{server.http_url}/")
    page.wait_for_function("() => document.getElementById('status').classList.contains('on')")
    page.fill("#name", name)
    page.click("#name-form button")
    page.wait_for_function(
        f"() => document.getElementById('status').textContent === {_js('online as ' + name)}"
    )
    page.wait_for_function(
        "() => document.getElementById('messages').textContent"
        f".includes({_js('You joined as ' + name)})"
    )
    return page, seen


def _say(page: Page, text: str) -> None:
    """Type ``text`` into the message box and press Send, as a person would."""
    page.fill("#text", text)
    page.click("#send-form button")
    page.wait_for_function("() => document.getElementById('text').value === ''")


def test_two_windows_chat_over_the_websocket(
    server: RunningServer, context: BrowserContext
) -> None:
    ada, ada_seen = _join(context, server, "ada")
    bob, bob_seen = _join(context, server, "bob")
    ada.wait_for_function(
        "() => document.getElementById('messages').textContent.includes('bob joined')"
    )

    _say(ada, "hello from a browser")

    for page in (ada, bob):
        page.wait_for_function(_shows_message("ada", "hello from a browser"))
    assert ada_seen.console_errors == []
    assert bob_seen.console_errors == []


def test_the_chat_connects_on_a_port_other_than_8000(
    server: RunningServer, context: BrowserContext
) -> None:
    assert server.port != DEFAULT_PORT
    page, seen = _join(context, server, "porter")
    assert page.evaluate("location.port") == str(server.port)
    assert seen.console_errors == []
    assert "Refused WebSocket handshake" not in server.log()


def test_markup_in_a_message_is_shown_as_text(
    server: RunningServer, context: BrowserContext
) -> None:
    ada, _ = _join(context, server, "ada")
    bob, _ = _join(context, server, "bob")

    _say(ada, "<b>x</b>")

    for page in (ada, bob):
        page.wait_for_function(_shows_message("ada", "<b>x</b>"))
        assert page.locator("#messages b").count() == 0
    # The feed's "Last:" line repeats the text, also as text.
    bob.wait_for_function(
        "() => document.getElementById('last').textContent === 'Last: ada: <b>x</b>'"
    )
    assert bob.locator("#last b").count() == 0


def test_feed_panel_goes_live_and_follows_the_chat(
    server: RunningServer, context: BrowserContext
) -> None:
    ada, seen = _join(context, server, "ada")
    ada.wait_for_function("() => document.getElementById('feed-status').textContent === 'live'")
    first = ada.wait_for_function("() => document.querySelectorAll('#feed li').length").json_value()
    ada.wait_for_function(f"() => document.querySelectorAll('#feed li').length > {first}")
    assert ada.text_content("#feed-time") != "--:--:--"

    _say(ada, "seen by the feed")
    ada.wait_for_function(
        "() => document.getElementById('last').textContent === 'Last: ada: seen by the feed'"
    )
    assert seen.console_errors == []
    # The feed works because the page sends the token: without it the API refuses.
    assert ada.evaluate("fetch('/api/messages').then(r => r.status)") == 401


def test_screenshot_of_the_page_is_a_png(
    server: RunningServer, context: BrowserContext, tmp_path: Path
) -> None:
    ada, _ = _join(context, server, "ada")
    _say(ada, "smile for the screenshot")
    ada.wait_for_function(_shows_message("ada", "smile for the screenshot"))

    png = ada.screenshot(path=tmp_path / "demo.png")

    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])  # from the IHDR chunk
    assert (width, height) > (1000, 500)  # the window is 1280 wide; a real viewport
    assert len(png) > 20_000  # a blank page of that size is about 5 kB; the demo about 80
    assert (tmp_path / "demo.png").read_bytes() == png
