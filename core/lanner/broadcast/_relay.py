"""``Relay``: forwards a subscription to one WebSocket from a single task."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

from lanner._tasks import create_task
from lanner.broadcast.backend import SubscriberTooSlow
from lanner.broadcast.subscription import Subscription
from lanner.errors import WebSocketDisconnected
from lanner.ws import WebSocket

__all__ = ["Relay"]

logger = logging.getLogger("lanner.broadcast")

TRY_AGAIN_LATER: Final = 1013
GOING_AWAY: Final = 1001
CLOSE_TIMEOUT: Final = 5.0
"""Seconds a relay's close may wait on a client that does not read."""

_TOO_SLOW_REASON: Final = "Too slow: messages piled up. Reconnect to catch up."
_SHUTDOWN_REASON: Final = "Server shutting down."


class Relay:
    """What ``app.broadcast.relay(ws, ...)`` returns: ``async with`` it around a receive loop.

    Attributes:
        subscription: The subscription being forwarded (for ``dropped`` and
            ``positions``; the relay's task reads it, so do not iterate it).
    """

    __slots__ = ("_cm", "_sending", "_task", "_too_slow", "_ws", "subscription")

    def __init__(
        self, ws: WebSocket, cm: contextlib.AbstractAsyncContextManager[Subscription]
    ) -> None:
        self._ws = ws
        self._cm = cm
        self._task: asyncio.Task[None] | None = None
        self._too_slow = False
        self._sending = False
        self.subscription: Subscription | None = None

    @property
    def dropped(self) -> int:
        """How many messages ``overflow="drop-oldest"`` dropped for this client."""
        return self.subscription.dropped if self.subscription is not None else 0

    async def __aenter__(self) -> Relay:
        if not self._ws.ready:
            raise RuntimeError(
                "relay() needs an accepted, open WebSocket: call 'await ws.accept()' first."
            )
        sub = await self._cm.__aenter__()
        self.subscription = sub
        sub.on_overflow(self._overflowed)
        self._task = create_task(self._forward(sub), name="lanner-broadcast-relay")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        task = self._task
        try:
            if task is not None:
                if not task.done():
                    task.cancel()
                # wait() neither raises the task's error nor swallows our own cancellation.
                await asyncio.wait([task])
                if not task.cancelled() and task.exception() is not None:
                    logger.error("A broadcast relay failed", exc_info=task.exception())
        finally:
            await self._cm.__aexit__(None, None, None)

    def _overflowed(self) -> None:
        # Called from the hub's reader while this relay's task may be stuck in a
        # send to a client that does not read: cancel that send, and the task
        # closes with 1013. A task waiting for messages (or not started yet)
        # learns of it from the subscription itself.
        self._too_slow = True
        task = self._task
        if self._sending and task is not None and not task.done():
            task.cancel()

    async def _forward(self, sub: Subscription) -> None:
        ws = self._ws
        send_text = ws.send_text
        send_data = ws.send_data
        next_message = sub.next
        try:
            while True:
                message = await next_message()
                self._sending = True
                text = message.text
                if text is not None:
                    await send_text(text)
                elif message.data is not None:
                    await send_data(message.data)
                # A gap marker carries no payload: nothing to forward.
                self._sending = False
        except WebSocketDisconnected:
            return  # the client left; the block's own receive sees it too
        except StopAsyncIteration:
            await self._close(GOING_AWAY, _SHUTDOWN_REASON)
        except SubscriberTooSlow:
            await self._close(TRY_AGAIN_LATER, _TOO_SLOW_REASON)
        except asyncio.CancelledError:
            if not self._too_slow:
                raise
            await self._close(TRY_AGAIN_LATER, _TOO_SLOW_REASON)

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._ws.close(code, reason), CLOSE_TIMEOUT)
