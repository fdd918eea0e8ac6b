"""The lanner demo that ``make run`` serves: a live chat room and a live feed.

Routes:

* ``GET /``: the page (inline HTML, CSS and JavaScript; no external assets). It
  chats over the WebSocket and shows the SSE feed beside the chat.
* ``WEBSOCKET /ws/chat?name=...``: the chat room, JSON media over TEXT messages.
  A client sends ``{"text": "..."}``; everyone receives ``message``,
  ``presence`` and (on joining) ``welcome`` payloads.
* ``GET /events``: Server-Sent Events, a ``tick`` event every second with the
  server time and the room's activity; resumable through ``Last-Event-ID``.
* ``GET /api/messages?limit=N``: the last N messages (JSON; CBOR or MessagePack
  when the ``Accept`` header asks for them).
* ``POST /api/messages``: ``{"name": ..., "text": ...}`` posts into the chat.
* ``GET /health``: liveness and counts.

The app names its plugins and their config (DESIGN.md §2b): ``auth_mw`` guards
everything but the page and ``/health`` with a bearer token, and ``media_cbor``
serves CBOR. The token is a **demo token** embedded in the page so that the page
works out of the box; a real app hands each user their own token after they log
in. Set ``LANNER_DEMO_TOKEN`` to choose another one. The chat WebSocket accepts
handshakes from the page's own origin (``"self"``: whatever host and port the demo
is served on); set ``LANNER_DEMO_ORIGINS`` (comma-separated) to also allow pages
served elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Final

import lanner
from examples.chat import ChatRoom, Member, clean_name

__all__ = ["CHAT_SUBPROTOCOL", "DEFAULT_TOKEN", "app", "create_app"]

DEFAULT_TOKEN: Final = "demo-token"
"""The demo's bearer token, unless ``LANNER_DEMO_TOKEN`` says otherwise. Not a secret."""

CHAT_SUBPROTOCOL: Final = "lanner-chat"
"""The WebSocket subprotocol the page asks for; the app selects it when offered."""

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
            message = self.room.post(body.get("name"), body.get("text"), via="http")
        except ValueError as exc:
            raise lanner.HTTPUnprocessableEntity(description=str(exc)) from None
        resp.status = 201
        resp.media = {"message": message}


class ChatSocket:
    """``/ws/chat``: one WebSocket per member, a reader here and a writer task."""

    def __init__(self, room: ChatRoom) -> None:
        self.room = room

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
        member = self.room.join(name)
        writer = lanner.create_task(_write(ws, member), name=f"demo chat writer {name}")
        try:
            while True:
                await self._receive_one(ws, member)
        except lanner.WebSocketDisconnected:
            pass
        finally:
            self.room.leave(member)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, lanner.WebSocketDisconnected):
                await writer

    async def _receive_one(self, ws: lanner.WebSocket, member: Member) -> None:
        try:
            incoming = await ws.receive_media()
        except (ValueError, TypeError):
            # Malformed JSON (json.JSONDecodeError is a ValueError) or an undecodable
            # BINARY frame: tell this client and keep the connection.
            self.room.tell(member, {"type": "error", "error": 'Send JSON: {"text": "..."}.'})
            return
        text = incoming.get("text") if isinstance(incoming, dict) else None
        try:
            self.room.post(member.name, text, via="ws")
        except ValueError as exc:
            self.room.tell(member, {"type": "error", "error": str(exc)})


async def _write(ws: lanner.WebSocket, member: Member) -> None:
    """Send everything queued for ``member``; close if it was evicted for being slow."""
    while (payload := await member.outbox.get()) is not None:
        await ws.send_media(payload)
    await ws.close(1013, "Too slow: messages were piling up; reconnect to catch up.")


class Events:
    """``GET /events``: a ``tick`` every ``interval`` seconds with the room's activity."""

    def __init__(self, room: ChatRoom, interval: float) -> None:
        self.room = room
        self.interval = interval

    async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
        last = req.last_event_id
        start = int(last) if last is not None and last.isdigit() else 0
        resp.sse = self._ticks(start)

    async def _ticks(self, last_id: int) -> AsyncIterator[lanner.SSEvent]:
        number = last_id
        # The first event also tells the browser how soon to reconnect.
        retry: int | None = 2000
        while True:
            number += 1
            yield lanner.SSEvent(
                event="tick", event_id=str(number), json=self.room.snapshot(), retry=retry
            )
            retry = None
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
    outbox_size: int = 64,
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
        outbox_size: How many messages may wait for one slow client before it is
            disconnected.
    """
    token = token or os.environ.get("LANNER_DEMO_TOKEN") or DEFAULT_TOKEN
    origins = list(allowed_origins) if allowed_origins is not None else _origins_from_env()
    app = lanner.App(
        autoload_plugins=["media_cbor", "auth_mw"],
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
    )
    loaded = {info.name for info in app.plugin_assembly.plugins}
    if "auth_mw" not in loaded:
        logger.warning(
            "The auth_mw plugin is not loaded (not installed, or disabled): the demo's "
            "chat, feed and API accept requests without a token."
        )
    room = ChatRoom(history=history, outbox_size=outbox_size)
    app.add_route("/", Page(_page(token)))
    app.add_route("/health", Health(room))
    app.add_route("/api/messages", Messages(room))
    app.add_route("/ws/chat", ChatSocket(room))
    app.add_route("/events", Events(room, feed_interval))
    return app


app = create_app()
"""The app ``make run`` serves: ``lanner serve examples.demo:app``."""
