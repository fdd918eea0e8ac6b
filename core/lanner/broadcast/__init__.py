"""The broadcast hub: fan-out to WebSockets and SSE streams, within and across processes.

``app.broadcast`` is a :class:`Broadcast`; backends (``memory://`` built in,
others from plugins) implement :class:`BroadcastBackend`.
"""

from lanner.broadcast.backend import (
    BackendFactory,
    BroadcastBackend,
    BroadcastMessage,
    BroadcastOptions,
    BroadcastUnavailable,
    SubscriberTooSlow,
    parse_broadcast_url,
)

__all__ = [
    "BackendFactory",
    "BroadcastBackend",
    "BroadcastMessage",
    "BroadcastOptions",
    "BroadcastUnavailable",
    "SubscriberTooSlow",
    "parse_broadcast_url",
]
