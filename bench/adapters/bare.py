"""The floor: an ASGI app written by hand, with no framework.

It does the least a correct app must do for each endpoint (route on the path,
accept, echo, serialize JSON with the standard library, format SSE events), so
the ratio of a framework to it is what the framework adds.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from bench._asgi import ASGIApp, Receive, Scope, Send
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

_Handler = Callable[[Receive, Send], Awaitable[None]]


def create_app(
    *, push_count: int = DEFAULT_PUSH_COUNT, sse_count: int = DEFAULT_SSE_COUNT
) -> ASGIApp:
    """Build the bare ASGI app serving the benchmark endpoints.

    Args:
        push_count: How many messages ``/push`` sends on each connection.
        sse_count: How many events ``/sse`` sends on each request.

    Returns:
        An ASGI 3 application.
    """

    async def echo(receive: Receive, send: Send) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] != "websocket.receive":
                return
            await send({"type": "websocket.send", "text": message["text"]})

    async def media(receive: Receive, send: Send) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] != "websocket.receive":
                return
            obj = json.loads(message["text"])
            await send({"type": "websocket.send", "text": json.dumps(obj)})

    async def lifecycle(receive: Receive, send: Send) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        message = await receive()
        if message["type"] != "websocket.receive":
            return
        await send({"type": "websocket.send", "text": message["text"]})
        await send({"type": "websocket.close", "code": 1000})

    async def push(receive: Receive, send: Send) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        for _ in range(push_count):
            await send({"type": "websocket.send", "text": PUSH_TEXT})
        await send({"type": "websocket.close", "code": 1000})

    async def sse(receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream"),
                    (b"cache-control", b"no-cache"),
                ],
            }
        )
        for _ in range(sse_count):
            body = ("data: " + SSE_TEXT + "\n\n").encode()
            await send({"type": "http.response.body", "body": body, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def get_json(receive: Receive, send: Send) -> None:
        body = json.dumps(JSON_BODY).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    ws_routes: dict[str, _Handler] = {
        ECHO_PATH: echo,
        MEDIA_PATH: media,
        LIFECYCLE_PATH: lifecycle,
        PUSH_PATH: push,
    }
    http_routes: dict[str, _Handler] = {SSE_PATH: sse, JSON_PATH: get_json}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket":
            ws_handler = ws_routes.get(scope["path"])
            if ws_handler is None:
                await receive()
                await send({"type": "websocket.close", "code": 1000})
                return
            await ws_handler(receive, send)
        elif kind == "http":
            http_handler = http_routes.get(scope["path"])
            if http_handler is None:
                await send({"type": "http.response.start", "status": 404, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
            await http_handler(receive, send)
        elif kind == "lifespan":
            await _lifespan(receive, send)

    return app


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
