"""Litestar's channels plugin, written as Litestar's channels docs show it.

Subscribers use ``start_subscription`` and ``run_in_background(socket.send_text)``
around their own receive loop. The backlog is bounded like the others'; on
overflow Litestar drops the newest messages ("backoff"), it cannot close a
client. ``redis://`` uses its Redis pub/sub backend.
"""

from __future__ import annotations

from typing import Any, cast

from litestar import Litestar, WebSocket, get, websocket
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.exceptions import WebSocketDisconnect

from bench._asgi import ASGIApp
from bench.endpoints import FANOUT_CHANNEL, FANOUT_PUB_PATH, FANOUT_SUB_PATH, JSON_BODY, JSON_PATH
from bench.fanout_frameworks import FanoutApp

__all__ = ["create_fanout"]


def _backend(url: str) -> Any:
    if url.startswith("redis://"):
        from litestar.channels.backends.redis import RedisChannelsPubSubBackend
        from redis.asyncio import Redis

        return RedisChannelsPubSubBackend(redis=Redis.from_url(url))
    return MemoryChannelsBackend()


def create_fanout(*, url: str, backlog: int) -> FanoutApp:
    """Build a Litestar app with a ``ChannelsPlugin`` on the backend ``url``."""
    channels = ChannelsPlugin(
        backend=_backend(url), channels=[FANOUT_CHANNEL], subscriber_max_backlog=backlog
    )

    @websocket(FANOUT_SUB_PATH)
    async def subscriber(socket: WebSocket) -> None:
        await socket.accept()
        async with (
            channels.start_subscription([FANOUT_CHANNEL]) as events,
            events.run_in_background(socket.send_text),
        ):
            while True:
                try:
                    await socket.receive_text()
                except WebSocketDisconnect:
                    return

    @websocket(FANOUT_PUB_PATH)
    async def publisher(socket: WebSocket) -> None:
        await socket.accept()
        while True:
            try:
                text = await socket.receive_text()
            except WebSocketDisconnect:
                return
            await channels.wait_published(text, [FANOUT_CHANNEL])

    @get(JSON_PATH, sync_to_thread=False)
    def ready() -> dict[str, Any]:
        return dict(JSON_BODY)

    app = Litestar(route_handlers=[subscriber, publisher, ready], plugins=[channels])

    async def publish(text: str) -> None:
        await channels.wait_published(text, [FANOUT_CHANNEL])

    def subscribers() -> int:
        return len(channels._channels.get(FANOUT_CHANNEL, ()))

    return FanoutApp(cast(ASGIApp, app), publish, subscribers)
