"""The SSE side of the hub: a subscription as ``SSEvent`` objects for ``resp.sse``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator

from lanner.broadcast._resume import encode_positions
from lanner.broadcast.backend import SubscriberTooSlow
from lanner.broadcast.subscription import Subscription
from lanner.sse import SSEvent

__all__ = ["sse_events"]


async def sse_events(
    cm: contextlib.AbstractAsyncContextManager[Subscription], channel_count: int
) -> AsyncGenerator[SSEvent, None]:
    """Yield one ``SSEvent`` per message of the subscription ``cm`` opens.

    With one channel the event id is the message id, and the event is made once
    for every stream; with several the id encodes every channel's position. The
    stream ends at shutdown, and when the subscriber falls too far behind (the
    browser then reconnects and resumes).
    """
    async with cm as sub:
        positions = sub.positions
        next_message = sub.next
        while True:
            try:
                message = await next_message()
            except (StopAsyncIteration, SubscriberTooSlow):
                return
            if channel_count == 1:
                yield message.to_sse()
            else:
                yield message.to_sse(encode_positions(positions))
