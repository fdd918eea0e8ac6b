"""Floors: what the in-process targets cost before any framework work.

``python -m bench.floors`` times, against the same no-op ``send``, the pieces
every framework with lanner's API must pay for, so a ratio can be read against
what is reachable at all:

- a push written by hand, and the same push through one coroutine that does
  nothing but await ``send`` (the least a ``ws.send_text`` method can cost);
- an SSE event sent as bytes built inline, through an async generator of bytes,
  and through an async generator of ``lanner.SSEvent`` objects (the API the
  spec asks app authors to write), with no streaming machinery at all;
- the creation of an empty class taking ``SSEvent``'s seven keyword arguments,
  and of a text-only ``SSEvent``.

Timings are medians of several runs; nothing here is a pass/fail check.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator, Callable, Coroutine, MutableMapping
from typing import Any

import lanner
from lanner._ws_settings import WebSocketSettings

COUNT = 20_000
RUNS = 7
TEXT = "hello, this is an event"


async def _send(message: MutableMapping[str, Any]) -> None:
    """The thinnest ASGI send: accept the message and return."""


class _OneFrame:
    """A send_text that only awaits the server's send: one coroutine frame."""

    __slots__ = ("_send",)

    def __init__(self) -> None:
        self._send = _send

    async def send_text(self, payload: str) -> None:
        await self._send({"type": "websocket.send", "text": payload})


class _EmptyEvent:
    """A class taking SSEvent's keyword arguments and doing nothing with them."""

    __slots__ = ()

    def __init__(
        self,
        *,
        data: bytes | None = None,
        text: str | None = None,
        json: object = None,
        event: str | None = None,
        event_id: str | None = None,
        retry: int | None = None,
        comment: str | None = None,
    ) -> None:
        pass


async def push_bare() -> None:
    """A push loop written against ASGI directly."""
    for _ in range(COUNT):
        await _send({"type": "websocket.send", "text": TEXT})


async def push_one_frame() -> None:
    """The same push through a method that adds one coroutine frame."""
    ws = _OneFrame()
    for _ in range(COUNT):
        await ws.send_text(TEXT)


async def push_lanner() -> None:
    """The same push through lanner's WebSocket on a spec 2.4 server."""

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    settings = WebSocketSettings(lanner.WebSocketOptions())
    scope = {"type": "websocket", "path": "/", "asgi": {"spec_version": "2.4"}}
    ws = lanner.WebSocket(scope, receive, _send, settings)
    await ws.accept()
    for _ in range(COUNT):
        await ws.send_text(TEXT)


async def sse_bare() -> None:
    """SSE events built inline as bytes, as the benchmark's bare app does."""
    for _ in range(COUNT):
        body = ("data: " + TEXT + "\n\n").encode()
        await _send({"type": "http.response.body", "body": body, "more_body": True})


async def sse_generator_of_bytes() -> None:
    """The same bytes, produced by an async generator."""

    async def events() -> AsyncIterator[bytes]:
        for _ in range(COUNT):
            yield ("data: " + TEXT + "\n\n").encode()

    async for body in events():
        await _send({"type": "http.response.body", "body": body, "more_body": True})


async def sse_generator_of_events() -> None:
    """An async generator of SSEvent objects, sent with no framework around it."""

    async def events() -> AsyncIterator[lanner.SSEvent]:
        for _ in range(COUNT):
            yield lanner.SSEvent(text=TEXT)

    async for event in events():
        body = event.serialize()
        await _send({"type": "http.response.body", "body": body, "more_body": True})


async def create_empty_events() -> None:
    """Create COUNT instances of a class with SSEvent's keyword arguments."""
    for _ in range(COUNT):
        _EmptyEvent(text=TEXT)


async def create_text_events() -> None:
    """Create COUNT text-only ``lanner.SSEvent`` objects (the wire form included)."""
    for _ in range(COUNT):
        lanner.SSEvent(text=TEXT)


def _median_ns(case: Callable[[], Coroutine[Any, Any, None]]) -> float:
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        asyncio.run(case())
        timings.append((time.perf_counter() - started) / COUNT * 1e9)
    return statistics.median(timings)


def main() -> None:
    """Print each floor in nanoseconds per operation and as a ratio to its bare case."""
    groups: list[tuple[str, list[tuple[str, Callable[[], Coroutine[Any, Any, None]]]]]] = [
        (
            "WebSocket push",
            [
                ("bare ASGI", push_bare),
                ("one coroutine frame, nothing else", push_one_frame),
                ("lanner ws.send_text", push_lanner),
            ],
        ),
        (
            "SSE event",
            [
                ("bare ASGI, bytes built inline", sse_bare),
                ("async generator of bytes", sse_generator_of_bytes),
                ("async generator of SSEvent, no framework", sse_generator_of_events),
                ("creating an empty 7-keyword object only", create_empty_events),
                ("creating SSEvent(text=...) only", create_text_events),
            ],
        ),
    ]
    for title, cases in groups:
        print(title)
        floor = None
        for label, case in cases:
            ns = _median_ns(case)
            floor = floor or ns
            print(f"  {label:45s} {ns:7.0f} ns  {ns / floor:5.2f}x")


if __name__ == "__main__":
    main()
