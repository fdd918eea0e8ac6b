"""Falcon's ASGI app serving the benchmark endpoints, written as a Falcon user would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import cast

import falcon
import falcon.asgi

from bench._asgi import ASGIApp
from bench.endpoints import (
    DEFAULT_PUSH_COUNT,
    DEFAULT_SSE_COUNT,
    ECHO_PATH,
    JSON_BODY,
    JSON_PATH,
    LIFECYCLE_PATH,
    MEDIA_PATH,
    PUSH_PATH,
    PUSH_TEXT,
    SSE_PATH,
    SSE_TEXT,
)

__all__ = ["create_app"]


class _Echo:
    async def on_websocket(self, req: falcon.asgi.Request, ws: falcon.asgi.WebSocket) -> None:
        await ws.accept()
        while True:
            try:
                text = await ws.receive_text()
            except falcon.WebSocketDisconnected:
                return
            await ws.send_text(text)


class _Media:
    async def on_websocket(self, req: falcon.asgi.Request, ws: falcon.asgi.WebSocket) -> None:
        await ws.accept()
        while True:
            try:
                obj = await ws.receive_media()
            except falcon.WebSocketDisconnected:
                return
            await ws.send_media(obj)


class _Lifecycle:
    async def on_websocket(self, req: falcon.asgi.Request, ws: falcon.asgi.WebSocket) -> None:
        await ws.accept()
        text = await ws.receive_text()
        await ws.send_text(text)
        await ws.close()


class _Push:
    def __init__(self, count: int) -> None:
        self._count = count

    async def on_websocket(self, req: falcon.asgi.Request, ws: falcon.asgi.WebSocket) -> None:
        await ws.accept()
        for _ in range(self._count):
            await ws.send_text(PUSH_TEXT)
        await ws.close()


class _Stream:
    def __init__(self, count: int) -> None:
        self._count = count

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.sse = self._events()

    async def _events(self) -> AsyncIterator[falcon.asgi.SSEvent]:
        for _ in range(self._count):
            yield falcon.asgi.SSEvent(text=SSE_TEXT)


class _Json:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = JSON_BODY


def create_app(
    *,
    push_count: int = DEFAULT_PUSH_COUNT,
    sse_count: int = DEFAULT_SSE_COUNT,
    max_receive_queue: int | None = None,
) -> ASGIApp:
    """Build a Falcon ASGI app serving the benchmark endpoints.

    Args:
        push_count: How many messages ``/push`` sends on each connection.
        sse_count: How many events ``/sse`` sends on each request.
        max_receive_queue: ``app.ws_options.max_receive_queue``; ``None`` keeps
            Falcon's default (which runs a background reader per connection),
            ``0`` turns that reader off.

    Returns:
        The Falcon app (an ASGI 3 application).
    """
    app = falcon.asgi.App()
    if max_receive_queue is not None:
        app.ws_options.max_receive_queue = max_receive_queue
    app.add_route(ECHO_PATH, _Echo())
    app.add_route(MEDIA_PATH, _Media())
    app.add_route(LIFECYCLE_PATH, _Lifecycle())
    app.add_route(PUSH_PATH, _Push(push_count))
    app.add_route(SSE_PATH, _Stream(sse_count))
    app.add_route(JSON_PATH, _Json())
    return cast(ASGIApp, app)
