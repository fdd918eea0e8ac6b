"""The demo's chat room: who is online, a bounded history, and what goes on the channel.

This module knows nothing about WebSockets or HTTP. Fan-out is the hub's job
(``app.broadcast``): the room publishes each message and presence change to
one channel, and every connected client's relay forwards it, with a bounded
queue per client, so one slow client can never hold the others back.
"""

from __future__ import annotations

import itertools
from collections import deque
from datetime import datetime, timezone
from typing import Any, Final

import lanner

__all__ = [
    "CHAT_CHANNEL",
    "MAX_NAME_LENGTH",
    "MAX_TEXT_LENGTH",
    "ChatRoom",
    "clean_name",
    "clean_text",
]

CHAT_CHANNEL: Final = "chat"
"""The broadcast channel every chat client's relay forwards."""

MAX_NAME_LENGTH: Final = 24
MAX_TEXT_LENGTH: Final = 500

Payload = dict[str, Any]
"""One message to a client, as a JSON-ready dict."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def clean_name(raw: object) -> str:
    """Return a display name, stripped, or raise ``ValueError`` saying what is wrong."""
    if not isinstance(raw, str):
        raise ValueError(f"name must be a string, got {type(raw).__name__}.")
    name = " ".join(raw.split())
    if not name:
        raise ValueError("name must not be empty.")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"name must be at most {MAX_NAME_LENGTH} characters, got {len(name)}.")
    if not name.isprintable():
        raise ValueError("name must contain printable characters only.")
    return name


def clean_text(raw: object) -> str:
    """Return a message text, stripped, or raise ``ValueError`` saying what is wrong."""
    if not isinstance(raw, str):
        raise ValueError(f"text must be a string, got {type(raw).__name__}.")
    text = raw.strip()
    if not text:
        raise ValueError("text must not be empty.")
    if len(text) > MAX_TEXT_LENGTH:
        raise ValueError(f"text must be at most {MAX_TEXT_LENGTH} characters, got {len(text)}.")
    return text


class ChatRoom:
    """The room's state in this process, and the messages it publishes.

    Args:
        hub: The app's broadcast hub; messages and presence go to
            :data:`CHAT_CHANNEL` on it.
        history: How many recent messages to keep (for newcomers and the HTTP API).
    """

    def __init__(self, hub: lanner.Broadcast, *, history: int = 100) -> None:
        self.hub = hub
        self.history: deque[Payload] = deque(maxlen=history)
        self.online = 0
        """How many members are connected to this process."""
        self.total = 0
        """How many messages were ever posted through this process."""
        self._ids = itertools.count(1)

    def recent(self, limit: int) -> list[Payload]:
        """Return the last ``limit`` messages, oldest first."""
        if limit <= 0:
            return []
        return list(self.history)[-limit:]

    def snapshot(self) -> Payload:
        """Return the room's state for the live feed: time, counts and the last message."""
        last = self.history[-1] if self.history else None
        return {
            "time": _now(),
            "online": self.online,
            "messages": self.total,
            "last": None if last is None else {"name": last["name"], "text": last["text"]},
        }

    def join(self, name: str) -> Payload:
        """Count a member in; return the welcome to send it before :meth:`announce`."""
        self.online += 1
        return {"type": "welcome", "name": name, "history": self.recent(20), "online": self.online}

    def leave(self) -> None:
        """Count a member out; :meth:`announce` then tells everyone."""
        self.online -= 1

    async def announce(self, name: str, *, joined: bool) -> None:
        """Publish that ``name`` joined or left, with the new count."""
        payload = {"type": "presence", "name": name, "joined": joined, "online": self.online}
        await self.hub.publish(CHAT_CHANNEL, payload)

    async def post(self, name: object, text: object, *, via: str) -> Payload:
        """Validate, record and publish a message; return it.

        Raises:
            ValueError: The name or text is not acceptable (the message says why).
            lanner.BroadcastUnavailable: The hub's backend cannot be reached.
        """
        message: Payload = {
            "type": "message",
            "id": next(self._ids),
            "name": clean_name(name),
            "text": clean_text(text),
            "time": _now(),
            "via": via,
        }
        self.history.append(message)
        self.total += 1
        await self.hub.publish(CHAT_CHANNEL, message)
        return message
