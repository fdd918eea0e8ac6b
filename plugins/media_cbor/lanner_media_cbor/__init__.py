"""lanner-media-cbor: CBOR for ``application/cbor`` bodies and, on request, WebSocket BINARY.

Installed, it loads by itself (entry point ``media_cbor`` in group ``lanner``);
``App(plugins=[lanner_media_cbor], autoload_plugins=False)`` loads it
in-process. It takes the WebSocket BINARY slot (MessagePack by default) only
when the app opts in with ``plugin_config={"media_cbor": {"ws_binary": True}}``.
"""

from importlib.metadata import PackageNotFoundError, version

from lanner_media_cbor._codec import (
    MAX_BIGNUM_BYTES,
    MAX_DEPTH,
    REFUSED_TAGS,
    CBORPayloadError,
    decode,
    encode,
)
from lanner_media_cbor._config import PLUGIN_NAME, CBORConfig, CBORConfigError
from lanner_media_cbor._config import PLUGIN_NAME as name
from lanner_media_cbor.handlers import MEDIA_TYPE, CBORHandler, CBORHandlerWS
from lanner_media_cbor.hooks import (
    lanner_configure,
    lanner_http_media_handlers,
    lanner_ws_media_handlers,
)

try:
    __version__: str = version("lanner-media-cbor")
    """The installed distribution's version, read from its metadata once, at import."""
except PackageNotFoundError:  # a source tree on sys.path that was never installed
    __version__ = "0+unknown"

__all__ = [
    "MAX_BIGNUM_BYTES",
    "MAX_DEPTH",
    "MEDIA_TYPE",
    "PLUGIN_NAME",
    "REFUSED_TAGS",
    "CBORConfig",
    "CBORConfigError",
    "CBORHandler",
    "CBORHandlerWS",
    "CBORPayloadError",
    "decode",
    "encode",
    "lanner_configure",
    "lanner_http_media_handlers",
    "lanner_ws_media_handlers",
    "name",
]
