"""The SSE side of the hub: a subscription as ``SSEvent`` objects for ``resp.sse``."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import AsyncGenerator
from typing import Final

from lanner.broadcast._resume import encode_positions
from lanner.broadcast.backend import SubscriberTooSlow
from lanner.broadcast.subscription import Subscription
from lanner.sse import SSEvent

__all__ = ["GAP_EVENT", "sse_events"]

GAP_EVENT: Final = "gap"
"""The event name of a gap marker on an SSE stream; its data is the channel name."""


async def sse_events(
    cm: contextlib.AbstractAsyncContextManager[Subscription], channel_count: int
) -> AsyncGenerator[SSEvent, None]:
    """Yield one ``SSEvent`` per message of the subscription ``cm`` opens.

    With one channel the event id is the message id; with several it encodes
    every channel's position. The stream ends at shutdown, and when the
    subscriber falls too far behind (the browser then reconnects and resumes).
    """
    async with cm as sub:
        single = channel_count == 1
        positions = sub.positions
        next_message = sub.next
        while True:
            try:
                message = await next_message()
            except (StopAsyncIteration, SubscriberTooSlow):
                return
            event_id = message.id if single else encode_positions(positions)
            if message.gap:
                yield SSEvent(event=GAP_EVENT, text=message.channel, event_id=event_id)
                continue
            text = message.text
            if text is None:
                text = base64.b64encode(message.data or b"").decode("ascii")
            yield SSEvent(text=text, event=message.event, event_id=event_id)
