"""Server-Sent Events endpoints served by a real uvicorn for ``tests/e2e/test_sse_e2e.py``.

The test runs in another process, so what the generators did is read back over
HTTP from ``GET /stats``. Two environment variables configure the app:

* ``SSE_PING_INTERVAL``: ``app.sse_options.ping_interval`` in seconds (default 0.2);
* ``SSE_FINALISED_LOG``: a file each ``/blocked`` generator appends a line to when
  its ``finally`` runs, so a test can check it after the server has exited.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator

import lanner
from lanner import Request, Response, SSEvent

_counts = {"open": 0, "finalised": 0}


class Numbered:
    """``GET /events?n=N``: N events with ids 1..N, every field, multi-line text and JSON."""

    async def on_get(self, req: Request, resp: Response) -> None:
        count = req.get_param_as_int("n", default=10, min_value=0) or 0
        resp.set_header("X-Feed", "numbered")
        resp.sse = self._events(count)

    async def _events(self, count: int) -> AsyncIterator[SSEvent]:
        yield SSEvent(comment="hello", retry=1000, text="start", event="start", event_id="0")
        for n in range(1, count + 1):
            if n % 2:
                yield SSEvent(text=f"line {n}\nsecond line\r\nthird", event_id=str(n))
            else:
                yield SSEvent(json={"n": n, "s": "é"}, event="obj", event_id=str(n))


class Blocked:
    """``GET /blocked``: one ``ready`` event, then waits for an event that never comes.

    The ``ready`` event's id is the wall-clock time it was sent, so a client can
    tell how long after it a ping arrived however late it read the event.
    """

    async def on_get(self, req: Request, resp: Response) -> None:
        resp.sse = self._events()

    async def _events(self) -> AsyncIterator[SSEvent]:
        _counts["open"] += 1
        try:
            yield SSEvent(text="ready", event_id=repr(time.time()))
            await asyncio.Event().wait()
            yield SSEvent(text="unreachable")
        finally:
            _counts["open"] -= 1
            _counts["finalised"] += 1
            _note_finalised()


def _note_finalised() -> None:
    """Append a line to ``$SSE_FINALISED_LOG``, if set (a few bytes: blocking is fine)."""
    log = os.environ.get("SSE_FINALISED_LOG")
    if log:
        with open(log, "a") as file:
            file.write("finalised\n")


class Stats:
    """``GET /stats``: open and finalised ``/blocked`` generators, and the task count."""

    async def on_get(self, req: Request, resp: Response) -> None:
        resp.media = {**_counts, "tasks": len(asyncio.all_tasks())}


app = lanner.App()
app.sse_options.ping_interval = float(os.environ.get("SSE_PING_INTERVAL", "0.2"))
app.add_route("/events", Numbered())
app.add_route("/blocked", Blocked())
app.add_route("/stats", Stats())
