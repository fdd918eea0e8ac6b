"""lanner's app serving the benchmark endpoints, with lanner's default options.

Written as a lanner user would write it; plugin autoload is off so installed
plugins cannot change what is measured.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import lanner
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
    async def on_websocket(self, req: lanner.Request, ws: lanner.WebSocket) -> None:
        await ws.accept()
        while True:
            try:
                text = await ws.receive_text()
            except lanner.WebSocketDisconnected:
                return
            await ws.send_text(text)


class _Media:
    async def on_websocket(self, req: lanner.Request, ws: lanner.WebSocket) -> None:
        await ws.accept()
        while True:
            try:
                obj = await ws.receive_media()
            except lanner.WebSocketDisconnected:
                return
            await ws.send_media(obj)


class _Lifecycle:
    async def on_websocket(self, req: lanner.Request, ws: lanner.WebSocket) -> None:
        await ws.accept()
        text = await ws.receive_text()
        await ws.send_text(text)
        await ws.close()


class _Push:
    def __init__(self, count: int) -> None:
        self._count = count

    async def on_websocket(self, req: lanner.Request, ws: lanner.WebSocket) -> None:
        await ws.accept()
        for _ in range(self._count):
            await ws.send_text(PUSH_TEXT)
        await ws.close()


class _Stream:
    def __init__(self, count: int) -> None:
        self._count = count

    async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
        resp.sse = self._events()

    async def _events(self) -> AsyncIterator[lanner.SSEvent]:
        for _ in range(self._count):
            yield lanner.SSEvent(text=SSE_TEXT)


class _Json:
    async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
        resp.media = JSON_BODY


def create_app(
    *, push_count: int = DEFAULT_PUSH_COUNT, sse_count: int = DEFAULT_SSE_COUNT
) -> ASGIApp:
    """Build a lanner app serving the benchmark endpoints.

    Args:
        push_count: How many messages ``/push`` sends on each connection.
        sse_count: How many events ``/sse`` sends on each request.

    Returns:
        The lanner app (an ASGI 3 application).
    """
    app: Any = lanner.App(autoload_plugins=False)
    app.add_route(ECHO_PATH, _Echo())
    app.add_route(MEDIA_PATH, _Media())
    app.add_route(LIFECYCLE_PATH, _Lifecycle())
    app.add_route(PUSH_PATH, _Push(push_count))
    app.add_route(SSE_PATH, _Stream(sse_count))
    app.add_route(JSON_PATH, _Json())
    return cast(ASGIApp, app)
