"""Answering CORS preflights: which of the requested method and headers to allow.

A browser sends a preflight (``OPTIONS`` with ``Access-Control-Request-Method``)
without credentials before a cross-origin request that carries some, such as
``Authorization``. The plugin answers it itself, so no responder or sink ever
runs for a request nobody authenticated; these helpers decide what the answer
allows.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "MAX_AGE",
    "METHODS",
    "PREFLIGHT_VARY",
    "is_preflight",
    "requested_headers",
    "requested_method",
]

MAX_AGE: Final = 600
"""How long (seconds) a browser may cache a preflight answer (``Access-Control-Max-Age``)."""

METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""The methods a preflight may be granted; any other request method is refused."""

PREFLIGHT_VARY: Final = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
"""The ``Vary`` of a preflight answer: it depends on all three request headers."""

_MAX_HEADERS: Final = 32
_MAX_HEADER_NAME: Final = 64
# RFC 9110 field names are tokens.
_FIELD_NAME: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def is_preflight(method: str, headers: dict[str, str]) -> bool:
    """Whether a request is a CORS preflight: ``OPTIONS`` asking for another method."""
    return method == "OPTIONS" and "access-control-request-method" in headers


def requested_method(value: str) -> str | None:
    """Return the method a preflight asks for, if it may be granted, else ``None``."""
    method = value.strip()
    return method if method in METHODS else None


def requested_headers(value: str | None) -> str | None:
    """Return the header names a preflight asks for, normalised, or ``None`` to refuse.

    ``""`` means none were asked for. Names are lower-cased and kept in order;
    a list of more than 32 names, or a name that is not a field name (or is
    longer than 64 characters), refuses the whole preflight.
    """
    if value is None or not value.strip():
        return ""
    names = [name.strip().lower() for name in value.split(",")]
    names = [name for name in names if name]
    if len(names) > _MAX_HEADERS:
        return None
    for name in names:
        if len(name) > _MAX_HEADER_NAME or not _FIELD_NAME.fullmatch(name):
            return None
    return ", ".join(names)
