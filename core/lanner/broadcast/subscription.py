"""``Subscription``: one subscriber's bounded queue of broadcast messages.

The hub's reader puts each incoming message into every local subscriber's
queue with :meth:`Subscription.deliver`, which never waits: a full queue either
ends the subscription (``overflow="close"``) or drops its oldest message
(``"drop-oldest"``). The subscriber reads at its own pace.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from typing import Final, Literal

from lanner.broadcast.backend import BroadcastMessage, SubscriberTooSlow

__all__ = ["OVERFLOW_POLICIES", "Overflow", "Subscription"]

Overflow = Literal["close", "drop-oldest"]
"""What a full subscriber queue does with one more message."""

OVERFLOW_POLICIES: Final = ("close", "drop-oldest")

_ENDED: Final = "ended"


class Subscription:
    """An async iterator of :class:`~lanner.BroadcastMessage` for some channels.

    Made (inside the running event loop) by ``app.broadcast.subscribe(...)``.
    Messages of each channel come in publish order, each once; replayed history
    (``last_event_id``) comes first and never counts against ``backlog``.

    Attributes:
        channels: The channels subscribed to.
        backlog: How many live messages may wait to be read.
        overflow: ``"close"`` or ``"drop-oldest"``.
        dropped: How many messages ``"drop-oldest"`` dropped.
        positions: Per channel, the id of the last message this subscriber
            was given (at first, where it started), for resume.

    Raises:
        lanner.SubscriberTooSlow: (from iteration) the queue overflowed with
            ``overflow="close"``; queued messages are discarded.
    """

    __slots__ = (
        "_count_overflow",
        "_end",
        "_loop",
        "_on_overflow",
        "_queue",
        "_replay",
        "_skip",
        "_waiter",
        "backlog",
        "channels",
        "dropped",
        "overflow",
        "positions",
    )

    def __init__(
        self,
        channels: Sequence[str],
        backlog: int,
        overflow: Overflow,
        count_overflow: Callable[[bool], None] = lambda dropped: None,
    ) -> None:
        self.channels = tuple(channels)
        self.backlog = backlog
        self.overflow: Overflow = overflow
        self.dropped = 0
        self.positions: dict[str, str] = {}
        self._queue: deque[BroadcastMessage] = deque()
        self._replay: deque[BroadcastMessage] = deque()
        self._skip: dict[str, set[str]] | None = None
        self._waiter: asyncio.Future[None] | None = None
        # None while live; an exception to raise, or _ENDED to stop iteration.
        self._end: BaseException | str | None = None
        self._on_overflow: Callable[[], None] | None = None
        self._count_overflow = count_overflow
        self._loop = asyncio.get_running_loop()

    def __repr__(self) -> str:
        state = "live" if self._end is None else "ended"
        return f"<Subscription {list(self.channels)!r} {state}, {len(self._queue)} queued>"

    @property
    def ended(self) -> bool:
        """Whether the subscription has ended (too slow, shutdown, or left)."""
        return self._end is not None

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> BroadcastMessage:
        """Return the next message, waiting for one if none is queued."""
        return await self.next()

    async def next(self) -> BroadcastMessage:
        """Return the next message, waiting for one if none is queued.

        Raises:
            StopAsyncIteration: The subscription ended (the hub shut down or
                the subscription was left).
            lanner.SubscriberTooSlow: The queue overflowed with ``"close"``.
        """
        if self._replay:
            message = self._replay.popleft()
            self.positions[message.channel] = message.id
            return message
        queue = self._queue
        while True:
            while not queue:
                end = self._end
                if end is not None:
                    if end is _ENDED:
                        raise StopAsyncIteration
                    assert isinstance(end, BaseException)
                    raise end
                waiter = self._waiter = self._loop.create_future()
                try:
                    await waiter
                finally:
                    self._waiter = None
            message = queue.popleft()
            if self._skip is not None and self._is_replayed(message):
                continue
            self.positions[message.channel] = message.id
            return message

    def drain(self) -> list[BroadcastMessage]:
        """Return every message available now, without waiting (replayed ones first)."""
        taken = list(self._replay)
        self._replay.clear()
        queue = self._queue
        while queue:
            message = queue.popleft()
            if self._skip is None or not self._is_replayed(message):
                taken.append(message)
        for message in taken:
            self.positions[message.channel] = message.id
        return taken

    # -- the hub's side -------------------------------------------------------

    def deliver(self, message: BroadcastMessage) -> bool:
        """Queue one live message without waiting; return False if it was refused.

        The hub calls it for each subscriber of the message's channel.
        """
        if self._end is not None:
            return False
        queue = self._queue
        if len(queue) >= self.backlog:
            if self.overflow == "close":
                self.finish(
                    SubscriberTooSlow(
                        f"The subscriber to {list(self.channels)!r} fell {self.backlog} "
                        "messages behind (backlog) and was closed; read faster, raise "
                        "backlog=, or use overflow='drop-oldest'."
                    )
                )
                self._count_overflow(False)
                callback = self._on_overflow
                if callback is not None:
                    callback()
                return False
            queue.popleft()
            self.dropped += 1
            self._count_overflow(True)
        queue.append(message)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        return True

    def finish(self, end: BaseException | None = None, *, discard: bool = False) -> None:
        """End the subscription: iteration raises ``end``, or stops when it is ``None``.

        With an exception or ``discard=True``, queued messages are dropped at
        once (memory goes back); otherwise they are still given out first.
        """
        if self._end is not None:
            return
        self._end = _ENDED if end is None else end
        if end is not None or discard:
            self._queue.clear()
            self._replay.clear()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def on_overflow(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (once, from the publisher's side) when ``"close"`` overflows."""
        self._on_overflow = callback

    def start_at(self, channel: str, position: str) -> None:
        """Record where ``channel`` starts (the hub calls it before any message is read)."""
        self.positions.setdefault(channel, position)

    def replay(self, channel: str, messages: Sequence[BroadcastMessage], after_id: str) -> None:
        """Give ``messages`` (``channel``'s history after ``after_id``) first; skip them live.

        Live messages already queued, or arriving soon, may repeat what the
        history returned (or be ``after_id`` itself): they are skipped until the
        first live message the history did not have (per channel, live order
        is publish order).
        """
        self._replay.extend(messages)
        self.positions[channel] = after_id
        skip = {m.id for m in messages if not m.gap}
        skip.add(after_id)
        if self._skip is None:
            self._skip = {}
        self._skip[channel] = skip

    def _is_replayed(self, message: BroadcastMessage) -> bool:
        skips = self._skip
        assert skips is not None
        skip = skips.get(message.channel)
        if skip is None:
            return False
        if message.id in skip:
            return True
        # The first live message the history did not have: from here on live
        # messages are all new on this channel.
        del skips[message.channel]
        if not skips:
            self._skip = None
        return False
