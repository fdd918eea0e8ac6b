"""The shapes lanner's modules share: ASGI aliases and the callables an app supplies.

The ASGI names are plain aliases. The app-supplied callables (responders,
sinks, error handlers and the middleware stages) are protocols, so each shape
is written, and documented, once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from lanner.request import Request
    from lanner.response import Response
    from lanner.ws import WebSocket

__all__ = [
    "ASGIApp",
    "ErrorHandler",
    "Headers",
    "LifespanStage",
    "Message",
    "Receive",
    "RequestStage",
    "RequestWsStage",
    "ResourceStage",
    "ResourceWsStage",
    "Responder",
    "ResponseStage",
    "Scope",
    "Send",
    "Sink",
]

Scope = MutableMapping[str, Any]
"""The ASGI connection scope."""

Message = MutableMapping[str, Any]
"""One ASGI event, sent or received."""

Receive = Callable[[], Awaitable[Message]]
"""The ASGI ``receive`` callable."""

Send = Callable[[Message], Awaitable[None]]
"""The ASGI ``send`` callable."""

ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
"""An ASGI 3 application."""

Headers = list[tuple[bytes, bytes]]
"""Raw response headers as ASGI wants them: lower-case latin-1 names and values."""


# Responders, sinks and error handlers take keyword arguments that vary by
# route (the URI template's fields) or by signature (``ws`` only where it is
# accepted), so their protocols take any arguments; the docstrings give the shape.


class Responder(Protocol):
    """A resource's responder, bound to it.

    ``async def on_<method>(req, resp, **fields)`` for HTTP and
    ``async def on_websocket(req, ws, **fields)`` for a WebSocket handshake;
    ``fields`` are the URI template's.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Awaitable[None]: ...


class Sink(Protocol):
    """A sink: ``async def sink(req, resp, *, ws=None, **params) -> None``.

    A sink that cannot take ``ws`` does not receive WebSocket handshakes.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Awaitable[None]: ...


class ErrorHandler(Protocol):
    """An error handler: ``async def handler(req, resp, ex, params, *, ws=None) -> None``.

    The ``ws`` keyword is passed only to handlers whose signature accepts it, so
    four-argument handlers keep working for HTTP errors.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Awaitable[None]: ...


class RequestStage(Protocol):
    """A middleware's ``process_request(req, resp)``."""

    def __call__(self, req: Request, resp: Response, /) -> Awaitable[None]: ...


class ResourceStage(Protocol):
    """A middleware's ``process_resource(req, resp, resource, params)``."""

    def __call__(
        self, req: Request, resp: Response, resource: object, params: dict[str, Any], /
    ) -> Awaitable[None]: ...


class ResponseStage(Protocol):
    """A middleware's ``process_response(req, resp, resource, req_succeeded)``."""

    def __call__(
        self, req: Request, resp: Response, resource: object, req_succeeded: bool, /
    ) -> Awaitable[None]: ...


class RequestWsStage(Protocol):
    """A middleware's ``process_request_ws(req, ws)``."""

    def __call__(self, req: Request, ws: WebSocket, /) -> Awaitable[None]: ...


class ResourceWsStage(Protocol):
    """A middleware's ``process_resource_ws(req, ws, resource, params)``."""

    def __call__(
        self, req: Request, ws: WebSocket, resource: object, params: dict[str, Any], /
    ) -> Awaitable[None]: ...


class LifespanStage(Protocol):
    """A middleware's ``process_startup(scope, event)`` or ``process_shutdown(scope, event)``."""

    def __call__(self, scope: Scope, event: Message, /) -> Awaitable[None]: ...
