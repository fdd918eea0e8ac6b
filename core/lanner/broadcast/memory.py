"""The ``memory://`` backend: one process, no network, the default.

Messages go straight from ``publish`` to the hub's reader; each channel keeps
its last ``history`` messages in a ring for resume. Ids are ``<epoch>-<n>``: a
per-channel counter behind a random tag drawn when the backend is made, so an
id from an earlier run of the server (whose counters started over) is told
apart and resumes with a gap instead of silently skipping messages.

It serves one App in one process: with several workers each has its own, so
use a networked backend (``redis://``) there.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Final

from lanner.broadcast.backend import (
    BroadcastBackend,
    BroadcastMessage,
    BroadcastUnavailable,
    parse_broadcast_url,
)

if TYPE_CHECKING:
    from lanner.app import App

__all__ = ["MemoryBackend", "memory_backend"]

_CLOSED: Final = None


class _Channel:
    __slots__ = ("kept", "seq")

    def __init__(self, history: int) -> None:
        self.seq = 0
        self.kept: deque[BroadcastMessage] = deque(maxlen=history)


class MemoryBackend(BroadcastBackend):
    """In-process broadcast backend: ``memory://?history=N``.

    Args:
        history: Messages kept per channel for resume (``0``: none).
    """

    def __init__(self, *, history: int = 1000) -> None:
        self._history = history
        self._epoch = secrets.token_hex(3)
        self._channels: dict[str, _Channel] = {}
        self._subscribed: set[str] = set()
        self._incoming: asyncio.Queue[BroadcastMessage | None] | None = None

    def __repr__(self) -> str:
        state = "connected" if self._incoming is not None else "closed"
        return f"<MemoryBackend {state}, history={self._history}>"

    async def connect(self) -> None:
        """Start accepting messages (nothing to open)."""
        if self._incoming is None:
            self._incoming = asyncio.Queue()

    async def close(self) -> None:
        """Stop; a running :meth:`messages` iterator ends."""
        incoming, self._incoming = self._incoming, None
        self._subscribed.clear()
        if incoming is not None:
            incoming.put_nowait(_CLOSED)

    async def publish(self, channel: str, payload: str | bytes, event: str | None) -> str:
        """Number the message, keep it, and hand it to the reader if subscribed."""
        incoming = self._incoming
        if incoming is None:
            raise BroadcastUnavailable("The memory:// backend is not connected.")
        state = self._channels.get(channel)
        if state is None:
            state = self._channels[channel] = _Channel(self._history)
        state.seq += 1
        message = BroadcastMessage(f"{self._epoch}-{state.seq}", channel, payload, event)
        if self._history:
            state.kept.append(message)
        if channel in self._subscribed:
            incoming.put_nowait(message)
        return message.id

    async def subscribe(self, channel: str) -> None:
        """Deliver ``channel``'s messages from now on."""
        self._subscribed.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        """Stop delivering ``channel``."""
        self._subscribed.discard(channel)

    async def history(self, channel: str, after_id: str) -> list[BroadcastMessage]:
        """Return the kept messages after ``after_id``, behind a gap marker if some are lost."""
        state = self._channels.get(channel)
        seq = self._seq_of(after_id)
        newest = state.seq if state is not None else 0
        kept = list(state.kept) if state is not None else []
        if seq is None or seq > newest or not self._history:
            return [BroadcastMessage.gap_marker(channel, after_id), *kept]
        later = kept[max(0, len(kept) - (newest - seq)) :]
        if newest - seq > len(later):
            return [BroadcastMessage.gap_marker(channel, after_id), *later]
        return later

    async def last_id(self, channel: str) -> str:
        """Return the newest id on ``channel`` (``<epoch>-0`` before its first message)."""
        state = self._channels.get(channel)
        return f"{self._epoch}-{state.seq if state is not None else 0}"

    async def messages(self) -> AsyncIterator[BroadcastMessage]:
        """Yield messages of subscribed channels until :meth:`close`."""
        incoming = self._incoming
        if incoming is None:
            raise BroadcastUnavailable("The memory:// backend is not connected.")
        while (message := await incoming.get()) is not None:
            yield message

    def _seq_of(self, message_id: str) -> int | None:
        epoch, _, number = message_id.partition("-")
        if epoch != self._epoch or not number.isdigit():
            return None
        return int(number)


def memory_backend(url: str, app: App) -> MemoryBackend:
    """The ``memory://`` factory: ``memory://?history=N`` (plus the common options).

    Raises:
        ValueError: The URL has a host, a path or an unknown option.
    """
    options = parse_broadcast_url(url)
    rest = url.split("://", 1)[1].split("?", 1)[0]
    if rest:
        raise ValueError(
            f"Broadcast URL {url!r}: memory:// takes no host or path (found {rest!r}); "
            "write 'memory://' or 'memory://?history=100'."
        )
    return MemoryBackend(history=options.history)
