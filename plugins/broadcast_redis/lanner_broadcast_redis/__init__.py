"""lanner-broadcast-redis: the broadcast hub across workers and machines, on Redis Streams.

Installed, it provides the ``redis://`` and ``rediss://`` broadcast URLs
(entry point ``broadcast_redis`` in group ``lanner``):
``lanner serve app:app --workers 4 --broadcast redis://localhost:6379/0``.
Options go in the URL query or in ``plugin_config={"broadcast_redis": {...}}``.
"""

from lanner_broadcast_redis._config import (
    DEFAULT_KEY_PREFIX,
    DEFAULT_POOL_SIZE,
    PLUGIN_NAME,
    SCHEMES,
    RedisSettings,
    parse_settings,
    redact_url,
)
from lanner_broadcast_redis._config import PLUGIN_NAME as name
from lanner_broadcast_redis.backend import LIVE_MINIMUM, RedisBackend
from lanner_broadcast_redis.hooks import (
    lanner_broadcast_backends,
    lanner_configure,
    make_backend,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_KEY_PREFIX",
    "DEFAULT_POOL_SIZE",
    "LIVE_MINIMUM",
    "PLUGIN_NAME",
    "SCHEMES",
    "RedisBackend",
    "RedisSettings",
    "lanner_broadcast_backends",
    "lanner_configure",
    "make_backend",
    "name",
    "parse_settings",
    "redact_url",
]
