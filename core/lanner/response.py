"""The outgoing HTTP response that responders fill in."""

from __future__ import annotations

import http
import inspect
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from lanner._context import Contextual
from lanner._headers import check_header
from lanner.options import ResponseOptions

if TYPE_CHECKING:
    from lanner._types import Headers
    from lanner.sse import SSEvent

__all__ = ["Response"]

_UNSET: Any = object()


class Response(Contextual):
    """What a responder sends back: status, headers and one kind of body.

    Set exactly one of ``data`` (bytes), ``text`` (str), ``media`` (an object
    serialised by the handler for ``content_type``), ``stream`` (an async
    iterator of bytes) or ``sse`` (an async iterator of
    :class:`~lanner.SSEvent`). If several are set, ``sse`` wins, then
    ``stream``, ``data``, ``text`` and ``media``.

    Attributes:
        status: The status code, an ``int`` or ``http.HTTPStatus`` (default 200).
        content_type: The ``Content-Type``; defaults by body kind
            (``resp_options.default_media_type`` for media, ``text/plain`` for
            text, ``application/octet-stream`` for data).
        context: A plain namespace for per-request state.
        complete: Set to ``True`` in middleware to skip routing and the
            responder and send the response as it stands.
        options: The app's :class:`~lanner.options.ResponseOptions`.
    """

    __slots__ = (
        "_headers",
        "_media",
        "_sse",
        "complete",
        "content_type",
        "data",
        "options",
        "status",
        "stream",
        "text",
    )

    def __init__(self, options: ResponseOptions) -> None:
        self.options = options
        self.status: int | http.HTTPStatus = 200
        self.content_type: str | None = None
        self.data: bytes | None = None
        self.text: str | None = None
        self._media: Any = _UNSET
        self.stream: AsyncIterator[bytes] | None = None
        self._sse: AsyncIterator[SSEvent | None] | None = None
        self._headers: list[tuple[str, str]] | None = None
        self.complete = False

    def __repr__(self) -> str:
        return f"<Response {int(self.status)}>"

    @property
    def media(self) -> Any:
        """An object to serialise as the body; ``None`` is a valid value (JSON null)."""
        return None if self._media is _UNSET else self._media

    @media.setter
    def media(self, value: Any) -> None:
        self._media = value

    @media.deleter
    def media(self, /) -> None:
        """``del resp.media`` unsets it: the response then has no media body."""
        self._media = _UNSET

    @property
    def has_media(self) -> bool:
        """Whether ``media`` was set (to anything, ``None`` included)."""
        return self._media is not _UNSET

    @property
    def sse(self) -> AsyncIterator[SSEvent | None] | None:
        """The Server-Sent Events to stream: an async iterator of ``SSEvent`` (or ``None``).

        Usually an async generator. Anything else that is not an async iterable
        raises ``TypeError`` here, when it is assigned, rather than after the
        response has started.
        """
        return self._sse

    @sse.setter
    def sse(self, value: AsyncIterator[SSEvent | None] | None) -> None:
        if value is not None and not hasattr(value, "__aiter__"):
            hint = (
                "call the generator function: resp.sse = events()"
                if inspect.isasyncgenfunction(value)
                else "write an async generator (async def ... yield SSEvent(...))"
            )
            raise TypeError(
                f"resp.sse takes an async iterable of SSEvent (an async generator), or "
                f"None; got {type(value).__name__}: {hint}."
            )
        self._sse = value

    # -- headers --------------------------------------------------------------

    @property
    def headers(self) -> dict[str, str]:
        """A copy of the headers set so far (names lower-cased; repeats joined)."""
        merged: dict[str, str] = {}
        for name, value in self._headers or ():
            key = name.lower()
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        return merged

    def set_header(self, name: str, value: str) -> None:
        """Set a header, replacing any value it had.

        Raises:
            ValueError: ``name`` is not a token, or ``value`` holds a character a
                header cannot carry (a control character other than tab,
                anything beyond Latin-1) or starts or ends with whitespace.
        """
        check_header(name, value)
        key = name.lower()
        if key == "content-type":
            self.content_type = value
            return
        headers = self._headers
        if headers is None:
            self._headers = [(key, value)]
            return
        headers[:] = [(n, v) for n, v in headers if n != key]
        headers.append((key, value))

    def append_header(self, name: str, value: str) -> None:
        """Add a header line, keeping earlier ones of the same name.

        Raises:
            ValueError: As :meth:`set_header`.
        """
        check_header(name, value)
        if self._headers is None:
            self._headers = []
        self._headers.append((name.lower(), value))

    def delete_header(self, name: str) -> None:
        """Remove every line of a header; absent headers are ignored."""
        key = name.lower()
        if key == "content-type":
            self.content_type = None
        if self._headers:
            self._headers[:] = [(n, v) for n, v in self._headers if n != key]

    def get_header(self, name: str, default: str | None = None) -> str | None:
        """Return a header's value (repeats joined with ``", "``), or ``default``."""
        if name.lower() == "content-type":
            return self.content_type or default
        return self.headers.get(name.lower(), default)

    def set_cookie(
        self,
        name: str,
        value: str,
        *,
        max_age: int | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = True,
        http_only: bool = True,
        same_site: str | None = "Lax",
    ) -> None:
        """Add a ``Set-Cookie`` header; secure, HTTP-only and ``SameSite=Lax`` by default."""
        if not name or any(c in _COOKIE_NAME_SEPARATORS for c in name) or not name.isprintable():
            raise ValueError(
                f"Cookie name {name!r} must be a non-empty token: no space, control "
                f"character or any of {_COOKIE_NAME_SEPARATORS.strip()!r}."
            )
        if any(c in value for c in ';,\r\n" \\') or not value.isprintable():
            raise ValueError(
                f"Cookie value {value!r} has a character that cannot go in a cookie "
                "(space, quote, comma, semicolon, backslash or control); encode it first."
            )
        parts = [f"{name}={value}"]
        if max_age is not None:
            parts.append(f"Max-Age={int(max_age)}")
        if path:
            parts.append(f"Path={path}")
        if domain:
            parts.append(f"Domain={domain}")
        if secure:
            parts.append("Secure")
        if http_only:
            parts.append("HttpOnly")
        if same_site:
            if same_site.lower() not in ("lax", "strict", "none"):
                raise ValueError(f"same_site must be Lax, Strict or None; got {same_site!r}.")
            parts.append(f"SameSite={same_site.capitalize()}")
        self.append_header("set-cookie", "; ".join(parts))

    def unset_cookie(self, name: str, *, path: str | None = "/") -> None:
        """Ask the client to delete a cookie (an expired empty one)."""
        self.set_cookie(name, "", max_age=0, path=path, same_site=None)

    def extra_headers(self) -> list[tuple[str, str]]:
        """Return the header lines set so far, in order (without Content-Type)."""
        return list(self._headers or ())

    def _encoded_headers(self) -> Headers:
        """The header lines set so far, as ASGI sends them; a new list each call.

        The app's response writer calls this once per response.
        """
        extra = self._headers
        if not extra:
            return []
        return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in extra]


# The separators RFC 6265 (via RFC 2616's token) forbids in a cookie name.
_COOKIE_NAME_SEPARATORS = '()<>@,;:\\"/[]?={} \t'
