"""The lanner demo that ``make run`` serves: a live chat room and a live feed.

Routes:

* ``GET /``: the page (inline HTML, CSS and JavaScript; no external assets). It
  chats over the WebSocket and shows the SSE feed beside the chat.
* ``WEBSOCKET /ws/chat?name=...``: the chat room, JSON media over TEXT messages.
  A client sends ``{"text": "..."}``; everyone receives ``message``,
  ``presence`` and (on joining) ``welcome`` payloads. Fan-out is the broadcast
  hub's: each connection relays the ``chat`` channel (``app.broadcast.relay``).
* ``GET /events``: Server-Sent Events from the hub's ``feed`` channel
  (``app.broadcast.sse``), where a ``tick`` with the server time and the room's
  activity is published every second; a reconnecting browser resumes from
  ``Last-Event-ID`` without missing a tick.
* ``GET /api/messages?limit=N``: the last N messages (JSON; CBOR or MessagePack
  when the ``Accept`` header asks for them).
* ``POST /api/messages``: ``{"name": ..., "text": ...}`` posts into the chat.
* ``GET /health``: liveness and counts.

Each client learns which worker process serves it (under ``lanner serve
--workers N``): the ``welcome`` payload carries ``worker_pid``, and ``/events``
answers with an ``X-Worker-PID`` header.

The app names its plugins and their config (DESIGN.md §2b): ``auth_mw`` guards
everything but the page and ``/health`` with a bearer token, and ``media_cbor``
serves CBOR. The token is a **demo token** embedded in the page so that the page
works out of the box; a real app hands each user their own token after they log
in. Set ``LANNER_DEMO_TOKEN`` to choose another one. The chat WebSocket accepts
handshakes from the page's own origin (``"self"``: whatever host and port the demo
is served on); set ``LANNER_DEMO_ORIGINS`` (comma-separated) to also allow pages
served elsewhere.
``broadcast_redis`` (also named) lets several workers share one chat:
``lanner serve examples.demo:app --workers 2 --broadcast redis://...``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from pathlib import Path
from typing import Final

import lanner
from examples.chat import CHAT_CHANNEL, ChatRoom, clean_name

__all__ = ["CHAT_SUBPROTOCOL", "DEFAULT_TOKEN", "FEED_CHANNEL", "app", "create_app"]

DEFAULT_TOKEN: Final = "demo-token"
"""The demo's bearer token, unless ``LANNER_DEMO_TOKEN`` says otherwise. Not a secret."""

CHAT_SUBPROTOCOL: Final = "lanner-chat"
"""The WebSocket subprotocol the page asks for; the app selects it when offered."""

FEED_CHANNEL: Final = "feed"
"""The broadcast channel the ticker publishes to and ``/events`` streams."""

CHAT_BACKLOG: Final = 64
"""How many chat messages may wait for one client before it is closed as too slow."""

TOKEN_QUERY_PARAM: Final = "access_token"
TOKEN_SUBPROTOCOL_PREFIX: Final = "bearer."
DEFAULT_ORIGINS: Final = ("self",)
_BINARY_MEDIA_TYPES: Final = ("application/cbor", "application/msgpack")

_PAGE_FILE: Final = Path(__file__).with_name("page.html")
_CONFIG_MARKER: Final = "__LANNER_DEMO_CONFIG__"

logger = logging.getLogger("examples.demo")


class Page:
    """``GET /``: the demo page, with the client config filled in once."""

    def __init__(self, html: str) -> None:
        self.body = html.encode()

    async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
        resp.content_type = "text/html; charset=utf-8"
        resp.set_header("Cache-Control", "no-store")
        resp.data = self.body


class Health:
    """``GET /health``: liveness, without credentials."""

    def __init__(self, room: ChatRoom) -> None:
        self.room = room

    async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
        resp.media = {"status": "ok", "online": self.room.online, "messages": self.room.total}


