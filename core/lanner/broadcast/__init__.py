"""The broadcast hub: fan-out to WebSockets and SSE streams, within and across processes.

``app.broadcast`` is a :class:`Broadcast`; backends (``memory://`` built in,
others from plugins) implement :class:`BroadcastBackend`, made by a factory
``factory(url, app)`` registered per URL scheme.
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
from lanner.broadcast.select import BUILTIN_BACKENDS, open_broadcast
from lanner.broadcast.subscription import Subscription

__all__ = [
    "BUILTIN_BACKENDS",
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
