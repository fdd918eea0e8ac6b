"""Hostile media and header values under a real uvicorn (both ``--ws`` implementations).

What the wire does with a payload the in-process tests also send: a lone
surrogate escape, nesting past Python's recursion limit, a 100,000-digit number,
truncated MessagePack and CBOR, bad UTF-8. Every one must come back as the
documented error (a 400 for HTTP, a catchable ``ValueError`` for WebSocket) with
the connection still usable, and a lone surrogate posted to the demo's chat
must stop nobody else. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import cbor2
import httpx
import msgpack
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.e2e._server import WS_IMPLEMENTATIONS, RunningServer, serve

pytestmark = pytest.mark.e2e

TIMEOUT = 5.0
_ENV = {"LANNER_DISABLE_PLUGIN_AUTOLOAD": "1"}

# Each is valid UTF-8 on the wire; what it decodes to is the trouble.
LONE_SURROGATE = '{"text": "\\ud800"}'
DEEP = "[" * 1000 + "]" * 1000
HUGE_NUMBER = "1" * 100_000


@pytest.fixture(scope="module", params=WS_IMPLEMENTATIONS)
def server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    with serve("hostile_media_app:app", ws=str(request.param), env=_ENV) as running:
        yield running


def _connect(server: RunningServer, path: str) -> connect:
    return connect(f"{server.ws_url}{path}", open_timeout=TIMEOUT, close_timeout=TIMEOUT)


async def _recv_json(ws: ClientConnection) -> Any:
    return json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))


@pytest.mark.parametrize(
    ("payload", "found"),
    [
        (LONE_SURROGATE, "lone surrogate"),
        (DEEP, "nests deeper"),
        (HUGE_NUMBER, "digits"),
        ('{"a": 1} trailing', "Extra data"),
        ('{"a": ', "Expecting value"),
        (b"\x92\x01", "incomplete input"),  # MessagePack, truncated
        (b"\x01\x02", "extra data"),  # MessagePack, trailing bytes
    ],
    ids=["lone-surrogate", "deep", "huge-number", "trailing", "truncated", "mp-short", "mp-extra"],
)
async def test_malformed_ws_media_is_a_value_error_and_the_connection_stays_usable(
    server: RunningServer, payload: str | bytes, found: str
) -> None:
    async with _connect(server, "/ws/media") as ws:
        await ws.send(payload)
        reply = await _recv_json(ws)
        assert reply["type"] == "MediaMalformedError"
        assert found in reply["error"]
        await ws.send('{"text": "\\ud83d\\ude00 still here"}')  # a surrogate pair is fine
        assert await _recv_json(ws) == {"echo": {"text": "\U0001f600 still here"}}


async def test_send_text_of_a_lone_surrogate_is_refused_and_the_connection_stays_open(
    server: RunningServer,
) -> None:
    async with _connect(server, "/ws/unescape") as ws:
        await ws.send('"\\ud800"')
        reply = await asyncio.wait_for(ws.recv(), TIMEOUT)
        assert isinstance(reply, str)
        assert reply.startswith("refused: send_text(): the text cannot be sent")
        assert "'\\ud800' at index 0 is a lone surrogate" in reply
        await ws.send('"caf\\u00e9"')
        assert await asyncio.wait_for(ws.recv(), TIMEOUT) == "café"


@pytest.mark.parametrize(
    ("body", "content_type", "found"),
    [
        (LONE_SURROGATE.encode(), "application/json", "lone surrogate"),
        (DEEP.encode(), "application/json", "nests deeper"),
        (HUGE_NUMBER.encode(), "application/json", "digits"),
        (b'"\xff"', "application/json", "can't decode byte 0xff"),
        (msgpack.packb([1, 2])[:-1], "application/msgpack", "incomplete input"),
        (cbor2.dumps([1, 2])[:-1], "application/cbor", "truncated"),
        (cbor2.dumps(1) + b"\x00", "application/cbor", "extra bytes"),
    ],
    ids=["lone-surrogate", "deep", "huge", "bad-utf8", "mp-short", "cbor-short", "cbor-extra"],
)
def test_malformed_http_body_is_400_naming_the_problem(
    server: RunningServer, body: bytes, content_type: str, found: str
) -> None:
    with httpx.Client(base_url=server.http_url, timeout=TIMEOUT) as client:
        response = client.post("/echo", content=body, headers={"Content-Type": content_type})
        assert response.status_code == 400
        description = response.json()["description"]
        assert description.startswith(f"The request body could not be decoded as {content_type}")
        assert found in description
        fine = client.post("/echo", json={"text": "\U0001f600"})
        assert fine.json() == {"echo": {"text": "\U0001f600"}}


@pytest.mark.parametrize(
    ("value", "found"),
    [("a\x00b", "'\\x00' (U+0000)"), ("a\x0bb", "'\\x0b' (U+000B)"), ("a\x7fb", "U+007F")],
    ids=["nul", "vt", "del"],
)
def test_bad_header_value_is_refused_where_it_is_set(
    server: RunningServer, value: str, found: str
) -> None:
    with httpx.Client(base_url=server.http_url, timeout=TIMEOUT) as client:
        caught = client.get("/header-caught", params={"value": value})
        assert caught.status_code == 422
        assert caught.text.startswith("Header 'X-Echo': the value")
        assert found in caught.text

        # Uncaught, it is an ordinary 500 with a body, not an empty reply.
        crashed = client.get("/header", params={"value": value})
        assert crashed.status_code == 500
        assert crashed.json() == {"title": "Internal Server Error"}
        assert "x-echo" not in crashed.headers

        latin1 = client.get("/header", params={"value": "caf\xe9\tau lait"})
        assert latin1.status_code == 200
        assert latin1.headers["x-echo"] == "caf\xe9\tau lait"
    assert f"ValueError: Header 'X-Echo': the value {value!r}" in server.log()


# --- the demo: one bad message must not stop the room ----------------------------

DEMO_TOKEN = "e2e-hostile-token"
DEMO_AUTH = {"Authorization": f"Bearer {DEMO_TOKEN}"}
DEMO_PROTOCOLS = ["lanner-chat", f"bearer.{DEMO_TOKEN}"]
_DEMO_ENV = {"LANNER_DISABLE_PLUGIN_AUTOLOAD": "0", "LANNER_DEMO_TOKEN": DEMO_TOKEN}


@pytest.fixture(scope="module", params=WS_IMPLEMENTATIONS)
def demo(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    with serve("demo_app:app", ws=str(request.param), env=_DEMO_ENV, cli=True) as running:
        yield running


def _chat(server: RunningServer, name: str) -> connect:
    return connect(
        f"{server.ws_url}/ws/chat?name={name}",
        subprotocols=DEMO_PROTOCOLS,
        open_timeout=TIMEOUT,
        close_timeout=TIMEOUT,
    )


async def _next_of(ws: ClientConnection, kind: str) -> dict[str, Any]:
    for _ in range(20):
        payload: dict[str, Any] = await _recv_json(ws)
        if payload["type"] == kind:
            return payload
    raise AssertionError(f"no {kind!r} payload among the next 20 messages")


async def test_a_lone_surrogate_in_the_demo_chat_stops_nobody(demo: RunningServer) -> None:
    async with _chat(demo, "ada") as ada, _chat(demo, "mal") as mal:
        await _next_of(ada, "welcome")
        await _next_of(mal, "welcome")
        await mal.send(LONE_SURROGATE)
        assert (await _next_of(mal, "error"))["type"] == "error"
        await mal.send(DEEP)
        await _next_of(mal, "error")

        await mal.send(json.dumps({"text": "after the bad ones"}))
        for member in (ada, mal):
            message = await _next_of(member, "message")
            assert (message["name"], message["text"]) == ("mal", "after the bad ones")

    async with httpx.AsyncClient(base_url=demo.http_url, timeout=TIMEOUT) as client:
        posted = await client.post(
            "/api/messages",
            content=b'{"name": "mal", "text": "\\udfff"}',
            headers={**DEMO_AUTH, "Content-Type": "application/json"},
        )
        assert posted.status_code == 400
        assert "lone surrogate" in posted.json()["description"]
        recent = await client.get("/api/messages", params={"limit": 100}, headers=DEMO_AUTH)
        assert recent.status_code == 200
        assert recent.json()["messages"][-1]["text"] == "after the bad ones"