class Messages:
    """``/api/messages``: read the recent messages, or post one into the chat."""

    def __init__(self, room: ChatRoom) -> None:
        self.room = room

    async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
        limit = req.get_param_as_int("limit", default=20, min_value=1, max_value=100)
        assert limit is not None
        resp.media = {"messages": self.room.recent(limit)}
        # JSON by default; CBOR (from the media_cbor plugin) or MessagePack on request.
        accept = req.get_header("Accept", default="") or ""
        for media_type in _BINARY_MEDIA_TYPES:
            if media_type in accept and media_type in resp.options.media_handlers:
                resp.content_type = media_type
                break

    async def on_post(self, req: lanner.Request, resp: lanner.Response) -> None:
        body = await req.get_media()
        if not isinstance(body, dict):
            raise lanner.HTTPUnprocessableEntity(
                description='Expected a JSON object {"name": "...", "text": "..."}.'
            )
        try:
            message = await self.room.post(body.get("name"), body.get("text"), via="http")
        except ValueError as exc:
            raise lanner.HTTPUnprocessableEntity(description=str(exc)) from None
        except lanner.BroadcastUnavailable:
            raise lanner.HTTPServiceUnavailable(
                description="The chat cannot deliver messages right now; try again shortly."
            ) from None
        resp.status = 201
        resp.media = {"message": message}


class ChatSocket:
    """``/ws/chat``: relays the chat channel to the client; posts what it sends.

    The relay forwards every message published on the channel from one task
    and closes a client that falls ``backlog`` messages behind (1013); this
    responder only reads, and sends the client its own welcome and errors.
    """

    def __init__(self, room: ChatRoom, backlog: int) -> None:
        self.room = room
        self.backlog = backlog

    async def on_websocket(self, req: lanner.Request, ws: lanner.WebSocket) -> None:
        try:
            name = clean_name(req.get_param("name", default="guest"))
        except ValueError as exc:
            # Before accept(): denies the handshake (close code 3400; browsers see 403).
            raise lanner.HTTPBadRequest(description=str(exc)) from None
        chosen = CHAT_SUBPROTOCOL if CHAT_SUBPROTOCOL in ws.subprotocols else None
        try:
            await ws.accept(subprotocol=chosen)
        except lanner.WebSocketDisconnected:
            return  # the client left during the handshake
        room = self.room
        async with room.hub.relay(ws, CHAT_CHANNEL, backlog=self.backlog):
            joined = False
            try:
                # The worker's PID tells a client which of several workers serves it.
                await ws.send_media({**room.join(name), "worker_pid": os.getpid()})
                joined = True
                await room.announce(name, joined=True)
                while True:
                    await self._receive_one(ws, name)
            except lanner.WebSocketDisconnected:
                pass
            finally:
                room.leave()
                if joined:
                    with contextlib.suppress(lanner.BroadcastUnavailable, RuntimeError):
                        # RuntimeError: the hub closed first, at shutdown.
                        await room.announce(name, joined=False)

    async def _receive_one(self, ws: lanner.WebSocket, name: str) -> None:
        try:
            incoming = await ws.receive_media()
        except (ValueError, TypeError):
            # Malformed JSON (json.JSONDecodeError is a ValueError) or an undecodable
            # BINARY frame: tell this client and keep the connection.
            await ws.send_media({"type": "error", "error": 'Send JSON: {"text": "..."}.'})
            return
        text = incoming.get("text") if isinstance(incoming, dict) else None
        try:
            await self.room.post(name, text, via="ws")
        except ValueError as exc:
            await ws.send_media({"type": "error", "error": str(exc)})
        except lanner.BroadcastUnavailable:
            # The broadcast backend is down: tell this client, keep its connection.
            await ws.send_media({"type": "error", "error": "Not delivered; try again shortly."})


class Events:
    """``GET /events``: the ``feed`` channel as Server-Sent Events, resumable.

    Args:
        hub: The app's broadcast hub.
        stream_limit: End each stream after this many events (``None``: never),
            as a proxy that recycles long connections would; the browser then
            reconnects with ``Last-Event-ID`` and the hub resumes it.
    """

    def __init__(self, hub: lanner.Broadcast, stream_limit: int | None) -> None:
        self.hub = hub
        self.stream_limit = stream_limit

    async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
        events = self.hub.sse(FEED_CHANNEL, last_event_id=req.last_event_id)
        resp.set_header("X-Worker-PID", str(os.getpid()))
        resp.sse = self._retry_and_limit(events)

    async def _retry_and_limit(
        self, events: AsyncGenerator[lanner.SSEvent, None]
    ) -> AsyncIterator[lanner.SSEvent]:
        sent = 0
        try:
            async for event in events:
                if sent == 0:
                    # The first event also tells the browser how soon to reconnect.
                    yield lanner.SSEvent(
                        event=event.event,
                        event_id=event.event_id,
                        text=event.text,
                        retry=2000,
                    )
                else:
                    yield event
                sent += 1
                if self.stream_limit is not None and sent >= self.stream_limit:
                    return
        finally:
            await events.aclose()


