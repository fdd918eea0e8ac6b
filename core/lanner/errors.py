"""Exceptions raised by lanner and meant to be raised by apps.

``HTTPError`` and its family describe an HTTP outcome: raised in a responder,
middleware or hook, they are rendered as a JSON body for HTTP requests and as a
close code of ``3000 + status`` for WebSocket connections. The WebSocket errors
describe the state of a connection, and the plugin errors a broken or contested
plugin setup.
"""

from __future__ import annotations

import http
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
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
    "MediaPayloadTypeError",
    "PayloadTypeError",
    "PluginConflictError",
    "PluginLoadError",
    "UnsupportedError",
    "UnsupportedScopeError",
    "WebSocketDisconnected",
    "WebSocketHandlerNotFound",
    "WebSocketPathNotFound",
    "WebSocketServerError",
]


# NOTE: Python 3.13 renamed these phrases to their RFC 9110 names; pinning the
# new names keeps error bodies the same whichever Python serves the app.
_STABLE_TITLES: dict[int, str] = {
    413: "Content Too Large",
    414: "URI Too Long",
    416: "Range Not Satisfiable",
    422: "Unprocessable Content",
}


class HTTPError(Exception):
    """An HTTP outcome other than success, raised anywhere a request is handled.

    The default error handler renders it as ``{"title": ..., "description": ...}``
    with the given status and headers; for a WebSocket handshake or connection it
    closes with code ``3000 + status``.

    Args:
        status: The HTTP status code (an ``int`` or ``http.HTTPStatus``).
        title: A short summary; defaults to the status phrase.
        description: A human-readable explanation; omitted from the body if ``None``.
        headers: Extra response headers, such as ``Retry-After``.
    """

    def __init__(
        self,
        status: int | http.HTTPStatus,
        title: str | None = None,
        description: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = int(status)
        if title is None:
            title = _STABLE_TITLES.get(self.status)
        if title is None:
            try:
                title = http.HTTPStatus(self.status).phrase
            except ValueError:
                title = f"HTTP {self.status}"
        self.title = title
        self.description = description
        self.headers: dict[str, str] = dict(headers) if headers else {}
        super().__init__(f"{self.status} {title}" + (f": {description}" if description else ""))

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready body: ``title`` and, if set, ``description``."""
        body: dict[str, Any] = {"title": self.title}
        if self.description is not None:
            body["description"] = self.description
        return body


class _FixedStatusError(HTTPError):
    """An :class:`HTTPError` whose status is fixed by the subclass."""

    status_code: int = 500

    def __init__(
        self,
        title: str | None = None,
        description: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(self.status_code, title, description, headers)


class HTTPBadRequest(_FixedStatusError):
    """400 Bad Request: the request is malformed (a bad parameter, body or header)."""

    status_code = 400


class MediaMalformedError(HTTPBadRequest, ValueError):
    """A body or message that its media handler cannot decode: 400 Bad Request.

    Every media handler lanner ships (JSON and MessagePack, for HTTP and
    WebSocket, and CBOR in ``lanner-media-cbor``) raises it for every malformed
    payload: bad syntax, bad UTF-8, a lone surrogate, a truncated payload,
    trailing bytes, nesting deeper than Python can decode, an integer too long
    to convert. It is a ``ValueError`` too, so ``except ValueError`` around
    ``ws.receive_media()`` is enough, and an ``HTTPBadRequest``, so
    ``req.get_media()`` answers 400 (a WebSocket responder that lets it escape
    closes with 3400). ``str()`` gives the description, ready to show a client.

    Args:
        media_type: The media type the payload should have been, such as
            ``"application/json"``.
        cause: What was wrong: the decoder's exception or a message.
        description: The whole description, replacing the default one built
            from ``media_type`` and ``cause``.

    Attributes:
        media_type: The media type the payload failed to decode as.
    """

    def __init__(
        self,
        media_type: str,
        cause: BaseException | str | None = None,
        *,
        description: str | None = None,
    ) -> None:
        if description is None:
            detail = f": {cause}" if cause is not None else ""
            description = f"The request body could not be decoded as {media_type}{detail}"
        super().__init__(title="Invalid body", description=description)
        self.args = (description,)
        self.media_type = media_type


class HTTPUnauthorized(HTTPError):
    """401 Unauthorized: credentials are missing or wrong.

    Args:
        challenges: Authentication challenges (``'Bearer realm="api"'``); each
            becomes a ``WWW-Authenticate`` value, joined with ``", "``.
    """

    def __init__(
        self,
        title: str | None = None,
        description: str | None = None,
        headers: Mapping[str, str] | None = None,
        challenges: Iterable[str] | None = None,
    ) -> None:
        merged = dict(headers) if headers else {}
        if challenges:
            merged["WWW-Authenticate"] = ", ".join(challenges)
        super().__init__(401, title, description, merged)


class HTTPForbidden(_FixedStatusError):
    """403 Forbidden: the client is known but not allowed to do this."""

    status_code = 403


class HTTPNotFound(_FixedStatusError):
    """404 Not Found: the resource does not exist."""

    status_code = 404


class HTTPRouteNotFound(HTTPNotFound):
    """404 Not Found, raised by the default responder when no route or sink matches.

    For a WebSocket handshake it denies the connection with close code 3404.
    """


class HTTPMethodNotAllowed(HTTPError):
    """405 Method Not Allowed: the route exists but has no responder for the method.

    Args:
        allowed_methods: The methods the route does answer; sent as ``Allow``.
    """

    def __init__(
        self,
        allowed_methods: Iterable[str],
        title: str | None = None,
        description: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.allowed_methods = tuple(allowed_methods)
        merged = dict(headers) if headers else {}
        merged["Allow"] = ", ".join(self.allowed_methods)
        super().__init__(405, title, description, merged)


class HTTPNotAcceptable(_FixedStatusError):
    """406 Not Acceptable: no representation matches the ``Accept`` header."""

    status_code = 406


class HTTPConflict(_FixedStatusError):
    """409 Conflict: the request clashes with the resource's current state."""

    status_code = 409


class HTTPGone(_FixedStatusError):
    """410 Gone: the resource existed and is no more."""

    status_code = 410


class HTTPContentTooLarge(_FixedStatusError):
    """413 Content Too Large: the body exceeds the configured limit."""

    status_code = 413


HTTPPayloadTooLarge = HTTPContentTooLarge
"""The older name of :class:`HTTPContentTooLarge`."""


class HTTPUnsupportedMediaType(_FixedStatusError):
    """415 Unsupported Media Type: no handler is registered for the body's type."""

    status_code = 415


class HTTPUnprocessableEntity(_FixedStatusError):
    """422 Unprocessable Content: the body is well-formed but semantically wrong."""

    status_code = 422


class HTTPTooManyRequests(_FixedStatusError):
    """429 Too Many Requests: the client should slow down (see ``Retry-After``)."""

    status_code = 429


class HTTPInternalServerError(_FixedStatusError):
    """500 Internal Server Error: the server failed; details stay in the log."""

    status_code = 500


class HTTPNotImplemented(_FixedStatusError):
    """501 Not Implemented: the server does not support this feature."""

    status_code = 501


class HTTPServiceUnavailable(_FixedStatusError):
    """503 Service Unavailable: the server cannot answer now (see ``Retry-After``)."""

    status_code = 503


class WebSocketDisconnected(ConnectionError):
    """The WebSocket connection is closed: the client left, or the app closed it.

    Raised by receives once the client has gone, and by sends once the
    connection is closed. ``code`` is the WebSocket close code.
    """

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason
        message = f"WebSocket connection closed with code {code}"
        if reason:
            message += f" ({reason})"
        super().__init__(message)


class WebSocketPathNotFound(WebSocketDisconnected):
    """The handshake was denied because no route or sink matched (close code 3404)."""


class WebSocketHandlerNotFound(WebSocketDisconnected):
    """The handshake was denied because the route has no ``on_websocket`` (code 3405)."""


class WebSocketServerError(WebSocketDisconnected):
    """The connection was closed because of an unhandled server error (code 1011)."""


class PayloadTypeError(TypeError):
    """A WebSocket message arrived with the other payload type (TEXT vs BINARY)."""


class MediaPayloadTypeError(PayloadTypeError, MediaMalformedError):
    """``receive_media()`` got a message of a type no media handler decodes.

    Both a :class:`PayloadTypeError` and a :class:`MediaMalformedError`, so an
    app's ``except ValueError`` around ``receive_media()`` covers it as it
    covers every other payload the app cannot decode. ``media_type`` is empty.
    """

    def __init__(self, kind: str) -> None:
        other = "BINARY" if kind == "TEXT" else "TEXT"
        MediaMalformedError.__init__(
            self,
            "",
            description=(
                f"No media handler is set for {kind} WebSocket messages, and one arrived: "
                f"send {other} messages, or set ws_options.media_handlers"
                f"[WebSocketPayloadType.{kind}]."
            ),
        )


class PluginLoadError(RuntimeError):
    """A plugin could not be imported or validated.

    The message names the plugin, its distribution and version, the cause and
    how to disable the plugin.
    """


class PluginConflictError(RuntimeError):
    """Two plugins of the same precedence layer claim the same key.

    The message names both plugins and the contested key; an explicit app
    setting for that key settles the conflict.
    """


class HTTPStatus(Exception):
    """End a request early with a status that is not an error (a 204, a redirect, a CORS answer).

    Raise it from a responder, a sink, middleware or an error handler. Over
    HTTP it becomes the response: this status, these headers and ``text`` as
    the body (any body set earlier is discarded). On a WebSocket handshake it
    denies the connection with close code ``3000 + status`` (a real client
    gets HTTP 403, the test conductor reports the code); after ``accept()`` it
    closes the connection with that code. ``process_response`` middleware
    still runs, as after any other raise.

    Args:
        status: The HTTP status, 100-999: an ``int``, an ``http.HTTPStatus``
            or a status line such as ``"204 No Content"``.
        headers: Response headers to set, a mapping or ``(name, value)`` pairs.
        text: The response body, sent as ``text/plain; charset=utf-8``
            unless ``headers`` sets a ``Content-Type``; ``None`` for no body.

    Raises:
        ValueError: ``status`` is not a status code from 100 to 999.
    """

    def __init__(
        self,
        status: int | http.HTTPStatus | str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        text: str | None = None,
    ) -> None:
        self.status = _status_code(status)
        items = headers.items() if isinstance(headers, Mapping) else headers or ()
        self.headers: list[tuple[str, str]] = [(str(n), str(v)) for n, v in items]
        self.text = text
        super().__init__(f"HTTP status {self.status}")


def _status_code(status: object) -> int:
    code: object = status
    if isinstance(status, str):
        first = status.strip().split(" ", 1)[0]
        code = int(first) if first.isdigit() else None
    if isinstance(code, int) and not isinstance(code, bool) and 100 <= code <= 999:
        return int(code)
    raise ValueError(
        f"HTTPStatus takes a status code from 100 to 999 (an int, an http.HTTPStatus "
        f"or a line such as '204 No Content'); got {status!r}."
    )


class UnsupportedError(RuntimeError):
    """The operation exists, but not for this kind of request or on this server.

    Raised when reading the body of a WebSocket handshake request
    (``req.get_body()``, ``req.stream``, ``req.get_media()``; a WebSocket
    request has no body and its messages come through the ``WebSocket``), and
    when ``ws.accept(headers=...)`` runs on a server that cannot send handshake
    headers (ASGI WebSocket spec before 2.1).
    """


class UnsupportedScopeError(RuntimeError):
    """The server called the app with a scope lanner cannot serve.

    Raised for an unknown scope type, an ASGI interface version other than
    3.x, or a protocol spec version whose major is not 2 for HTTP and
    WebSocket (1 or 2 for lifespan), before any message is received.
    """
