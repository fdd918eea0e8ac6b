"""WebSocket endpoints served by a real uvicorn for ``tests/e2e/test_ws_e2e.py``.

``app`` keeps the default ``ws_options``; ``app_no_queue`` turns the receive
queue off (``max_receive_queue = 0``) and closes crashes with 4000. What a
server-side responder observes (a disconnect, a failed accept) is recorded per
test id and read back over HTTP from ``GET /stats/{test_id}``, because the
test runs in another process.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from typing import Any

import lanner
from lanner import Request, Response, WebSocket, WebSocketPayloadType

BINARY = WebSocketPayloadType.BINARY

SUBPROTOCOLS = ("chat.v2", "chat.v1")
"""Subprotocols the echo endpoint speaks, most preferred first."""

_events: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)


def _record(test_id: str, event: str, **details: Any) -> None:
    _events[test_id].append({"event": event, **details})


class Stats:
    """``GET /stats/{test_id}``: what the responders recorded for one test."""

    async def on_get(self, req: Request, resp: Response, test_id: str) -> None:
        resp.media = _events.get(test_id, [])


class Echo:
    """Echoes TEXT; picks a subprotocol; a BINARY frame is a payload-type error."""

    async def on_websocket(self, req: Request, ws: WebSocket) -> None:
        chosen = next((p for p in SUBPROTOCOLS if p in ws.subprotocols), None)
        await ws.accept(subprotocol=chosen, headers={"X-Lanner-Echo": "yes"})
        while True:
            try:
                text = await ws.receive_text()
            except lanner.PayloadTypeError as exc:
                await ws.send_text(f"payload-type-error: {exc}")
                continue
            except lanner.WebSocketDisconnected:
                return
            await ws.send_text(text)


class Media:
    """Decodes each frame with the media handlers and answers as TEXT and BINARY."""

    async def on_websocket(self, req: Request, ws: WebSocket) -> None:
        await ws.accept()
        while True:
            try:
                media = await ws.receive_media()
            except lanner.MediaMalformedError as exc:  # its cause is the decoder's own error
                if isinstance(exc.__cause__, json.JSONDecodeError):
                    await ws.send_text("json-error")
                else:
                    await ws.send_text(f"msgpack-error: {type(exc.__cause__).__name__}")
                continue
            except lanner.WebSocketDisconnected:
                return
            await ws.send_media({"got": media})
            await ws.send_media({"got": media}, payload_type=BINARY)


class HttpOnly:
    """A route with no ``on_websocket``: handshakes are denied (3405, HTTP 403)."""

    async def on_get(self, req: Request, resp: Response) -> None:
        resp.text = "http only"


class Deny:
    """Denies the handshake before accept, in the way the ``how`` field names."""

    async def on_websocket(self, req: Request, ws: WebSocket, how: str) -> None:
        if how == "forbidden":
            raise lanner.HTTPForbidden()
        if how == "close":
            await ws.close(4001)
            return
        if how == "crash":
            raise ValueError("crash before accept")
        raise lanner.HTTPNotFound()


class After:
    """Accepts, says so, then ends the connection the way ``how`` names."""

    async def on_websocket(self, req: Request, ws: WebSocket, how: str, test_id: str) -> None:
        await ws.accept()
        await ws.send_text("accepted")
        if how == "forbidden":
            raise lanner.HTTPForbidden()
        if how == "crash":
            raise ValueError(f"crash after accept {test_id}")
        if how == "custom":
            await ws.close(4321, "custom reason")
            return
        if how == "long-reason":
            try:
                await ws.close(4122, "é" * 62)  # 124 bytes: one more than a Close frame holds
            except ValueError:
                await ws.close(4122, "é" * 61 + "!")  # exactly 123 bytes
            return
        raise lanner.HTTPNotFound()


class Receiver:
    """Receives until the connection ends and records the close code (size limits)."""

    async def on_websocket(self, req: Request, ws: WebSocket, test_id: str) -> None:
        await ws.accept()
        while True:
            try:
                data = await ws.receive_data()
            except lanner.WebSocketDisconnected as exc:
                _record(test_id, "disconnected", code=exc.code, reason=exc.reason)
                return
            await ws.send_text(f"got {len(data)} bytes")


class Push:
    """Only sends, never receives: records how it learns that the client left."""

    async def on_websocket(self, req: Request, ws: WebSocket, test_id: str) -> None:
        await ws.accept()
        sent = 0
        while True:
            try:
                await ws.send_text(f"tick {sent}")
            except lanner.WebSocketDisconnected as exc:
                _record(test_id, "disconnected", code=exc.code, sent=sent)
                return
            sent += 1
            await asyncio.sleep(0.01)


class SlowAccept:
    """Waits before accepting, so a client can vanish mid-handshake."""

    async def on_websocket(self, req: Request, ws: WebSocket, test_id: str) -> None:
        _record(test_id, "connect")
        await asyncio.sleep(0.3)
        try:
            await ws.accept()
            await ws.send_text("late hello")
        except lanner.WebSocketDisconnected as exc:
            _record(test_id, "gone", code=exc.code, ready=ws.ready)
            return
        _record(test_id, "accepted")


class CloseWithReader:
    """Closes while a reader task waits in receive; records how the reader ended."""

    async def on_websocket(self, req: Request, ws: WebSocket, test_id: str) -> None:
        await ws.accept()

        async def reader() -> None:
            try:
                await ws.receive_text()
            except lanner.WebSocketDisconnected as exc:
                _record(test_id, "reader-disconnected", code=exc.code)

        task = lanner.create_task(reader())
        await asyncio.sleep(0.05)
        await ws.close(4000)
        await asyncio.wait_for(task, 2)
        _record(test_id, "handler-done")


def _build(**ws_options: Any) -> lanner.App:
    app = lanner.App(autoload_plugins=False)
    for name, value in ws_options.items():
        setattr(app.ws_options, name, value)
    app.add_route("/stats/{test_id}", Stats())
    app.add_route("/echo", Echo())
    app.add_route("/media", Media())
    app.add_route("/http-only", HttpOnly())
    app.add_route("/deny/{how}", Deny())
    app.add_route("/after/{how}/{test_id}", After())
    app.add_route("/receive/{test_id}", Receiver())
    app.add_route("/push/{test_id}", Push())
    app.add_route("/slow-accept/{test_id}", SlowAccept())
    app.add_route("/close-with-reader/{test_id}", CloseWithReader())
    return app


app = _build()
app_no_queue = _build(max_receive_queue=0, error_close_code=4000)
