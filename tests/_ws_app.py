"""A one-route app around a responder body, shared by the WebSocket API tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import lanner
from lanner import Request, WebSocket

Body = Callable[[Request, WebSocket], Awaitable[None]]
"""What a test's responder does with the connection."""


class Resource:
    """Runs ``body`` as its ``on_websocket``."""

    def __init__(self, body: Body) -> None:
        self.body = body

    async def on_websocket(self, req: Request, ws: WebSocket) -> None:
        await self.body(req, ws)


def ws_app(body: Body, **ws_options: Any) -> lanner.App:
    """An app serving ``body`` at ``/ws``, with the given ``ws_options`` set."""
    app = lanner.App()
    app.add_route("/ws", Resource(body))
    for name, value in ws_options.items():
        setattr(app.ws_options, name, value)
    return app
