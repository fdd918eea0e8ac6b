"""The demo's chat room: members, a bounded history, and fan-out with bounded outboxes.

This module knows nothing about WebSockets or HTTP: members receive plain dicts
through their outbox, and the demo's resources move them over the wire. Every
member has a bounded outbox, so one slow client can never make the server buffer
without limit or hold the others back: a member whose outbox is full is evicted
(its writer closes the connection), and everyone else carries on.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from datetime import datetime, timezone
from typing import Any, Final

__all__ = [
    "MAX_NAME_LENGTH",
    "MAX_TEXT_LENGTH",
    "ChatRoom",
    "Member",
    "clean_name",
    "clean_text",
]

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


class Member:
    """One connected client: a name and a bounded outbox of payloads to send it.

    ``None`` in the outbox means the member was evicted and its writer should close
    the connection.
    """

    __slots__ = ("evicted", "left", "name", "outbox")

    def __init__(self, name: str, outbox_size: int) -> None:
        self.name = name
        self.outbox: asyncio.Queue[Payload | None] = asyncio.Queue(maxsize=outbox_size)
        self.evicted = False
        self.left = False

    def __repr__(self) -> str:
        return f"<Member {self.name!r}{' evicted' if self.evicted else ''}>"


class ChatRoom:
    """The members, the recent messages, and the fan-out between them.

    Args:
        history: How many recent messages to keep (for newcomers and the HTTP API).
        outbox_size: How many payloads may wait for one member before it is evicted.
    """

    def __init__(self, *, history: int = 100, outbox_size: int = 64) -> None:
        self.members: set[Member] = set()
        self.history: deque[Payload] = deque(maxlen=history)
        self.outbox_size = outbox_size
        self.total = 0
        """How many messages were ever posted."""
        self._ids = itertools.count(1)

    @property
    def online(self) -> int:
        """How many members are connected."""
        return len(self.members)

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

    def join(self, name: str) -> Member:
        """Add a member; it gets a welcome with the history, everyone a presence update."""
        member = Member(name, self.outbox_size)
        self.members.add(member)
        self.tell(
            member,
            {
                "type": "welcome",
                "name": name,
                "history": self.recent(20),
                "online": self.online,
            },
        )
        self._broadcast({"type": "presence", "name": name, "joined": True, "online": self.online})
        return member

    def leave(self, member: Member) -> None:
        """Remove a member, evicted or not; the others get one presence update."""
        if member.left:
            return
        member.left = True
        self.members.discard(member)
        self._broadcast(
            {"type": "presence", "name": member.name, "joined": False, "online": self.online}
        )

    def post(self, name: object, text: object, *, via: str) -> Payload:
        """Validate, record and broadcast a message; return it.

        Raises:
            ValueError: The name or text is not acceptable (the message says why).
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
        self._broadcast(message)
        return message

    def tell(self, member: Member, payload: Payload) -> None:
        """Queue ``payload`` for one member, evicting it if its outbox is full."""
        if member.evicted:
            return
        try:
            member.outbox.put_nowait(payload)
        except asyncio.QueueFull:
            self._evict(member)

    def _broadcast(self, payload: Payload) -> None:
        for member in list(self.members):
            self.tell(member, payload)

    def _evict(self, member: Member) -> None:
        # Drop the backlog so the stop marker fits, and stop feeding the member.
        member.evicted = True
        self.members.discard(member)
        while not member.outbox.empty():
            member.outbox.get_nowait()
        member.outbox.put_nowait(None)
