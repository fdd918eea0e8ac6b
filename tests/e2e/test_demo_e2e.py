"""The demo under a real server, started the way ``make run`` starts it (``lanner serve``).

Both plugins load through their entry points, as in ``make run``; the token comes
from ``LANNER_DEMO_TOKEN``. The page, the API, a chat round trip between two real
``websockets`` clients (under each uvicorn WebSocket implementation) and the SSE
feed read with ``httpx`` streaming are checked. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from lanner.testing import ParsedEvent, SSEParser
from tests.e2e._server import WS_IMPLEMENTATIONS, RunningServer, serve

pytestmark = pytest.mark.e2e

TOKEN = "e2e-demo-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PROTOCOLS = ["lanner-chat", f"bearer.{TOKEN}"]
TIMEOUT = 5.0
_ENV = {"LANNER_DISABLE_PLUGIN_AUTOLOAD": "0", "LANNER_DEMO_TOKEN": TOKEN}


@pytest.fixture(scope="module", params=WS_IMPLEMENTATIONS)
def server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    """The demo served by ``lanner serve demo_app:app`` with the given ``--ws``."""
    with serve("demo_app:app", ws=str(request.param), env=_ENV, cli=True) as running:
        yield running


def _connect(server: RunningServer, name: str, **kwargs: Any) -> connect:
    return connect(
        f"{server.ws_url}/ws/chat?name={name}",
        open_timeout=TIMEOUT,
        close_timeout=TIMEOUT,
        **kwargs,
    )


async def _next_of(ws: ClientConnection, kind: str) -> dict[str, Any]:
    for _ in range(20):
        payload: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        if payload["type"] == kind:
            return payload
    raise AssertionError(f"no {kind!r} payload among the next 20 messages")


def test_page_health_and_api(server: RunningServer) -> None:
    with httpx.Client(base_url=server.http_url, timeout=TIMEOUT) as client:
        page = client.get("/")
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert f'"token": "{TOKEN}"' in page.text

        assert client.get("/health").json()["status"] == "ok"

        refused = client.post("/api/messages", json={"name": "x", "text": "y"})
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")

        posted = client.post("/api/messages", json={"name": "e2e", "text": "hi"}, headers=AUTH)
        assert posted.status_code == 201
        recent = client.get("/api/messages", params={"limit": 100}, headers=AUTH)
        assert recent.status_code == 200
        assert posted.json()["message"] in recent.json()["messages"]


async def test_chat_round_trip_between_two_clients(server: RunningServer) -> None:
    async with (
        _connect(server, "ada", subprotocols=PROTOCOLS) as ada,
        _connect(server, "bob", subprotocols=PROTOCOLS) as bob,
    ):
        assert ada.subprotocol == "lanner-chat"  # the token entry is never selected
        await _next_of(ada, "welcome")
        assert (await _next_of(bob, "welcome"))["name"] == "bob"
        await ada.send(json.dumps({"text": "hello over a real socket"}))
        for client in (ada, bob):
            message = await _next_of(client, "message")
            assert (message["name"], message["text"]) == ("ada", "hello over a real socket")


async def test_http_post_reaches_a_chat_client(server: RunningServer) -> None:
    async with _connect(server, "cy", subprotocols=PROTOCOLS) as cy:
        await _next_of(cy, "welcome")
        async with httpx.AsyncClient(base_url=server.http_url, timeout=TIMEOUT) as client:
            posted = await client.post(
                "/api/messages", json={"name": "curl", "text": "via HTTP"}, headers=AUTH
            )
        assert posted.status_code == 201
        message = await _next_of(cy, "message")
        assert (message["name"], message["text"], message["via"]) == ("curl", "via HTTP", "http")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"subprotocols": ["lanner-chat"]},
        {"subprotocols": ["lanner-chat", "bearer.wrong-token"]},
        {"subprotocols": PROTOCOLS, "origin": "https://evil.example"},
    ],
    ids=["no-token", "wrong-token", "foreign-origin"],
)
async def test_handshake_without_credentials_gets_403(
    server: RunningServer, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with _connect(server, "eve", **kwargs):
            pass
    assert refused.value.response.status_code == 403


async def test_page_origin_is_allowed(server: RunningServer) -> None:
    async with _connect(
        server, "dee", subprotocols=PROTOCOLS, origin=Origin(server.http_url)
    ) as dee:
        assert (await _next_of(dee, "welcome"))["name"] == "dee"


async def test_sse_feed_streams_ticks(server: RunningServer) -> None:
    parser = SSEParser()
    events: list[ParsedEvent] = []
    async with (
        httpx.AsyncClient(base_url=server.http_url, timeout=TIMEOUT) as client,
        client.stream("GET", "/events", params={"access_token": TOKEN}) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert stream.headers["cache-control"] == "no-cache"

        async def read_two() -> None:
            async for chunk in stream.aiter_bytes():
                events.extend(parser.feed(chunk))
                if len(events) >= 2:
                    return

        await asyncio.wait_for(read_two(), TIMEOUT)
    first, second = events[:2]
    assert (first.event, first.retry) == ("tick", 2000)
    # Ids are the broadcast hub's message ids on the feed channel: opaque, one per tick.
    assert second.event == "tick"
    assert first.event_id
    assert second.event_id not in (None, first.event_id)
    assert set(first.json()) == {"time", "online", "messages", "last"}
    # The token in the query string is redacted from the server's access log.
    assert "access_token=***" in server.log()
    assert TOKEN not in server.log()


async def test_sse_feed_without_the_token_is_refused(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=TIMEOUT) as client:
        refused = await client.get("/events")
    assert refused.status_code == 401
