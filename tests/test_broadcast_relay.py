"""hub.relay(ws, ...): forwarding channels to a WebSocket, in process."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import lanner
from lanner.testing import ASGIConductor
from tests._broadcast_helpers import subscribers


class Room:
    """Relays channel ``room``; echoes what the client sends into it, or answers itself."""

    def __init__(self, app: lanner.App, **relay_kwargs: Any) -> None:
        self.app = app
        self.relay_kwargs = relay_kwargs
        self.ended = asyncio.Event()
        self.body_exited: str | None = None

    async def on_websocket(self, req: lanner.Request, ws: lanner.WebSocket) -> None:
        await ws.accept()
        hub = self.app.broadcast
        last = req.get_param("last")
        try:
            async with hub.relay(ws, "room", last_event_id=last, **self.relay_kwargs):
                while True:
                    text = await ws.receive_text()
                    if text == "leave":
                        self.body_exited = "leave"
                        return
                    if text.startswith("me:"):
                        await ws.send_text("private " + text[3:])
                    else:
                        await hub.publish("room", text=text)
        except lanner.WebSocketDisconnected:
            self.body_exited = "disconnected"
        finally:
            self.ended.set()


def _room_app(**relay_kwargs: Any) -> tuple[lanner.App, Room]:
    app = lanner.App(autoload_plugins=False)
    room = Room(app, **relay_kwargs)
    app.add_route("/room", room)
    return app, room


def _relay_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "lanner-broadcast-relay"]


async def test_relay_forwards_published_messages_to_every_client() -> None:
    app, _ = _room_app()
    async with ASGIConductor(app) as c, c.simulate_ws("/room") as a, c.simulate_ws("/room") as b:
        await a.send_text("hello")
        assert await a.receive_text() == "hello"
        assert await b.receive_text() == "hello"
        await app.broadcast.publish("room", data=b"\x01\x02")
        assert await a.receive_data() == b"\x01\x02"
        assert await b.receive_data() == b"\x01\x02"
        await app.broadcast.publish("room", {"n": 1})
        assert await b.receive_json() == {"n": 1}


async def test_the_body_may_send_its_own_messages_beside_the_relay() -> None:
    app, _ = _room_app()
    async with ASGIConductor(app) as c, c.simulate_ws("/room") as ws:
        for n in range(20):
            await app.broadcast.publish("room", text=f"pub{n}")
            await ws.send_text(f"me:{n}")
        received = [await ws.receive_text() for _ in range(40)]
    assert [t for t in received if t.startswith("pub")] == [f"pub{n}" for n in range(20)]
    assert [t for t in received if t.startswith("private")] == [f"private {n}" for n in range(20)]


async def test_the_relay_ends_with_the_body_and_leaves_no_task() -> None:
    app, room = _room_app()
    async with ASGIConductor(app) as c:
        async with c.simulate_ws("/room") as ws:
            await ws.send_text("x")
            assert await ws.receive_text() == "x"
            assert len(_relay_tasks()) == 1
            await ws.send_text("leave")
            await asyncio.wait_for(room.ended.wait(), 5)
        assert room.body_exited == "leave"
        await asyncio.sleep(0)
        assert _relay_tasks() == []
        assert app.broadcast.stats()["subscribers"] == 0


async def test_the_relay_ends_when_the_client_leaves() -> None:
    app, room = _room_app()
    async with ASGIConductor(app) as c:
        async with c.simulate_ws("/room") as ws:
            await ws.send_text("x")
            await ws.receive_text()
        await asyncio.wait_for(room.ended.wait(), 5)
        assert room.body_exited == "disconnected"
        await asyncio.sleep(0)
        assert _relay_tasks() == []
        assert app.broadcast.stats()["subscribers"] == 0
        await app.broadcast.publish("room", text="nobody listens")


async def test_relay_resumes_from_last_event_id() -> None:
    app, _ = _room_app()
    async with ASGIConductor(app) as c:
        ids = [await app.broadcast.publish("room", text=f"m{n}") for n in range(5)]
        async with c.simulate_ws(f"/room?last={ids[1]}") as ws:
            assert [await ws.receive_text() for _ in range(3)] == ["m2", "m3", "m4"]
            await app.broadcast.publish("room", text="m5")
            assert await ws.receive_text() == "m5"


async def test_relay_needs_an_accepted_websocket() -> None:
    app = lanner.App(autoload_plugins=False)
    errors: list[BaseException] = []

    class Early:
        async def on_websocket(self, req: lanner.Request, ws: lanner.WebSocket) -> None:
            try:
                async with app.broadcast.relay(ws, "room"):
                    pass
            except RuntimeError as exc:
                errors.append(exc)
            await ws.close()

    app.add_route("/early", Early())
    async with ASGIConductor(app) as c:
        with pytest.raises(lanner.WebSocketDisconnected):
            async with c.simulate_ws("/early"):
                pass
    assert "accepted" in str(errors[0])


async def test_shutdown_closes_relays_with_1001() -> None:
    app, room = _room_app()
    conductor = ASGIConductor(app)
    await conductor.__aenter__()
    async with conductor.simulate_ws("/room") as ws:
        await ws.send_text("x")
        assert await ws.receive_text() == "x"
        await conductor.__aexit__(None, None, None)
        with pytest.raises(lanner.WebSocketDisconnected) as info:
            await ws.receive_text()
    assert info.value.code == 1001
    assert ws.close_reason == "Server shutting down."
    await asyncio.wait_for(room.ended.wait(), 5)


async def test_a_slow_client_is_closed_with_1013_and_others_carry_on() -> None:
    app, _ = _room_app(backlog=4)
    async with ASGIConductor(app) as c, c.simulate_ws("/room") as fast:
        # The in-process client buffers: the relay's sends never block, so a
        # hand-built connection whose sends block stands in for a stalled client.
        closes: list[dict[str, Any]] = []
        stalled_forever = asyncio.Event()
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        await inbox.put({"type": "websocket.connect"})

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "websocket.send":
                await stalled_forever.wait()
            elif message["type"] == "websocket.close":
                closes.append(message)
                await inbox.put({"type": "websocket.disconnect", "code": message["code"]})

        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "path": "/room",
            "raw_path": b"/room",
            "query_string": b"",
            "headers": [],
            "subprotocols": [],
        }
        stalled = asyncio.ensure_future(app(scope, inbox.get, send))
        await subscribers(app, 2)
        for n in range(30):  # paced by the fast client, which keeps up
            await app.broadcast.publish("room", text=str(n))
            assert await fast.receive_text() == str(n)
        await asyncio.wait_for(stalled, 5)
        assert closes == [
            {
                "type": "websocket.close",
                "code": 1013,
                "reason": "Too slow: messages piled up. Reconnect to catch up.",
            }
        ]
        assert app.broadcast.stats()["closed_slow"] == 1
        assert _relay_tasks() == [t for t in _relay_tasks() if not t.done()]
        assert len(_relay_tasks()) == 1  # the fast client's


async def test_drop_oldest_relay_keeps_the_client() -> None:
    app, _ = _room_app(backlog=2, overflow="drop-oldest")
    async with ASGIConductor(app) as c, c.simulate_ws("/room") as ws:
        await ws.send_text("first")
        assert await ws.receive_text() == "first"
        for n in range(10):
            await app.broadcast.publish("room", text=str(n))
        got = [await ws.receive_text() for _ in range(2)]
        assert got[-1] == "9"
