"""The broadcast hub: fan-out to WebSockets and SSE streams, within and across processes.

``app.broadcast`` is a :class:`Broadcast`. Backends implement
:class:`BroadcastBackend` and come from plugins, by URL scheme, as factories
``factory(url, app)``: ``memory://`` from the ``lanner.memory`` default plugin,
others from installed plugins (``redis://`` from ``lanner-broadcast-redis``).
"""

from lanner.broadcast._relay import Relay
from lanner.broadcast.backend import (
    COMMON_OPTIONS,
    BackendFactory,
    BroadcastBackend,
    BroadcastMessage,
    BroadcastOptions,
    BroadcastUnavailable,
    SubscriberTooSlow,
    parse_broadcast_url,
    redact_url,
)
from lanner.broadcast.hub import Broadcast
from lanner.broadcast.memory import MemoryBackend, memory_backend
from lanner.broadcast.select import open_broadcast
from lanner.broadcast.subscription import Subscription

__all__ = [
    "COMMON_OPTIONS",
    "BackendFactory",
    "Broadcast",
    "BroadcastBackend",
    "BroadcastMessage",
    "BroadcastOptions",
    "BroadcastUnavailable",
    "MemoryBackend",
    "Relay",
    "SubscriberTooSlow",
    "Subscription",
    "memory_backend",
    "open_broadcast",
    "parse_broadcast_url",
    "redact_url",
]
