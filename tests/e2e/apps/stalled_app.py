"""Endpoints that push forever, for clients that stop reading (``test_stalled_e2e.py``).

``STALL_SEND_TIMEOUT`` (seconds, default 1.0; ``none`` for no limit) sets both
send timeouts. What the
responders saw is read back from ``GET /stats``: per test id, the exception that
ended the push and how long its send had been blocked, whether the SSE
generator's ``finally`` ran, and the server's task count.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import lanner
from lanner import Request, Response, SSEvent, WebSocket

KIB = "x" * 1024
_outcomes: dict[str, dict[str, Any]] = {}


class Push:
    """``/push/{test_id}`` (WebSocket): 1 KiB TEXT messages until a send fails."""

    async def on_websocket(self, req: Request, ws: WebSocket, test_id: str) -> None:
        await ws.accept()
        last_sent = time.monotonic()
        try:
            while True:
                await ws.send_text(KIB)
                last_sent = time.monotonic()
        except lanner.WebSocketDisconnected as exc:
            _outcomes[test_id] = {
                "error": type(exc).__name__,
                "code": exc.code,
                "blocked_for": time.monotonic() - last_sent,
            }


class Feed:
    """``/feed/{test_id}`` (SSE): 1 KiB events until the stream is failed."""

    async def on_get(self, req: Request, resp: Response, test_id: str) -> None:
        resp.sse = self._events(test_id)

    async def _events(self, test_id: str) -> AsyncIterator[SSEvent]:
        # The longest wait at a yield is how long the stalled send was blocked.
        last_sent = time.monotonic()
        longest = 0.0
        try:
            while True:
                yield SSEvent(text=KIB)
                now = time.monotonic()
                longest = max(longest, now - last_sent)
                last_sent = now
        finally:
            longest = max(longest, time.monotonic() - last_sent)
            _outcomes[test_id] = {"finalised": True, "blocked_for": longest}


class Stats:
    """``GET /stats/{test_id}``: the outcome for one test, and the task count."""

    async def on_get(self, req: Request, resp: Response, test_id: str) -> None:
        resp.media = {"outcome": _outcomes.get(test_id), "tasks": len(asyncio.all_tasks())}


app = lanner.App()
_raw = os.environ.get("STALL_SEND_TIMEOUT", "1.0")
_timeout = None if _raw == "none" else float(_raw)
app.ws_options.send_timeout = _timeout
app.sse_options.send_timeout = _timeout
app.add_route("/push/{test_id}", Push())
app.add_route("/feed/{test_id}", Feed())
app.add_route("/stats/{test_id}", Stats())
