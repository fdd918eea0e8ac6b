"""lanner: real-time web apps over ASGI, with WebSocket, Server-Sent Events and plugins."""

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
    HTTPTooManyRequests,
    HTTPUnauthorized,
    HTTPUnprocessableEntity,
    HTTPUnsupportedMediaType,
    MediaMalformedError,
    PayloadTypeError,
    PluginConflictError,
    PluginLoadError,
    WebSocketDisconnected,
    WebSocketHandlerNotFound,
    WebSocketPathNotFound,
    WebSocketServerError,
)
from lanner.hookspecs import hookimpl
from lanner.request import Request
from lanner.response import Response
from lanner.sse import SSEOptions, SSEvent
from lanner.ws import WebSocket
from lanner.ws_options import WebSocketOptions, WebSocketPayloadType

__version__ = "0.1.0"

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
    "HTTPTooManyRequests",
    "HTTPUnauthorized",
    "HTTPUnprocessableEntity",
    "HTTPUnsupportedMediaType",
    "MediaMalformedError",
    "PayloadTypeError",
    "PluginConflictError",
    "PluginLoadError",
    "Request",
    "Response",
    "SSEOptions",
    "SSEvent",
    "SubscriberTooSlow",
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
