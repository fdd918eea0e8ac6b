"""lanner's fan-out: ``app.broadcast.relay`` for subscribers, ``publish`` for ``/pub``.

Written as the broadcast docs show it. Plugin autoload is off, except the
Redis backend's plugin when the URL asks for Redis.
"""

from __future__ import annotations

from typing import Any, cast

import lanner
from bench._asgi import ASGIApp
from bench.endpoints import FANOUT_CHANNEL, FANOUT_PUB_PATH, FANOUT_SUB_PATH, JSON_BODY, JSON_PATH
from bench.fanout_frameworks import FanoutApp

__all__ = ["create_fanout"]


class _Subscriber:
    def __init__(self, hub: lanner.Broadcast, backlog: int) -> None:
        self._hub = hub
        self._backlog = backlog

    async def on_websocket(self, req: lanner.Request, ws: lanner.WebSocket) -> None:
        await ws.accept()
        async with self._hub.relay(ws, FANOUT_CHANNEL, backlog=self._backlog):
            while True:
                try:
                    await ws.receive_text()
                except lanner.WebSocketDisconnected:
                    return


class _Publisher:
    def __init__(self, hub: lanner.Broadcast) -> None:
        self._hub = hub

    async def on_websocket(self, req: lanner.Request, ws: lanner.WebSocket) -> None:
        await ws.accept()
        publish = self._hub.publish
        while True:
            try:
                text = await ws.receive_text()
            except lanner.WebSocketDisconnected:
                return
            await publish(FANOUT_CHANNEL, text=text)


class _Json:
    async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
        resp.media = JSON_BODY


def create_fanout(*, url: str, backlog: int) -> FanoutApp:
    """Build a lanner app whose hub uses the backend ``url``."""
    plugins = ["broadcast_redis"] if url.startswith("redis") else False
    app: Any = lanner.App(autoload_plugins=plugins, broadcast=url)
    hub: lanner.Broadcast = app.broadcast
    app.add_route(FANOUT_SUB_PATH, _Subscriber(hub, backlog))
    app.add_route(FANOUT_PUB_PATH, _Publisher(hub))
    app.add_route(JSON_PATH, _Json())

    async def publish(text: str) -> None:
        await hub.publish(FANOUT_CHANNEL, text=text)

    return FanoutApp(cast(ASGIApp, app), publish, lambda: hub.stats()["subscribers"])
