"""The incoming HTTP request (or WebSocket handshake) as responders see it.

Everything is parsed lazily: a responder that never asks for the query string,
the headers or the body costs nothing for them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from lanner._context import Contextual
from lanner._types import Receive, Scope
from lanner.errors import (
    HTTPBadRequest,
    HTTPContentTooLarge,
    HTTPUnsupportedMediaType,
    MediaMalformedError,
    UnsupportedError,
)
from lanner.options import RequestOptions

__all__ = ["Request"]

T = TypeVar("T")

_UNSET: Any = object()

_TRUE_STRINGS = frozenset({"true", "1", "yes", "y", "on", "t"})
_FALSE_STRINGS = frozenset({"false", "0", "no", "n", "off", "f"})


class Request(Contextual):
    """An HTTP request, or the handshake request of a WebSocket connection.

    Attributes:
        scope: The raw ASGI scope.
        method: The HTTP method (``"GET"``; ``"WEBSOCKET"`` for a handshake).
        path: The path used for routing, without the app's ``root_path``.
            Middleware may assign it in ``process_request`` to re-route.
        context: A plain namespace for middleware and responders to share
            per-request state (``req.context.user = ...``).
        options: The app's :class:`~lanner.options.RequestOptions`.
    """

    __slots__ = (
        "_body",
        "_cookies",
        "_headers",
        "_media",
        "_params",
        "_receive",
        "_stream_used",
        "method",
        "options",
        "path",
        "scope",
    )

    _headers: dict[str, str]
    _params: dict[str, list[str]]
    _cookies: dict[str, str]
    _body: bytes
    _media: Any
    _stream_used: bool

    def __init__(self, scope: Scope, receive: Receive, options: RequestOptions) -> None:
        self.scope = scope
        self._receive = receive
        self.options = options
        self.method: str = scope.get("method", "WEBSOCKET")
        path: str = scope["path"]
        root_path: str = scope.get("root_path", "")
        # Strip the root path only as whole leading segments: "/api" is the root
        # of "/api/x" but not of "/apiary".
        if root_path and path.startswith(root_path):
            rest = path[len(root_path) :]
            if not rest or rest[0] == "/":
                path = rest or "/"
        self.path = path
        # PERF: the caches below (_headers, _params, _cookies, _body, _media,
        # _stream_used) start as unset slots and are filled on first use; a
        # handshake or GET that never reads them never stores them either.

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path!r}>"

    @property
    def is_websocket(self) -> bool:
        """Whether this is the handshake request of a WebSocket connection."""
        return bool(self.scope["type"] == "websocket")

    # -- URL ------------------------------------------------------------------

    @property
    def root_path(self) -> str:
        """The prefix the app is mounted under (ASGI ``root_path``), or ``""``."""
        return str(self.scope.get("root_path", ""))

    @property
    def scheme(self) -> str:
        """The URL scheme: ``http``, ``https``, ``ws`` or ``wss``."""
        return str(self.scope.get("scheme", "http"))

    @property
    def host(self) -> str:
        """The host the client asked for (``Host`` header, without the port)."""
        host = self.get_header("host")
        if host:
            if host.startswith("["):
                return host[: host.index("]") + 1]
            return host.rpartition(":")[0] if ":" in host else host
        server = self.scope.get("server")
        return str(server[0]) if server else "localhost"

    @property
    def query_string(self) -> str:
        """The raw query string, without the ``?``."""
        raw: bytes = self.scope.get("query_string", b"")
        return raw.decode("latin-1")

    @property
    def url(self) -> str:
        """The full URL the client requested, query string included."""
        host = self.get_header("host") or self.host
        url = f"{self.scheme}://{host}{self.root_path}{self.path}"
        qs = self.query_string
        return f"{url}?{qs}" if qs else url

    @property
    def client(self) -> tuple[str, int] | None:
        """The client's ``(host, port)``, if the server reports it."""
        client = self.scope.get("client")
        return (str(client[0]), int(client[1])) if client else None

    @property
    def remote_addr(self) -> str | None:
        """The client's address, if the server reports it."""
        client = self.scope.get("client")
        return str(client[0]) if client else None

    # -- headers --------------------------------------------------------------

    @property
    def headers(self) -> dict[str, str]:
        """All headers, names lower-cased; repeated headers joined with ``", "``."""
        try:
            return self._headers
        except AttributeError:
            headers: dict[str, str] = {}
            for raw_name, raw_value in self.scope.get("headers", ()):
                name = raw_name.decode("latin-1").lower()
                value = raw_value.decode("latin-1")
                if name in headers:
                    separator = "; " if name == "cookie" else ", "
                    headers[name] = headers[name] + separator + value
                else:
                    headers[name] = value
            self._headers = headers
            return headers

    def get_header(
        self, name: str, required: bool = False, default: str | None = None
    ) -> str | None:
        """Return a header's value (case-insensitive name), or ``default``.

        Raises:
            HTTPBadRequest: ``required`` is true and the header is missing.
        """
        value = self.headers.get(name.lower())
        if value is None:
            if required:
                raise HTTPBadRequest(
                    title="Missing header",
                    description=f"The {name} header is required.",
                )
            return default
        return value

    @property
    def content_type(self) -> str | None:
        """The ``Content-Type`` header, or ``None``."""
        return self.headers.get("content-type")

    @property
    def content_length(self) -> int | None:
        """The ``Content-Length`` header as an int, or ``None``.

        Raises:
            HTTPBadRequest: The header is not a non-negative integer.
        """
        value = self.headers.get("content-length")
        if value is None:
            return None
        try:
            length = int(value)
        except ValueError:
            length = -1
        if length < 0:
            raise HTTPBadRequest(
                title="Invalid header",
                description=f"Content-Length must be a non-negative integer, got {value!r}.",
            )
        return length

    @property
    def last_event_id(self) -> str | None:
        """The ``Last-Event-ID`` header an SSE client sends to resume, or ``None``."""
        return self.headers.get("last-event-id")

    @property
    def cookies(self) -> dict[str, str]:
        """Cookies sent by the client; the first of repeated names wins."""
        try:
            return self._cookies
        except AttributeError:
            cookies: dict[str, str] = {}
            header = self.headers.get("cookie", "")
            for pair in header.split(";"):
                name, sep, value = pair.partition("=")
                name = name.strip()
                if sep and name and name not in cookies:
                    value = value.strip()
                    if len(value) >= 2 and value[0] == value[-1] == '"':
                        value = value[1:-1]
                    cookies[name] = value
            self._cookies = cookies
            return cookies

    # -- query parameters -------------------------------------------------------

    @property
    def params(self) -> dict[str, list[str]]:
        """Query parameters: each name maps to every value it was given, in order."""
        try:
            return self._params
        except AttributeError:
            params: dict[str, list[str]] = {}
            for name, value in parse_qsl(
                self.query_string, keep_blank_values=self.options.keep_blank_qs_values
            ):
                params.setdefault(name, []).append(value)
            self._params = params
            return params

    def get_param(
        self, name: str, required: bool = False, default: str | None = None
    ) -> str | None:
        """Return the first value of query parameter ``name``, or ``default``.

        Raises:
            HTTPBadRequest: ``required`` is true and the parameter is missing.
        """
        values = self.params.get(name)
        if not values:
            if required:
                raise _missing_param(name)
            return default
        return values[0]

    def get_param_as_int(
        self,
        name: str,
        required: bool = False,
        default: int | None = None,
        min_value: int | None = None,
        max_value: int | None = None,
    ) -> int | None:
        """Return query parameter ``name`` as an int, or ``default``.

        Raises:
            HTTPBadRequest: The parameter is required and missing, not an
                integer, or outside ``min_value``/``max_value``.
        """
        raw = self.get_param(name, required=required)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise _invalid_param(name, "an integer", raw) from None
        if min_value is not None and value < min_value:
            raise _invalid_param(name, f"an integer >= {min_value}", raw)
        if max_value is not None and value > max_value:
            raise _invalid_param(name, f"an integer <= {max_value}", raw)
        return value

    def get_param_as_bool(
        self, name: str, required: bool = False, default: bool | None = None
    ) -> bool | None:
        """Return query parameter ``name`` as a bool, or ``default``.

        ``true, 1, yes, y, on, t`` are true and ``false, 0, no, n, off, f`` are
        false, in any letter case.

        Raises:
            HTTPBadRequest: The parameter is required and missing, or not one of
                the words above.
        """
        raw = self.get_param(name, required=required)
        if raw is None:
            return default
        lowered = raw.lower()
        if lowered in _TRUE_STRINGS:
            return True
        if lowered in _FALSE_STRINGS:
            return False
        raise _invalid_param(name, "a boolean (true/false, 1/0, yes/no, on/off)", raw)

    def get_param_as_list(
        self,
        name: str,
        transform: Callable[[str], T] | None = None,
        required: bool = False,
        default: list[Any] | None = None,
    ) -> list[Any] | None:
        """Return every value of ``name`` (repeated or comma-separated) as a list.

        Args:
            transform: Applied to each item (``int``, say); a ``ValueError`` it
                raises becomes a 400 naming the parameter.

        Raises:
            HTTPBadRequest: The parameter is required and missing, or an item
                fails ``transform``.
        """
        values = self.params.get(name)
        if not values:
            if required:
                raise _missing_param(name)
            return default
        items = [item for value in values for item in value.split(",")]
        if transform is None:
            return items
        try:
            return [transform(item) for item in items]
        except ValueError as exc:
            raise _invalid_param(
                name, f"a list of {_transform_name(transform)}", ",".join(items)
            ) from exc

    # -- body -----------------------------------------------------------------

    @property
    def stream(self) -> AsyncIterator[bytes]:
        """The body as an async iterator of chunks, bounded by ``max_body_size``.

        It can be read once; ``get_body`` and ``get_media`` read it for you.

        Raises:
            UnsupportedError: This is a WebSocket handshake, which has no body
                (read messages with ``ws.receive_*`` instead); nothing is read.
            HTTPContentTooLarge: While iterating, once the body exceeds the bound.
            HTTPBadRequest: While iterating, if the client disconnects before
                the body is complete (a truncated body is never passed off as
                the whole of it).
        """
        if self.scope["type"] == "websocket":
            raise _no_ws_body()
        if getattr(self, "_stream_used", False):
            raise RuntimeError(
                "The request body was already read; use await req.get_body(), "
                "which caches it, if you need it more than once."
            )
        self._stream_used = True
        return self._iter_body()

    async def _iter_body(self) -> AsyncIterator[bytes]:
        limit = self.options.max_body_size
        declared = self.content_length
        if limit is not None and declared is not None and declared > limit:
            raise _too_large(limit)
        received = 0
        while True:
            message = await self._receive()
            if message["type"] != "http.request":
                # http.disconnect: the client left mid-body. Ending the stream
                # here would hand the responder a truncated body as if whole.
                raise HTTPBadRequest(
                    title="Incomplete body",
                    description=(
                        f"The client disconnected after {received} bytes of the request "
                        "body, before sending all of it."
                    ),
                )
            chunk: bytes = message.get("body", b"")
            if chunk:
                received += len(chunk)
                if limit is not None and received > limit:
                    raise _too_large(limit)
                yield chunk
            if not message.get("more_body", False):
                return

    async def get_body(self) -> bytes:
        """Return the whole body, reading it on first call (bounded, cached).

        Raises:
            UnsupportedError: This is a WebSocket handshake (see :attr:`stream`).
        """
        try:
            return self._body
        except AttributeError:
            self._body = b"".join([chunk async for chunk in self.stream])
            return self._body

    async def get_media(self, default_when_empty: Any = _UNSET) -> Any:
        """Return the body decoded by the handler for its ``Content-Type``.

        Args:
            default_when_empty: Returned for an empty body; without it an empty
                body is a 400.

        Raises:
            UnsupportedError: This is a WebSocket handshake (see :attr:`stream`).
            HTTPUnsupportedMediaType: No handler is registered for the type.
            MediaMalformedError: The body is empty or does not decode (a 400
                naming the media type).
        """
        try:
            return self._media
        except AttributeError:
            pass
        if self.scope["type"] == "websocket":
            raise _no_ws_body()
        content_type = self.content_type or "application/json"
        found = self.options.media_handlers.find(content_type)
        if found is None:
            supported = ", ".join(sorted(self.options.media_handlers)) or "none"
            raise HTTPUnsupportedMediaType(
                description=(
                    f"No media handler for {content_type!r}; this app decodes: {supported}."
                )
            )
        media_type, handler = found
        body = await self.get_body()
        if not body:
            if default_when_empty is not _UNSET:
                return default_when_empty
            raise MediaMalformedError(media_type, ValueError("the body is empty"))
        try:
            self._media = handler.deserialize(body, content_type)
        except MediaMalformedError:
            raise
        except Exception as exc:
            raise MediaMalformedError(media_type, exc) from exc
        return self._media


def _no_ws_body() -> UnsupportedError:
    return UnsupportedError(
        "A WebSocket handshake request has no body: req.get_body(), req.get_media() and "
        "req.stream are for HTTP requests. Read the client's messages with "
        "ws.receive_text(), ws.receive_data() or ws.receive_media() after ws.accept()."
    )


def _missing_param(name: str) -> HTTPBadRequest:
    return HTTPBadRequest(
        title="Missing parameter",
        description=f"The {name!r} query parameter is required.",
    )


def _invalid_param(name: str, expected: str, found: str) -> HTTPBadRequest:
    return HTTPBadRequest(
        title="Invalid parameter",
        description=f"The {name!r} query parameter must be {expected}; got {found!r}.",
    )


def _too_large(limit: int) -> HTTPContentTooLarge:
    return HTTPContentTooLarge(
        description=(
            f"The request body exceeds the limit of {limit} bytes (req_options.max_body_size)."
        )
    )


def _transform_name(transform: Callable[..., Any]) -> str:
    return getattr(transform, "__name__", repr(transform))
