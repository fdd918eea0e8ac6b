"""A bounded, closable message queue: one direction of a simulated connection.

A real server applies back-pressure: when the peer does not read, the
sender's ``send`` suspends once the buffers are full. The simulated client and
server use one ``Pipe`` per direction for the same effect, so an app that sends
without pause cannot starve the test or fill memory.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Final

from lanner._types import Message

__all__ = ["QUEUE_SIZE", "Pipe"]

QUEUE_SIZE: Final = 32
"""Messages a direction holds before its sender suspends (uvicorn's default ``--ws-max-queue``)."""


class Pipe:
    """A FIFO of ASGI messages holding at most ``capacity`` before :meth:`put` waits.

    Closing it releases waiting senders (their :meth:`put` returns ``False``)
    and refuses later ones; messages already in it can still be read.
    """

    __slots__ = ("_capacity", "_closed", "_items", "_readable", "_writable")

    def __init__(self, capacity: int = QUEUE_SIZE) -> None:
        self._capacity = capacity
        self._items: deque[Message] = deque()
        self._readable = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()
        self._closed = False

    def __len__(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        """Whether nothing is waiting to be read."""
        return not self._items

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def has_room(self) -> bool:
        """Whether :meth:`put` would append at once."""
        return len(self._items) < self._capacity

    async def put(self, message: Message) -> bool:
        """Append ``message``, waiting while the pipe is full.

        Returns:
            ``True`` once appended; ``False`` if the pipe was closed first (the
            message is then dropped).
        """
        while len(self._items) >= self._capacity and not self._closed:
            self._writable.clear()
            await self._writable.wait()
        if self._closed:
            return False
        self.put_nowait(message)
        return True

    def put_nowait(self, message: Message) -> None:
        """Append ``message`` whatever the capacity (a close or disconnect event)."""
        self._items.append(message)
        self._readable.set()

    def get_nowait(self) -> Message | None:
        """Return the next message, or ``None`` if there is none."""
        if not self._items:
            return None
        message = self._items.popleft()
        if not self._items:
            self._readable.clear()
        if len(self._items) < self._capacity:
            self._writable.set()
        return message

    async def get(self) -> Message:
        """Return the next message, waiting for one."""
        while not self._items:
            await self._readable.wait()
        message = self.get_nowait()
        assert message is not None
        return message

    def close(self) -> None:
        """Refuse further :meth:`put` calls and release any that are waiting."""
        self._closed = True
        self._writable.set()
