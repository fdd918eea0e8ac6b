"""lanner: real-time web apps over ASGI, with WebSocket, Server-Sent Events and plugins."""

from importlib.metadata import PackageNotFoundError, version

from lanner._tasks import create_task
from lanner.app import App
from lanner.broadcast import (
    Broadcast,
    BroadcastBackend,
    BroadcastMessage,
    BroadcastUnavailable,
    SubscriberTooSlow,
)
from lanner.errors import (
    HTTPBadRequest,
    HTTPConflict,
    HTTPContentTooLarge,
    HTTPError,
    HTTPForbidden,
    HTTPGone,
    HTTPInternalServerError,
    HTTPMethodNotAllowed,
    HTTPNotAcceptable,
    HTTPNotFound,
    HTTPNotImplemented,
    HTTPPayloadTooLarge,
    HTTPRouteNotFound,
    HTTPServiceUnavailable,
    HTTPStatus,
    HTTPTooManyRequests,
    HTTPUnauthorized,
    HTTPUnprocessableEntity,
    HTTPUnsupportedMediaType,
    MediaMalformedError,
    PayloadTypeError,
    PluginConflictError,
    PluginLoadError,
    UnsupportedError,
    UnsupportedScopeError,
    WebSocketDisconnected,
    WebSocketHandlerNotFound,
    WebSocketPathNotFound,
    WebSocketServerError,
)
from lanner.options import RequestOptions, ResponseOptions
from lanner.plugins.hookspecs import hookimpl
from lanner.request import Request
from lanner.response import Response
from lanner.routing import RouteConflictError
from lanner.sse import SSEOptions, SSEvent
from lanner.ws import WebSocket
from lanner.ws_options import WebSocketOptions, WebSocketPayloadType

try:
    __version__: str = version("lanner")
    """The installed distribution's version, read from its metadata once, at import."""
except PackageNotFoundError:  # a source tree on sys.path that was never installed
    __version__ = "0+unknown"

__all__ = [
    "App",
    "Broadcast",
    "BroadcastBackend",
    "BroadcastMessage",
    "BroadcastUnavailable",
    "HTTPBadRequest",
    "HTTPConflict",
    "HTTPContentTooLarge",
    "HTTPError",
    "HTTPForbidden",
    "HTTPGone",
    "HTTPInternalServerError",
    "HTTPMethodNotAllowed",
    "HTTPNotAcceptable",
    "HTTPNotFound",
    "HTTPNotImplemented",
    "HTTPPayloadTooLarge",
    "HTTPRouteNotFound",
    "HTTPServiceUnavailable",
    "HTTPStatus",
    "HTTPTooManyRequests",
    "HTTPUnauthorized",
    "HTTPUnprocessableEntity",
    "HTTPUnsupportedMediaType",
    "MediaMalformedError",
    "PayloadTypeError",
    "PluginConflictError",
    "PluginLoadError",
    "Request",
    "RequestOptions",
    "Response",
    "ResponseOptions",
    "RouteConflictError",
    "SSEOptions",
    "SSEvent",
    "SubscriberTooSlow",
    "UnsupportedError",
    "UnsupportedScopeError",
    "WebSocket",
    "WebSocketDisconnected",
    "WebSocketHandlerNotFound",
    "WebSocketOptions",
    "WebSocketPathNotFound",
    "WebSocketPayloadType",
    "WebSocketServerError",
    "create_task",
    "hookimpl",
]
