"""A backend wrapper the conformance kit uses to count calls and stage faults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from lanner.broadcast.backend import BroadcastBackend, BroadcastMessage, BroadcastUnavailable

__all__ = ["FaultyBackend", "Sever"]

Sever = Callable[[BroadcastBackend], Awaitable[None]]
"""Cuts a backend's connection for real (for Redis, ``CLIENT KILL``)."""


class FaultyBackend(BroadcastBackend):
    """Delegates to ``inner``, counting (un)subscribe calls; can lose its connection.

    :meth:`lose_connection` ends the current :meth:`messages` iterator with
    :class:`BroadcastUnavailable`, as a real loss would, and makes the next
    ``refuse_connects`` calls to :meth:`connect` fail, so the hub's backoff runs.
    By default the loss is staged: the inner backend is closed and connected
    again (its subscriptions are gone, so messages published meanwhile reach
    only its history). With ``sever``, the kit's caller cuts it for real.
    """

    def __init__(self, inner: BroadcastBackend, sever: Sever | None = None) -> None:
        self.inner = inner
        self.sever = sever
        self.subscribe_calls: dict[str, int] = {}
        self.unsubscribe_calls: dict[str, int] = {}
        self.connects = 0
        self.refuse_connects = 0
        self.stall_publish = False
        self._lost: asyncio.Event = asyncio.Event()

    async def lose_connection(self, refuse_connects: int = 0) -> None:
        """Cut the connection now; refuse the next ``refuse_connects`` reconnects."""
        self.refuse_connects = refuse_connects
        if self.sever is not None:
            await self.sever(self.inner)  # the backend must notice on its own
            return
        await self.inner.close()
        await self.inner.connect()
        self._lost.set()

    async def connect(self) -> None:
        """Connect ``inner``, unless a staged outage refuses it."""
        self.connects += 1
        if self.refuse_connects > 0:
            self.refuse_connects -= 1
            raise BroadcastUnavailable("staged outage: connection refused")
        await self.inner.connect()

    async def close(self) -> None:
        """Close ``inner``."""
        await self.inner.close()

    async def publish(self, channel: str, payload: str | bytes, event: str | None) -> str:
        """Publish through ``inner`` (or hang forever while ``stall_publish``)."""
        if self.stall_publish:
            await asyncio.Event().wait()
        return await self.inner.publish(channel, payload, event)

    async def subscribe(self, channel: str) -> None:
        """Subscribe ``inner``, counting."""
        self.subscribe_calls[channel] = self.subscribe_calls.get(channel, 0) + 1
        await self.inner.subscribe(channel)

    async def unsubscribe(self, channel: str) -> None:
        """Unsubscribe ``inner``, counting."""
        self.unsubscribe_calls[channel] = self.unsubscribe_calls.get(channel, 0) + 1
        await self.inner.unsubscribe(channel)

    async def history(self, channel: str, after_id: str) -> list[BroadcastMessage]:
        """``inner``'s history."""
        return await self.inner.history(channel, after_id)

    async def last_id(self, channel: str) -> str:
        """``inner``'s last id."""
        return await self.inner.last_id(channel)

    async def messages(self) -> AsyncIterator[BroadcastMessage]:
        """``inner``'s messages, ending with ``BroadcastUnavailable`` on a loss."""
        self._lost.clear()
        incoming = self.inner.messages().__aiter__()
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            while True:
                step = asyncio.ensure_future(incoming.__anext__())
                await asyncio.wait([step, lost], return_when=asyncio.FIRST_COMPLETED)
                if lost.done():
                    step.cancel()
                    await asyncio.wait([step])
                    raise BroadcastUnavailable("connection lost")
                try:
                    message = step.result()
                except StopAsyncIteration:
                    return
                yield message
        finally:
            lost.cancel()
            await asyncio.wait([lost])
