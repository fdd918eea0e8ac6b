"""Web origins (RFC 6454): parsing one into the ``(scheme, host, port)`` it stands for.

Two origins are the same only if scheme, host and port are all equal, so
``https://app.example.evil.com`` and ``https://evil.app.example`` never match
``https://app.example``. Scheme and host are compared case-insensitively (as
DNS does; browsers always send them lower-case), and a default port written
out (``https://app.example:443``) equals the one left implicit.
"""

from __future__ import annotations

from typing import Final, NamedTuple
from urllib.parse import urlsplit

__all__ = ["SELF", "Origin", "parse_origin", "request_origin"]

_DEFAULT_PORTS: Final = {"http": 80, "https": 443, "ws": 80, "wss": 443}


class Origin(NamedTuple):
    """A normalised origin: lower-case scheme and host, and a port (``None`` if unknown)."""

    scheme: str
    host: str
    port: int | None


def parse_origin(text: str) -> Origin:
    """Return the origin ``text`` serialises, such as ``https://app.example:8443``.

    Raises:
        ValueError: ``text`` is ``null``, has characters outside printable
            ASCII, a user name, a path, a query or a fragment, or no host.
    """
    if text == "null":
        raise ValueError("the opaque origin 'null' (sandboxed frames, file: pages, redirects)")
    if not text.isascii() or not text.isprintable() or " " in text:
        raise ValueError(f"{text!r} has characters an origin cannot have")
    parts = urlsplit(text)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"{text!r} is not scheme://host[:port]")
    if parts.path or parts.query or parts.fragment or "?" in text or "#" in text:
        raise ValueError(f"{text!r} has a path, query or fragment; an origin has none")
    if "@" in parts.netloc:
        raise ValueError(f"{text!r} has a user name; an origin has none")
    host = parts.hostname
    if not host:
        raise ValueError(f"{text!r} has no host")
    port = parts.port  # raises ValueError for a port that is not a number in range
    scheme = parts.scheme.lower()
    if port is None:
        port = _DEFAULT_PORTS.get(scheme)
    return Origin(scheme, host.lower(), port)


SELF: Final = "self"
"""The ``allowed_origins`` entry that stands for the request's own origin."""

_HTTP_SCHEMES: Final = {"ws": "http", "wss": "https"}


def request_origin(scheme: str, host: str | None) -> Origin | None:
    """Return the origin a request was addressed to, or ``None`` if it cannot tell.

    Args:
        scheme: The ASGI scope's ``scheme`` (``http``, ``https``, ``ws`` or
            ``wss``), which uvicorn rewrites from ``X-Forwarded-Proto`` only
            for trusted proxies; a WebSocket's scheme counts as its page's.
        host: The ``Host`` header (``host`` or ``host:port``), or ``None``.
    """
    if not host:
        return None
    scheme = _HTTP_SCHEMES.get(scheme, scheme)
    try:
        return parse_origin(f"{scheme}://{host}")
    except ValueError:
        return None
