"""What every fan-out app serves besides ``/sub`` and ``/pub``, written once in raw ASGI."""

from __future__ import annotations

import json
from typing import Final

from bench._asgi import Receive, Scope, Send
from bench.endpoints import JSON_BODY, JSON_PATH

__all__ = ["fanout_app_or_404"]

_BODY: Final = json.dumps(JSON_BODY).encode()


async def fanout_app_or_404(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer ``GET /json`` (the servers' readiness probe) and 404 or close anything else."""
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.close", "code": 1000})
        return
    status = 200 if scope["path"] == JSON_PATH else 404
    body = _BODY if status == 200 else b""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})
