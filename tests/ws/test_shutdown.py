"""Shutdown in process: going away (what ``lanner serve`` does) and a server's cancel.

``ASGIConductor.begin_server_shutdown()`` does what ``lanner serve`` does on
SIGTERM: open WebSockets are closed with 1001 and event streams end with their
terminator. A connection task the server cancels (uvicorn does at the end of its
graceful timeout) finishes quietly: no ``CancelledError`` reaches the server.
``tests/e2e/test_shutdown_e2e.py`` checks the same under real servers.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

import lanner
from lanner import Request, Response, SSEvent, WebSocket
from lanner._types import Message
from lanner.testing import ASGIConductor
from lanner.testing._http import build_http_scope
from tests._ws_app import ws_app

WAIT = 5.0


async def test_going_away_closes_every_websocket_with_1001() -> None:
    seen: list[int] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("ready")
        try:
            await ws.receive_text()
        except lanner.WebSocketDisconnected as exc:
            seen.append(exc.code)

    async with ASGIConductor(ws_app(body)) as c:
        clients = [await c.simulate_ws("/ws").__aenter__() for _ in range(3)]
        for ws in clients:
            assert await ws.receive_text() == "ready"
        c.begin_server_shutdown()
        for ws in clients:
            with pytest.raises(lanner.WebSocketDisconnected) as closed:
                await ws.receive_text()
            assert closed.value.code == 1001
            await ws.close()
    assert seen == [1001, 1001, 1001]


async def test_a_websocket_accepted_while_going_away_is_closed_at_once() -> None:
    accepting = asyncio.Event()
    seen: list[int] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await accepting.wait()
        await ws.accept()
        try:
            await ws.receive_text()
        except lanner.WebSocketDisconnected as exc:
            seen.append(exc.code)

    async with ASGIConductor(ws_app(body)) as c:
        client = c.simulate_ws("/ws")
        handshake = asyncio.ensure_future(client.__aenter__())
        await asyncio.sleep(0.05)  # the responder is in the handshake
        c.begin_server_shutdown()
        accepting.set()
        ws = await asyncio.wait_for(handshake, WAIT)
        with pytest.raises(lanner.WebSocketDisconnected) as closed:
            await ws.receive_text()
        assert closed.value.code == 1001
        await ws.close()
    assert seen == [1001]


async def test_a_responder_that_is_not_receiving_still_sees_the_close() -> None:
    release = asyncio.Event()
    after: list[BaseException] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("ready")
        await release.wait()
        try:
            await ws.send_text("too late")
        except lanner.WebSocketDisconnected as exc:
            after.append(exc)

    async with ASGIConductor(ws_app(body)) as c, c.simulate_ws("/ws") as ws:
        assert await ws.receive_text() == "ready"
        c.begin_server_shutdown()
        with pytest.raises(lanner.WebSocketDisconnected) as closed:
            await ws.receive_text()
        assert closed.value.code == 1001
        release.set()
    assert [exc.code for exc in after] == [1001]


def _feed_app(finalised: list[str]) -> lanner.App:
    class Feed:
        async def on_get(self, req: Request, resp: Response) -> None:
            resp.sse = self._events()

        async def _events(self) -> AsyncIterator[SSEvent]:
            try:
                yield SSEvent(text="ready")
                await asyncio.Event().wait()
                yield SSEvent(text="unreachable")
            finally:
                finalised.append("closed")

    app = lanner.App()
    app.add_route("/feed", Feed())
    return app


async def test_going_away_ends_event_streams_with_their_terminator() -> None:
    finalised: list[str] = []
    async with ASGIConductor(_feed_app(finalised)) as c:
        streams = [await c.simulate_get_stream("/feed").__aenter__() for _ in range(2)]
        for stream in streams:
            assert (await stream.receive_event()).data == "ready"
        c.begin_server_shutdown()
        for stream in streams:
            with pytest.raises(EOFError):
                await stream.receive_event()
            assert stream.ended
        assert finalised == ["closed", "closed"]
        # A stream that starts once the server is going away ends at once, before
        # its generator ever runs.
        async with c.simulate_get_stream("/feed") as late:
            assert [event async for event in late.events()] == []
            assert late.ended
        assert finalised == ["closed", "closed"]


# -- the server cancels a connection's task -------------------------------------------------


class _Peer:
    """A minimal ASGI server side: queues for what the app receives and sends."""

    def __init__(self, first: Message) -> None:
        self.to_app: asyncio.Queue[Message] = asyncio.Queue()
        self.to_app.put_nowait(first)
        self.sent: list[Message] = []
        self.got = asyncio.Event()

    async def receive(self) -> Message:
        return await self.to_app.get()

    async def send(self, message: Message) -> None:
        self.sent.append(message)
        self.got.set()


async def _run_then_cancel(app: lanner.App, scope: dict[str, Any], peer: _Peer) -> Any:
    task = asyncio.get_running_loop().create_task(app(scope, peer.receive, peer.send))
    await asyncio.wait_for(peer.got.wait(), WAIT)
    await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.wait({task}, timeout=WAIT)
    assert task.done()
    return task


async def test_a_cancelled_websocket_task_closes_1001_and_returns_quietly() -> None:
    finalised: list[str] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        try:
            await asyncio.Event().wait()
        finally:
            finalised.append("responder")

    scope = build_http_scope("GET", "/ws", scheme="ws", kind="websocket", spec_version="2.4")
    peer = _Peer({"type": "websocket.connect"})
    task = await _run_then_cancel(ws_app(body), scope, peer)
    assert not task.cancelled()
    assert task.exception() is None
    assert finalised == ["responder"]
    assert peer.sent[-1]["type"] == "websocket.close"
    assert peer.sent[-1]["code"] == 1001


async def test_a_cancelled_event_stream_sends_its_terminator_and_returns_quietly() -> None:
    finalised: list[str] = []
    peer = _Peer({"type": "http.request", "body": b"", "more_body": False})
    task = await _run_then_cancel(_feed_app(finalised), build_http_scope("GET", "/feed"), peer)
    assert not task.cancelled()
    assert task.exception() is None
    assert finalised == ["closed"]
    assert peer.sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


@pytest.mark.skipif(sys.version_info < (3, 11), reason="Python 3.10 has no Task.cancelling()")
async def test_a_cancelled_error_that_is_not_the_tasks_own_still_propagates() -> None:
    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.cancel()
        await future  # raises CancelledError, but nobody cancelled this task

    scope = build_http_scope("GET", "/ws", scheme="ws", kind="websocket", spec_version="2.4")
    peer = _Peer({"type": "websocket.connect"})
    with pytest.raises(asyncio.CancelledError):
        await ws_app(body)(scope, peer.receive, peer.send)
