"""Long-lived connections for the shutdown tests (``test_shutdown_e2e.py``).

Every responder and generator appends a line to ``$SHUTDOWN_LOG`` when it ends
(``ws-receive 1001``, ``ws-busy``, ``sse``), so the test can read what ran after
the server process has exited.

* ``/ws/receive``: waits in ``receive`` until the connection closes.
* ``/ws/busy``: waits on something other than the connection (it never receives).
* ``/feed``: one ``ready`` event, then waits for an event that never comes.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import lanner
from lanner import Request, Response, SSEvent, WebSocket


def _note(line: str) -> None:
    """Append ``line`` to ``$SHUTDOWN_LOG`` (a few bytes: blocking is fine)."""
    path = os.environ.get("SHUTDOWN_LOG")
    if path:
        with open(path, "a") as file:
            file.write(line + "\n")


class Receiving:
    """Receives until the connection closes, then notes the close code."""

    async def on_websocket(self, req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("ready")
        try:
            while True:
                await ws.receive_text()
        except lanner.WebSocketDisconnected as exc:
            _note(f"ws-receive {exc.code}")


class Busy:
    """Waits for something that never happens, without receiving."""

    async def on_websocket(self, req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("ready")
        try:
            await asyncio.Event().wait()
        finally:
            _note("ws-busy")


class Feed:
    """An event stream that sends ``ready`` and then waits forever."""

    async def on_get(self, req: Request, resp: Response) -> None:
        resp.sse = self._events()

    async def _events(self) -> AsyncIterator[SSEvent]:
        try:
            yield SSEvent(text="ready")
            await asyncio.Event().wait()
            yield SSEvent(text="unreachable")
        finally:
            _note("sse")


app = lanner.App()
app.add_route("/ws/receive", Receiving())
app.add_route("/ws/busy", Busy())
app.add_route("/feed", Feed())
