"""WebSocket payload types and the app-wide WebSocket options."""

from __future__ import annotations

import enum
from typing import Final

from lanner._owned import OwnedDict
from lanner.media.base import BinaryBaseHandlerWS, TextBaseHandlerWS

__all__ = ["WebSocketOptions", "WebSocketPayloadType"]


class WebSocketPayloadType(enum.Enum):
    """The two kinds of WebSocket data message (RFC 6455 opcodes 0x1 and 0x2)."""

    TEXT = enum.auto()
    """A TEXT message: a UTF-8 string."""

    BINARY = enum.auto()
    """A BINARY message: bytes."""


WSMediaHandler = TextBaseHandlerWS | BinaryBaseHandlerWS

MIN_CLOSE_CODE: Final = 1000
MAX_CLOSE_CODE: Final = 4999

DEFAULT_SEND_TIMEOUT: Final = 20.0
"""Default ``send_timeout`` for WebSocket sends and SSE events, in seconds."""

ERROR_CLOSE_FALLBACK: Final = 3011
"""Close code used instead of an ``error_close_code`` that cannot go on the wire."""


class WebSocketOptions:
    """Options shared by every WebSocket connection of an app (``app.ws_options``).

    Attributes:
        media_handlers: Handler per payload type for ``send_media`` and
            ``receive_media``. TEXT defaults to ``JSONHandlerWS`` and BINARY to
            ``MessagePackHandlerWS`` (both from default plugins); assign a key to
            override it. A TEXT slot takes a ``TextBaseHandlerWS`` and a BINARY
            slot a ``BinaryBaseHandlerWS``; the app checks this when it starts.
        max_receive_queue: How many client messages lanner may buffer to notice
            a lost connection on servers that do not report it themselves (ASGI
            spec before 2.4). ``0`` turns that fallback off. Servers on spec 2.4
            or later (every current uvicorn) need no buffer, and lanner runs no
            background reader for them whatever this says.
        error_close_code: Close code for an unhandled error after accept (1011),
            an int from 1000 to 4999 (anything else is a ``ValueError`` when
            assigned). A code that cannot be sent on the wire, such as the
            reserved 1005, falls back to 3011.
        default_close_reasons: Reason text per close code, sent with
            ``close(code)`` when no reason is given and the server supports
            close reasons (ASGI WebSocket spec 2.3 or later).
        max_message_size: The largest incoming message, in bytes, that
            ``receive_*`` accepts; a larger one closes the connection with 1009.
            ``None`` leaves the limit to the server (uvicorn's ``--ws-max-size``).
        send_timeout: Seconds a send (or close) may stay blocked because the client
            does not read, before lanner fails the connection: the blocked send
            raises ``WebSocketDisconnected(1006)`` and the socket and its buffers
            are freed. 20.0 by default; ``None`` for no limit. A send only blocks
            once the server's and the kernel's buffers (megabytes) are full, so a
            client that is slow but alive is far from it.
    """

    __slots__ = (
        "_error_close_code",
        "default_close_reasons",
        "max_message_size",
        "max_receive_queue",
        "media_handlers",
        "send_timeout",
    )

    def __init__(self) -> None:
        self.media_handlers: OwnedDict[WebSocketPayloadType, WSMediaHandler] = OwnedDict(
            "ws_options.media_handlers"
        )
        self.max_receive_queue: int = 4
        self._error_close_code = 1011
        self.default_close_reasons: dict[int, str] = {
            1000: "Normal Closure",
            1011: "Internal Server Error",
            3011: "Internal Server Error",
        }
        self.max_message_size: int | None = None
        self.send_timeout: float | None = DEFAULT_SEND_TIMEOUT

    @property
    def error_close_code(self) -> int:
        """The close code for an unhandled error after accept (default 1011)."""
        return self._error_close_code

    @error_close_code.setter
    def error_close_code(self, code: int) -> None:
        if type(code) is not int or not MIN_CLOSE_CODE <= code <= MAX_CLOSE_CODE:
            raise ValueError(
                f"ws_options.error_close_code must be an int from {MIN_CLOSE_CODE} to "
                f"{MAX_CLOSE_CODE} (a WebSocket close code; 1011 is the standard one for "
                f"errors, 3000-4999 are for applications); got {code!r}."
            )
        self._error_close_code = code
