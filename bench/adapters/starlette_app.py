"""Starlette's app serving the benchmark endpoints, written as a Starlette user would.

Starlette has no SSE type of its own; its users stream ``text/event-stream``
with a ``StreamingResponse`` over formatted event strings, as here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import cast

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

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


async def _echo(ws: WebSocket) -> None:
    await ws.accept()
    while True:
        try:
            text = await ws.receive_text()
        except WebSocketDisconnect:
            return
        await ws.send_text(text)


async def _media(ws: WebSocket) -> None:
    await ws.accept()
    while True:
        try:
            obj = await ws.receive_json()
        except WebSocketDisconnect:
            return
        await ws.send_json(obj)


async def _lifecycle(ws: WebSocket) -> None:
    await ws.accept()
    text = await ws.receive_text()
    await ws.send_text(text)
    await ws.close()


async def _get_json(request: Request) -> JSONResponse:
    return JSONResponse(JSON_BODY)


def create_app(
    *, push_count: int = DEFAULT_PUSH_COUNT, sse_count: int = DEFAULT_SSE_COUNT
) -> ASGIApp:
    """Build a Starlette app serving the benchmark endpoints.

    Args:
        push_count: How many messages ``/push`` sends on each connection.
        sse_count: How many events ``/sse`` sends on each request.

    Returns:
        The Starlette app (an ASGI 3 application).
    """

    async def push(ws: WebSocket) -> None:
        await ws.accept()
        for _ in range(push_count):
            await ws.send_text(PUSH_TEXT)
        await ws.close()

    async def events() -> AsyncIterator[str]:
        for _ in range(sse_count):
            yield "data: " + SSE_TEXT + "\n\n"

    async def sse(request: Request) -> StreamingResponse:
        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"cache-control": "no-cache"}
        )

    app = Starlette(
        routes=[
            WebSocketRoute(ECHO_PATH, _echo),
            WebSocketRoute(MEDIA_PATH, _media),
            WebSocketRoute(LIFECYCLE_PATH, _lifecycle),
            WebSocketRoute(PUSH_PATH, push),
            Route(SSE_PATH, sse),
            Route(JSON_PATH, _get_json),
        ]
    )
    return cast(ASGIApp, app)