class Ticker:
    """Middleware that publishes the room's snapshot to the feed every ``interval`` seconds.

    It runs from lifespan startup to shutdown, whether or not anyone listens, so
    the feed's history lets a reconnecting browser catch up on missed ticks.
    """

    def __init__(self, room: ChatRoom, interval: float) -> None:
        self.room = room
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def process_startup(self, scope: object, event: object) -> None:
        self._task = lanner.create_task(self._run(), name="demo feed ticker")

    async def process_shutdown(self, scope: object, event: object) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        hub = self.room.hub
        while True:
            try:
                await hub.publish(FEED_CHANNEL, self.room.snapshot(), event="tick")
            except lanner.BroadcastUnavailable:
                logger.warning("The feed could not publish a tick; trying again.")
            await asyncio.sleep(self.interval)


def _origins_from_env() -> list[str]:
    raw = os.environ.get("LANNER_DEMO_ORIGINS", "")
    extra = [origin.strip() for origin in raw.split(",") if origin.strip()]
    return [*DEFAULT_ORIGINS, *extra]


def _page(token: str) -> str:
    config = json.dumps(
        {
            "token": token,
            "subprotocol": CHAT_SUBPROTOCOL,
            "tokenSubprotocolPrefix": TOKEN_SUBPROTOCOL_PREFIX,
            "tokenQueryParam": TOKEN_QUERY_PARAM,
        }
    )
    # The config sits in a <script> element: "<" must not close it early.
    return _PAGE_FILE.read_text(encoding="utf-8").replace(
        _CONFIG_MARKER, config.replace("<", "\\u003c")
    )


def create_app(
    *,
    token: str | None = None,
    allowed_origins: Sequence[str] | None = None,
    feed_interval: float = 1.0,
    history: int = 100,
    outbox_size: int = CHAT_BACKLOG,
    feed_stream_limit: int | None = None,
    broadcast: str | None = None,
) -> lanner.App:
    """Build the demo app with its own, empty chat room.

    Args:
        token: The bearer token the chat, the feed and the API accept (and the page
            uses); defaults to ``LANNER_DEMO_TOKEN`` or :data:`DEFAULT_TOKEN`.
        allowed_origins: Origins allowed to open the chat WebSocket from a browser;
            defaults to the page's own origin (``"self"``, on any host and port)
            plus ``LANNER_DEMO_ORIGINS``.
        feed_interval: Seconds between two ``tick`` events on ``/events``.
        history: How many messages the room keeps.
        outbox_size: How many messages may wait for one slow chat client before
            it is disconnected (its relay's ``backlog``).
        feed_stream_limit: End each ``/events`` stream after this many events
            (default: never); browsers reconnect and resume.
        broadcast: The broadcast URL (default: ``LANNER_BROADCAST_URL``, else
            ``memory://``; ``lanner serve --broadcast redis://...`` lets several
            workers share one chat).
    """
    token = token or os.environ.get("LANNER_DEMO_TOKEN") or DEFAULT_TOKEN
    origins = list(allowed_origins) if allowed_origins is not None else _origins_from_env()
    app = lanner.App(
        # broadcast_redis provides redis:// for ``lanner serve --broadcast``.
        autoload_plugins=["media_cbor", "auth_mw", "broadcast_redis"],
        plugin_config={
            "auth_mw": {
                "tokens": {"demo": token},
                "query_param": TOKEN_QUERY_PARAM,
                "subprotocol_prefix": TOKEN_SUBPROTOCOL_PREFIX,
                "allowed_origins": origins,
                "exempt": ["/", "/health"],
            },
            "media_cbor": {},
        },
        broadcast=broadcast,
    )
    loaded = {info.name for info in app.plugin_assembly.plugins}
    if "auth_mw" not in loaded:
        logger.warning(
            "The auth_mw plugin is not loaded (not installed, or disabled): the demo's "
            "chat, feed and API accept requests without a token."
        )
    room = ChatRoom(app.broadcast, history=history)
    app.add_middleware(Ticker(room, feed_interval))
    app.add_route("/", Page(_page(token)))
    app.add_route("/health", Health(room))
    app.add_route("/api/messages", Messages(room))
    app.add_route("/ws/chat", ChatSocket(room, outbox_size))
    app.add_route("/events", Events(app.broadcast, feed_stream_limit))
    return app


app = create_app()
"""The app ``make run`` serves: ``lanner serve examples.demo:app``."""
