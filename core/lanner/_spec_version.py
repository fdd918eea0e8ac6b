"""ASGI version strings: one parser for the app, the WebSocket and the test conductor.

A scope carries two versions under ``scope["asgi"]``: ``version``, the ASGI
interface (lanner is an ASGI 3 single-callable app), and ``spec_version``, the
version of the protocol spec for the scope's type (HTTP and WebSocket 2.x,
lifespan 1.x or 2.x). Versions compare as tuples of any length, so ``"2.4.1"``
is newer than ``"2.4"`` and ``"2.10"`` newer than ``"2.4"``.
"""

from __future__ import annotations

from typing import Final

from lanner._types import Scope
from lanner.errors import UnsupportedScopeError

__all__ = [
    "SERVED_SPECS",
    "WS_SPEC_FLAGS",
    "check_scope",
    "parse_version",
    "unsupported_scope_type",
    "ws_spec_flags",
]

# The major spec versions lanner speaks, per scope type; the lifespan protocol
# changed nothing lanner uses between 1.0 and 2.0.
_SUPPORTED_MAJORS: Final[dict[str, tuple[int, ...]]] = {
    "http": (2,),
    "websocket": (2,),
    "lifespan": (1, 2),
}
_INTERFACE_MAJOR: Final = 3

# PERF: a server reports the same few version strings for every connection;
# each (scope type, version, spec version) triple is checked once.
_CHECKED: set[tuple[str, str, str]] = set()

SERVED_SPECS: set[object] = set()
"""HTTP and WebSocket ``spec_version`` values already accepted, for the app's fast path."""


def parse_version(raw: object) -> tuple[int, ...]:
    """Return ``raw`` (``"2.4"``, ``"2.4.1"``) as a tuple of ints.

    Raises:
        ValueError: ``raw`` is not dot-separated non-negative integers.
    """
    text = str(raw).strip()
    parts = text.split(".")
    if not text or not all(part.isdigit() and part.isascii() for part in parts):
        raise ValueError(f"{raw!r} is not a version such as '2.4' or '2.4.1'.")
    return tuple(int(part) for part in parts)


# PERF: servers report one or two spec_version strings; parse each once.
WS_SPEC_FLAGS: dict[str, tuple[bool, bool, bool]] = {}
"""``spec_version`` to :func:`ws_spec_flags`' answer, for the versions seen so far."""


def ws_spec_flags(scope: Scope) -> tuple[bool, bool, bool]:
    """Return what the server's WebSocket spec version provides.

    (close reasons (2.3), errors on a send to a lost client (2.4), headers on
    accept (2.1)); a missing version is 2.0, ASGI's default.
    """
    asgi = scope.get("asgi")
    raw = asgi.get("spec_version", "2.0") if asgi else "2.0"
    flags = WS_SPEC_FLAGS.get(raw)
    if flags is None:
        raw = str(raw)
        try:
            version = parse_version(raw)
        except ValueError:
            version = (2, 0)  # the app refuses such a scope; a bare WebSocket assumes 2.0
        flags = (version >= (2, 3), version >= (2, 4), version >= (2, 1))
        if len(WS_SPEC_FLAGS) < 16:
            WS_SPEC_FLAGS[raw] = flags
    return flags


def check_scope(scope: Scope) -> None:
    """Refuse a scope whose ASGI interface or protocol spec version lanner cannot serve.

    A missing ``asgi`` key or ``spec_version`` counts as the oldest version of
    the scope's spec (ASGI's own default), which lanner serves.

    Raises:
        UnsupportedScopeError: The scope type is unknown, ``asgi.version`` is
            not 3.x, or ``asgi.spec_version`` has a major version other than
            2 (HTTP, WebSocket) or 1-2 (lifespan).
    """
    kind = scope.get("type")
    asgi = scope.get("asgi") or {}
    interface = asgi.get("version")
    spec = asgi.get("spec_version")
    key = (str(kind), str(interface), str(spec))
    if key in _CHECKED:
        return
    majors = _SUPPORTED_MAJORS.get(str(kind))
    if majors is None:
        raise unsupported_scope_type(kind)
    if interface is not None and _major(interface) != _INTERFACE_MAJOR:
        raise UnsupportedScopeError(
            f"The server speaks ASGI {interface!r}, but lanner is an ASGI 3 application "
            "(one callable taking scope, receive and send); run it under an ASGI 3 "
            "server such as uvicorn."
        )
    if spec is not None and _major(spec) not in majors:
        wanted = " or ".join(f"{major}.x" for major in majors)
        raise UnsupportedScopeError(
            f"The server reports version {spec!r} of the ASGI {kind!r} spec; lanner "
            f"supports {wanted}. Use a server that implements that version."
        )
    if len(_CHECKED) < 64:
        _CHECKED.add(key)
        if kind != "lifespan" and isinstance(spec, str):
            SERVED_SPECS.add(spec)


def unsupported_scope_type(kind: object) -> UnsupportedScopeError:
    """The error for a scope type lanner does not serve (``"webtransport"``, say)."""
    return UnsupportedScopeError(
        f"lanner serves ASGI 'http', 'websocket' and 'lifespan' scopes; got {kind!r}."
    )


def _major(raw: object) -> int | None:
    try:
        return parse_version(raw)[0]
    except ValueError:
        return None
