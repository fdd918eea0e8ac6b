"""The broadcast hub served by a real uvicorn for ``tests/e2e/test_broadcast_e2e.py``.

* ``WEBSOCKET /room/{channel}?backlog=N``: relays the channel; what the client
  sends is published on it.
* ``GET /feed?channels=a,b``: the channels as Server-Sent Events (``hub.sse``).
* ``POST /publish/{channel}?count=N&size=S``: publishes the body, or N messages of
  S bytes numbered from 0; answers with the ids.
* ``GET /stats``: ``app.broadcast.stats()``.
"""

from __future__ import annotations

import lanner
from lanner import Request, Response, WebSocket

app = lanner.App(broadcast="memory://?history=100")
hub = app.broadcast


class Room:
    async def on_websocket(self, req: Request, ws: WebSocket, channel: str) -> None:
        backlog = req.get_param_as_int("backlog", default=256, min_value=1) or 256
        await ws.accept()
        try:
            async with hub.relay(ws, channel, backlog=backlog):
                while True:
                    await hub.publish(channel, text=await ws.receive_text())
        except lanner.WebSocketDisconnected:
            pass


class Feed:
    async def on_get(self, req: Request, resp: Response) -> None:
        channels = (req.get_param("channels") or "news").split(",")
        resp.sse = hub.sse(*channels, last_event_id=req.last_event_id)


class Publish:
    async def on_post(self, req: Request, resp: Response, channel: str) -> None:
        count = req.get_param_as_int("count", min_value=1)
        if count is None:
            ids = [await hub.publish(channel, text=(await req.get_body()).decode())]
        else:
            size = req.get_param_as_int("size", default=16, min_value=8) or 16
            ids = [
                await hub.publish(channel, text=f"{n:08d}".ljust(size, ".")) for n in range(count)
            ]
        resp.media = {"ids": ids}


class Stats:
    async def on_get(self, req: Request, resp: Response) -> None:
        resp.media = hub.stats()


app.add_route("/room/{channel}", Room())
app.add_route("/feed", Feed())
app.add_route("/publish/{channel}", Publish())
app.add_route("/stats", Stats())
