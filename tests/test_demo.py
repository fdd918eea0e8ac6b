"""The demo app (examples/demo.py), in-process: page, API, chat, live feed and auth.

The demo names its plugins (``auth_mw``, ``media_cbor``), so these tests turn
plugin autoload back on for the app they build; every app is fresh, with its
own empty chat room.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

import lanner
from examples.demo import CHAT_SUBPROTOCOL, DEFAULT_TOKEN, create_app
from lanner.media import BinaryBaseHandlerWS
from lanner.testing import ASGIConductor, SimulatedWebSocket, TestClient

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WS_PROTOCOLS = [CHAT_SUBPROTOCOL, f"bearer.{TOKEN}"]
EVENTS = f"/events?access_token={TOKEN}"


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch) -> lanner.App:
    """A fresh demo app with its plugins loaded, a known token and a fast feed."""
    monkeypatch.delenv("LANNER_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    return create_app(token=TOKEN, feed_interval=0.05)


async def _next_of(ws: SimulatedWebSocket, kind: str) -> dict[str, Any]:
    """Return the next payload of type ``kind``, skipping others (bounded by the timeout)."""
    for _ in range(20):
        payload = await ws.receive_json()
        if payload["type"] == kind:
            return payload  # type: ignore[no-any-return]
    raise AssertionError(f"no {kind!r} payload among the next 20 messages")


def test_module_exposes_the_app_make_run_serves() -> None:
    from examples import demo as module

    assert isinstance(module.app, lanner.App)
    assert module.DEFAULT_TOKEN == DEFAULT_TOKEN


def test_demo_names_its_plugins(demo: lanner.App) -> None:
    names = {info.name for info in demo.plugin_assembly.plugins}
    assert {"auth_mw", "media_cbor"} <= names


def test_page_is_self_contained_html_that_knows_the_token(demo: lanner.App) -> None:
    with TestClient(demo) as client:
        result = client.simulate_get("/")
    assert result.status_code == 200
    assert result.headers["content-type"] == "text/html; charset=utf-8"
    page = result.text
    assert "new WebSocket(" in page
    assert "new EventSource(" in page
    assert f'"token": "{TOKEN}"' in page
    assert "__LANNER_DEMO_CONFIG__" not in page
    # No external assets: nothing is loaded from anywhere (the icon is an empty data: URL).
    assert not re.search(r'<script[^>]*\bsrc=|<link(?![^>]*href="data:)|@import|url\(', page)


def test_health_needs_no_token(demo: lanner.App) -> None:
    with TestClient(demo) as client:
        result = client.simulate_get("/health")
    assert result.status_code == 200
    assert result.json == {"status": "ok", "online": 0, "messages": 0}


def test_api_refuses_requests_without_the_token(demo: lanner.App) -> None:
    with TestClient(demo) as client:
        missing = client.simulate_get("/api/messages")
        wrong = client.simulate_get("/api/messages", headers={"Authorization": "Bearer nope"})
        feed = client.simulate_get("/events")
    for result in (missing, wrong, feed):
        assert result.status_code == 401
        assert result.headers["www-authenticate"].startswith("Bearer")


def test_post_then_read_messages(demo: lanner.App) -> None:
    with TestClient(demo) as client:
        first = client.simulate_post(
            "/api/messages", json={"name": "ada", "text": " hello "}, headers=AUTH
        )
        client.simulate_post("/api/messages", json={"name": "bob", "text": "hi"}, headers=AUTH)
        everything = client.simulate_get("/api/messages", headers=AUTH)
        last_one = client.simulate_get("/api/messages", params={"limit": 1}, headers=AUTH)
        health = client.simulate_get("/health")
    assert first.status_code == 201
    message = first.json["message"]
    assert (message["id"], message["name"], message["text"], message["via"]) == (
        1,
        "ada",
        "hello",
        "http",
    )
    assert [m["text"] for m in everything.json["messages"]] == ["hello", "hi"]
    assert [m["name"] for m in last_one.json["messages"]] == ["bob"]
    assert health.json["messages"] == 2


@pytest.mark.parametrize("media_type", ["application/cbor", "application/msgpack"])
def test_messages_in_binary_media_on_request(demo: lanner.App, media_type: str) -> None:
    with TestClient(demo) as client:
        client.simulate_post("/api/messages", json={"name": "ada", "text": "hi"}, headers=AUTH)
        result = client.simulate_get(
            "/api/messages", headers={**AUTH, "Accept": f"{media_type}, application/json"}
        )
    assert result.headers["content-type"] == media_type
    decoded = demo.resp_options.media_handlers[media_type].deserialize(result.content, media_type)
    assert isinstance(decoded, dict)
    assert [m["text"] for m in decoded["messages"]] == ["hi"]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "fragment"),
    [
        (b'["not", "an", "object"]', "application/json", 422, "JSON object"),
        (b'{"name": "ada", "text": "   "}', "application/json", 422, "text must not be empty"),
        (b'{"name": "", "text": "hi"}', "application/json", 422, "name must not be empty"),
        (b'{"name": "ada", "text": 5}', "application/json", 422, "text must be a string"),
        (b'{"name": "ada", "text": "' + b"x" * 501 + b'"}', "application/json", 422, "500"),
        (b'{"name": "ada",', "application/json", 400, "application/json"),
        (b"name=ada", "application/x-www-form-urlencoded", 415, "application/json"),
    ],
)
def test_post_rejects_bad_input(
    demo: lanner.App, body: bytes, content_type: str, status: int, fragment: str
) -> None:
    with TestClient(demo) as client:
        result = client.simulate_post(
            "/api/messages", body=body, content_type=content_type, headers=AUTH
        )
        assert result.status_code == status
        assert fragment in result.json["description"]
        assert client.simulate_get("/health").json["messages"] == 0


def test_limit_is_validated(demo: lanner.App) -> None:
    with TestClient(demo) as client:
        result = client.simulate_get("/api/messages", params={"limit": 0}, headers=AUTH)
    assert result.status_code == 400
    assert "limit" in result.json["description"]


async def test_chat_broadcasts_between_two_clients(demo: lanner.App) -> None:
    async with (
        ASGIConductor(demo) as conductor,
        conductor.simulate_ws("/ws/chat?name=ada", subprotocols=WS_PROTOCOLS) as ada,
        conductor.simulate_ws("/ws/chat?name=bob", subprotocols=WS_PROTOCOLS) as bob,
    ):
        assert ada.subprotocol == CHAT_SUBPROTOCOL
        welcome = await _next_of(bob, "welcome")
        assert (welcome["name"], welcome["online"], welcome["history"]) == ("bob", 2, [])
        assert (await _next_of(ada, "presence"))["name"] == "ada"
        assert (await _next_of(ada, "presence"))["name"] == "bob"

        await ada.send_json({"text": "hello bob"})
        for client in (ada, bob):
            message = await _next_of(client, "message")
            assert (message["name"], message["text"], message["via"]) == (
                "ada",
                "hello bob",
                "ws",
            )

        await bob.close()
        left = await _next_of(ada, "presence")
        assert (left["name"], left["joined"], left["online"]) == ("bob", False, 1)


async def test_http_post_reaches_the_chat_and_history_greets_newcomers(demo: lanner.App) -> None:
    async with ASGIConductor(demo) as conductor:
        async with conductor.simulate_ws("/ws/chat?name=ada", subprotocols=WS_PROTOCOLS) as ada:
            posted = await conductor.simulate_post(
                "/api/messages", json={"name": "curl", "text": "from HTTP"}, headers=AUTH
            )
            assert posted.status_code == 201
            message = await _next_of(ada, "message")
            assert (message["name"], message["text"], message["via"]) == (
                "curl",
                "from HTTP",
                "http",
            )
        async with conductor.simulate_ws("/ws/chat?name=bob", subprotocols=WS_PROTOCOLS) as bob:
            welcome = await _next_of(bob, "welcome")
            assert [m["text"] for m in welcome["history"]] == ["from HTTP"]


async def test_bad_frames_get_an_error_and_the_connection_survives(demo: lanner.App) -> None:
    async with (
        ASGIConductor(demo) as conductor,
        conductor.simulate_ws("/ws/chat?name=ada", subprotocols=WS_PROTOCOLS) as ada,
    ):
        await ada.send_text("{not json")
        assert "JSON" in (await _next_of(ada, "error"))["error"]
        await ada.send_data(b"\xc1")  # not MessagePack (nor CBOR)
        assert (await _next_of(ada, "error"))["type"] == "error"
        await ada.send_json({"text": ""})
        assert "empty" in (await _next_of(ada, "error"))["error"]
        await ada.send_json({"text": "still here"})
        assert (await _next_of(ada, "message"))["text"] == "still here"
        assert ada.ready


async def test_chat_accepts_binary_media(demo: lanner.App) -> None:
    binary = demo.ws_options.media_handlers[lanner.WebSocketPayloadType.BINARY]
    assert isinstance(binary, BinaryBaseHandlerWS)  # MessagePack: media_cbor's is opt-in
    async with (
        ASGIConductor(demo) as conductor,
        conductor.simulate_ws("/ws/chat?name=ada", subprotocols=WS_PROTOCOLS) as ada,
    ):
        await ada.send_data(binary.serialize({"text": "bin"}))
        assert (await _next_of(ada, "message"))["text"] == "bin"


async def test_bad_name_denies_the_handshake(demo: lanner.App) -> None:
    async with ASGIConductor(demo) as conductor:
        with pytest.raises(lanner.WebSocketDisconnected) as denied:
            async with conductor.simulate_ws(
                "/ws/chat", params={"name": "x" * 40}, subprotocols=WS_PROTOCOLS
            ):
                pass
    assert denied.value.code == 3400


async def test_chat_handshake_without_the_token_is_denied(demo: lanner.App) -> None:
    async with ASGIConductor(demo) as conductor:
        for protocols in ([CHAT_SUBPROTOCOL], [CHAT_SUBPROTOCOL, "bearer.wrong"]):
            with pytest.raises(lanner.WebSocketDisconnected) as denied:
                async with conductor.simulate_ws("/ws/chat?name=eve", subprotocols=protocols):
                    pass
            assert denied.value.code == 3403  # a browser sees HTTP 403
        with pytest.raises(lanner.WebSocketDisconnected) as denied:
            async with conductor.simulate_ws(
                "/ws/chat?name=eve",
                subprotocols=WS_PROTOCOLS,
                headers={"Origin": "https://evil.example"},
            ):
                pass
        assert denied.value.code == 3403
        # The page's own origin ("self": the Host it was served from) is allowed.
        async with conductor.simulate_ws(
            "/ws/chat?name=ada",
            subprotocols=WS_PROTOCOLS,
            headers={"Origin": "http://127.0.0.1:8011", "Host": "127.0.0.1:8011"},
        ) as ada:
            assert (await _next_of(ada, "welcome"))["name"] == "ada"


async def _next_tick_after(stream: Any, message_text: str) -> Any:
    for _ in range(50):
        event = await stream.receive_event()
        last = event.json()["last"]
        if last is not None and last["text"] == message_text:
            return event
    raise AssertionError(f"no tick mentioned {message_text!r} within 50 ticks")


async def test_feed_sends_ticks_from_the_hub_and_resumes(demo: lanner.App) -> None:
    async with ASGIConductor(demo) as conductor:
        async with conductor.simulate_get_stream(EVENTS) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"] == "text/event-stream; charset=utf-8"
            first = await stream.receive_event()
            assert (first.event, first.retry) == ("tick", 2000)
            assert first.event_id
            tick = first.json()
            assert set(tick) == {"time", "online", "messages", "last"}
            assert (tick["online"], tick["messages"], tick["last"]) == (0, 0, None)
            await conductor.simulate_post(
                "/api/messages", json={"name": "ada", "text": "news"}, headers=AUTH
            )
            news = await _next_tick_after(stream, "news")
            assert news.retry is None
            following = [await stream.receive_event() for _ in range(3)]
        # A browser reconnecting with the id of the news tick gets what followed it.
        headers = {"Last-Event-ID": news.event_id or ""}
        async with conductor.simulate_get_stream(EVENTS, headers=headers) as stream:
            resumed = [await stream.receive_event() for _ in range(3)]
    assert [e.event_id for e in resumed] == [e.event_id for e in following]
    assert resumed[0].retry == 2000


async def test_feed_streams_end_after_the_limit_and_resume_without_loss(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LANNER_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    app = create_app(token=TOKEN, feed_interval=0.02, feed_stream_limit=3)
    ids: list[str] = []
    async with ASGIConductor(app) as conductor:
        headers: dict[str, str] = {}
        for _ in range(3):
            async with conductor.simulate_get_stream(EVENTS, headers=headers) as stream:
                events = [event async for event in stream.events()]
            assert len(events) == 3
            ids += [e.event_id or "" for e in events]
            headers = {"Last-Event-ID": ids[-1]}
    numbers = [int(i.rsplit("-", 1)[1]) for i in ids]
    assert numbers == list(range(numbers[0], numbers[0] + 9))


async def test_a_slow_chat_client_is_closed_and_others_carry_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LANNER_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    app = create_app(token=TOKEN, feed_interval=60, outbox_size=3)
    closes: list[dict[str, Any]] = []
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await inbox.put({"type": "websocket.connect"})
    stalled_forever = asyncio.Event()
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "websocket.send":
            sent.append(message)
            if len(sent) > 1:  # the welcome fits in the buffers; then it never reads
                await stalled_forever.wait()
        elif message["type"] == "websocket.close":
            closes.append(message)
            await inbox.put({"type": "websocket.disconnect", "code": message["code"]})

    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "path": "/ws/chat",
        "raw_path": b"/ws/chat",
        "query_string": b"name=slow",
        "headers": [(b"sec-websocket-protocol", ", ".join(WS_PROTOCOLS).encode())],
        "subprotocols": WS_PROTOCOLS,
        "scheme": "ws",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 5000),
    }
    async with (
        ASGIConductor(app) as conductor,
        conductor.simulate_ws("/ws/chat?name=fast", subprotocols=WS_PROTOCOLS) as fast,
    ):
        await _next_of(fast, "welcome")
        slow = asyncio.ensure_future(app(scope, inbox.get, send))
        assert (await _next_of(fast, "presence"))["name"] == "fast"
        assert (await _next_of(fast, "presence"))["name"] == "slow"
        seen: list[dict[str, Any]] = []
        for i in range(6):  # paced by the fast client, which keeps up
            await fast.send_json({"text": f"m{i}"})
            while not seen or seen[-1].get("text") != f"m{i}":
                seen.append(await fast.receive_json())
        await asyncio.wait_for(slow, 10)
        assert [c["code"] for c in closes] == [1013]
        while not any(p["type"] == "presence" for p in seen):
            seen.append(await fast.receive_json())
    assert [p["text"] for p in seen if p["type"] == "message"] == [f"m{i}" for i in range(6)]
    (left,) = [p for p in seen if p["type"] == "presence"]
    assert (left["name"], left["joined"], left["online"]) == ("slow", False, 1)
