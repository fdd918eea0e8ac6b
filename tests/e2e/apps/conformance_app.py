"""Endpoints for ``tests/e2e/test_ws_conformance_e2e.py``: the spec details of issue 12.

``app`` is a lanner app wrapped in a thin ASGI layer: a path that starts with
``/v/<version>`` reaches the app with ``scope["asgi"]["spec_version"]`` set to
that version and the prefix removed, so one real server can act as a server of
any spec version.
"""

from __future__ import annotations

from typing import Any

import lanner
from lanner import HTTPStatus, Request, Response, UnsupportedError, WebSocket


class BodyAfterAccept:
    """Reads the request body after accept, then echoes the client's first message."""

    async def on_websocket(self, req: Request, ws: WebSocket) -> None:
        await ws.accept()
        try:
            await req.get_body()
        except UnsupportedError:
            await ws.send_text("unsupported")
        await ws.send_text(f"first: {await ws.receive_text()}")


class BodyBeforeAccept:
    """Tries ``req.get_media()`` and ``req.stream`` before accept, then echoes."""

    async def on_websocket(self, req: Request, ws: WebSocket) -> None:
        refused = 0
        try:
            await req.get_media()
        except UnsupportedError:
            refused += 1
        try:
            _ = req.stream
        except UnsupportedError:
            refused += 1
        await ws.accept()
        await ws.send_text(f"refused {refused}")
        await ws.send_text(f"first: {await ws.receive_text()}")


class CloseNone:
    """Accepts, then closes with ``close(None)``."""

    async def on_websocket(self, req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.close(None)


class Reason:
    """Accepts, then closes with 4000 and a reason."""

    async def on_websocket(self, req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.close(4000, "bye")


class AcceptHeaders:
    """Accepts with a header where the server can send it; says which it did."""

    async def on_websocket(self, req: Request, ws: WebSocket) -> None:
        try:
            await ws.accept(headers={"X-Accepted": "yes"})
        except UnsupportedError:
            await ws.accept()
            await ws.send_text("no headers")
            return
        await ws.send_text("headers")


class Status:
    """Ends every request early with a non-error status."""

    async def on_get(self, req: Request, resp: Response) -> None:
        resp.media = {"never": "sent"}
        raise HTTPStatus(203, headers={"X-Early": "yes"}, text="early")

    async def on_websocket(self, req: Request, ws: WebSocket) -> None:
        raise HTTPStatus(204)


class StatusAfterAccept:
    """Accepts, sends one message, then raises ``HTTPStatus(205)``."""

    async def on_websocket(self, req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("accepted")
        raise HTTPStatus(205)


class Preflight:
    """Answers every OPTIONS request itself, with 204 and CORS headers."""

    async def process_request(self, req: Request, resp: Response) -> None:
        if req.method == "OPTIONS":
            raise HTTPStatus(204, headers={"Access-Control-Allow-Origin": "*"})


lanner_app = lanner.App(middleware=[Preflight()])
lanner_app.add_route("/body/after", BodyAfterAccept())
lanner_app.add_route("/body/before", BodyBeforeAccept())
lanner_app.add_route("/accept-headers", AcceptHeaders())
lanner_app.add_route("/close-none", CloseNone())
lanner_app.add_route("/reason", Reason())
lanner_app.add_route("/status", Status())
lanner_app.add_route("/status/after", StatusAfterAccept())


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Serve ``lanner_app``, reporting the spec version a ``/v/<version>`` prefix names."""
    path = scope.get("path", "")
    if path.startswith("/v/"):
        version, _, rest = path[3:].partition("/")
        asgi = {**scope.get("asgi", {}), "spec_version": version}
        scope = {**scope, "asgi": asgi, "path": "/" + rest, "raw_path": ("/" + rest).encode()}
    await lanner_app(scope, receive, send)
