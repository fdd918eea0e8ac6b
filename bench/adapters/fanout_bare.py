"""The fan-out floor: a hand-written fan-out on raw ASGI, as a careful user would write it.

Each subscriber gets a bounded ``asyncio.Queue`` and one writer task; a publish
builds the ``websocket.send`` message once and puts that same object into every
queue without waiting. A subscriber whose queue is full is closed with 1013
(its writer is cancelled, even while blocked in a send). Across processes
(``redis://``) the cheapest delivery there is: one redis-py pub/sub connection
per process, whose reader feeds the local queues.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Final

from bench._asgi import Message, Receive, Scope, Send
from bench.adapters.fanout_common import fanout_app_or_404
from bench.endpoints import FANOUT_CHANNEL, FANOUT_PUB_PATH, FANOUT_SUB_PATH
from bench.fanout_frameworks import FanoutApp

__all__ = ["create_fanout"]

_CLOSE_TIMEOUT: Final = 5.0


class _Outbox:
    """One subscriber: its queue, its writer task, whether it overflowed."""

    __slots__ = ("queue", "task", "too_slow")

    def __init__(self, backlog: int) -> None:
        self.queue: asyncio.Queue[Message] = asyncio.Queue(backlog)
        self.task: asyncio.Task[None] | None = None
        self.too_slow = False


class _Hub:
    """The local fan-out: every outbox of this process."""

    def __init__(self) -> None:
        self.outboxes: set[_Outbox] = set()

    def deliver(self, text: str) -> None:
        message = {"type": "websocket.send", "text": text}
        full: list[_Outbox] = []
        for box in self.outboxes:
            try:
                box.queue.put_nowait(message)
            except asyncio.QueueFull:
                full.append(box)
        for box in full:
            self.outboxes.discard(box)
            box.too_slow = True
            if box.task is not None:
                box.task.cancel()


async def _write(box: _Outbox, send: Send) -> None:
    get = box.queue.get
    try:
        while True:
            await send(await get())
    except asyncio.CancelledError:
        if not box.too_slow:
            raise
        with contextlib.suppress(asyncio.TimeoutError, OSError):
            await asyncio.wait_for(
                send({"type": "websocket.close", "code": 1013, "reason": "too slow"}),
                _CLOSE_TIMEOUT,
            )


def create_fanout(*, url: str, backlog: int) -> FanoutApp:
    """Build the hand-written fan-out for ``memory://`` or ``redis://host:port``."""
    hub = _Hub()
    redis: Any = None
    reader: asyncio.Task[None] | None = None
    if url.startswith("redis://"):
        import redis.asyncio as aioredis

        redis = aioredis.Redis.from_url(url)

    async def publish(text: str) -> None:
        if redis is None:
            hub.deliver(text)
        else:
            await redis.publish(FANOUT_CHANNEL, text)

    async def listen() -> None:
        pubsub = redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(FANOUT_CHANNEL)
        try:
            while True:
                message = await pubsub.get_message(timeout=None)
                if message is not None:
                    hub.deliver(message["data"].decode())
        finally:
            await pubsub.aclose()

    async def subscriber(receive: Receive, send: Send) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        box = _Outbox(backlog)
        box.task = asyncio.ensure_future(_write(box, send))
        hub.outboxes.add(box)
        try:
            while (await receive())["type"] != "websocket.disconnect":
                pass
        finally:
            hub.outboxes.discard(box)
            if not box.too_slow:
                box.task.cancel()
            await asyncio.wait([box.task])

    async def publisher(receive: Receive, send: Send) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        while (message := await receive())["type"] == "websocket.receive":
            await publish(message["text"])

    async def startup() -> None:
        nonlocal reader
        if redis is not None:
            reader = asyncio.ensure_future(listen())

    async def shutdown() -> None:
        if reader is not None:
            reader.cancel()
            await asyncio.wait([reader])
        if redis is not None:
            await redis.aclose()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await _lifespan(receive, send, startup, shutdown)
            return
        path = scope["path"]
        if kind == "websocket" and path == FANOUT_SUB_PATH:
            await subscriber(receive, send)
        elif kind == "websocket" and path == FANOUT_PUB_PATH:
            await publisher(receive, send)
        else:
            await fanout_app_or_404(scope, receive, send)

    return FanoutApp(app, publish, lambda: len(hub.outboxes))


async def _lifespan(receive: Receive, send: Send, startup: Any, shutdown: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await startup()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await shutdown()
            await send({"type": "lifespan.shutdown.complete"})
            return
