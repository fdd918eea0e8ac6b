"""Starlette with encode's ``broadcaster``, written as broadcaster's own chat example does.

Each subscriber runs two tasks in an anyio task group: one forwards the
subscription to the WebSocket, one reads the client until it leaves, which
cancels the other. broadcaster's queues are unbounded (it has no backlog
option), so ``backlog`` is not applied: a client that never reads keeps
everything published to it in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

import anyio
from broadcaster import Broadcast
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from bench._asgi import ASGIApp
from bench.endpoints import FANOUT_CHANNEL, FANOUT_PUB_PATH, FANOUT_SUB_PATH, JSON_BODY, JSON_PATH
from bench.fanout_frameworks import FanoutApp

__all__ = ["create_fanout"]


def create_fanout(*, url: str, backlog: int) -> FanoutApp:
    """Build a Starlette app on a ``broadcaster.Broadcast(url)``."""
    broadcast = Broadcast(url)

    async def subscriber(ws: WebSocket) -> None:
        await ws.accept()

        async def forward() -> None:
            async with broadcast.subscribe(channel=FANOUT_CHANNEL) as events:
                async for event in events:  # type: ignore[union-attr]
                    await ws.send_text(event.message)

        async with anyio.create_task_group() as group:

            async def read() -> None:
                async for _ in ws.iter_text():
                    pass
                group.cancel_scope.cancel()

            group.start_soon(forward)
            group.start_soon(read)

    async def publisher(ws: WebSocket) -> None:
        await ws.accept()
        async for text in ws.iter_text():
            await broadcast.publish(channel=FANOUT_CHANNEL, message=text)

    async def ready(request: Request) -> JSONResponse:
        return JSONResponse(JSON_BODY)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await broadcast.connect()
        try:
            yield
        finally:
            await broadcast.disconnect()

    app = Starlette(
        routes=[
            WebSocketRoute(FANOUT_SUB_PATH, subscriber),
            WebSocketRoute(FANOUT_PUB_PATH, publisher),
            Route(JSON_PATH, ready),
        ],
        lifespan=lifespan,
    )

    async def publish(text: str) -> None:
        await broadcast.publish(channel=FANOUT_CHANNEL, message=text)

    def subscribers() -> int:
        return len(broadcast._subscribers.get(FANOUT_CHANNEL, ()))

    return FanoutApp(cast(ASGIApp, app), publish, subscribers)
