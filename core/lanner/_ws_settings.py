"""``ws_options`` checked and prepared once, when the app starts.

Every connection of an app shares one :class:`WebSocketSettings`; the close
code and close reason rules it checks the options against live here too, as
:meth:`lanner.WebSocket.close` applies the same ones.
"""

from __future__ import annotations

from typing import Final

from lanner.media.base import BinaryBaseHandlerWS, TextBaseHandlerWS
from lanner.ws_options import ERROR_CLOSE_FALLBACK, WebSocketOptions, WebSocketPayloadType

__all__ = [
    "SENDABLE_STANDARD_CODES",
    "WebSocketSettings",
    "check_close_reason",
    "is_sendable_close_code",
]

# RFC 6455 §7.4: codes an endpoint may put in a Close frame. 1004-1006 and 1015
# are reserved for local use and never sent; 1016-2999 belong to the protocol.
SENDABLE_STANDARD_CODES: Final = frozenset({1000, 1001, 1002, 1003, *range(1007, 1015)})
"""The close codes below 3000 that may be sent (3000-4999 are the application's)."""

# RFC 6455 §5.5: a control frame carries at most 125 bytes, two of them the code.
_MAX_CLOSE_REASON_BYTES: Final = 123


def is_sendable_close_code(code: int) -> bool:
    """Return whether ``code`` may be sent in a WebSocket Close frame."""
    return code in SENDABLE_STANDARD_CODES or 3000 <= code <= 4999


def check_close_reason(reason: str, where: str) -> None:
    """Refuse a close reason too long for a Close frame, naming ``where`` it came from.

    Raises:
        ValueError: ``reason`` is longer than 123 bytes in UTF-8.
    """
    # Servers disagree on a reason that does not fit the Close frame: wsproto
    # truncates it, websockets fails the connection (the client sees 1006).
    size = len(reason.encode())
    if size > _MAX_CLOSE_REASON_BYTES:
        raise ValueError(
            f"{where} is {size} bytes in UTF-8, but a WebSocket close reason holds "
            f"at most {_MAX_CLOSE_REASON_BYTES}: shorten it ({reason[:30]!r}...)."
        )


class WebSocketSettings:
    """What every connection of an app shares: its ``ws_options``, checked and prepared.

    PERF: the handlers' bound methods and the options are resolved here, so
    each message costs no lookup through ``ws_options``.

    Raises:
        ValueError: An option holds a value lanner cannot use (the message
            names the option and what it accepts).
    """

    __slots__ = (
        "binary_deserialize",
        "binary_serialize",
        "close_reasons",
        "error_close_code",
        "max_message_size",
        "max_receive_queue",
        "send_timeout",
        "text_deserialize",
        "text_serialize",
    )

    def __init__(self, options: WebSocketOptions) -> None:
        text = options.media_handlers.get(WebSocketPayloadType.TEXT)
        binary = options.media_handlers.get(WebSocketPayloadType.BINARY)
        self.text_serialize = text.serialize if isinstance(text, TextBaseHandlerWS) else None
        self.text_deserialize = text.deserialize if isinstance(text, TextBaseHandlerWS) else None
        self.binary_serialize = (
            binary.serialize if isinstance(binary, BinaryBaseHandlerWS) else None
        )
        self.binary_deserialize = (
            binary.deserialize if isinstance(binary, BinaryBaseHandlerWS) else None
        )
        if options.max_receive_queue < 0:
            raise ValueError(
                "ws_options.max_receive_queue must be 0 (off) or a positive int; "
                f"got {options.max_receive_queue!r}."
            )
        self.max_receive_queue = options.max_receive_queue
        code = options.error_close_code
        self.error_close_code = code if is_sendable_close_code(code) else ERROR_CLOSE_FALLBACK
        self.close_reasons = dict(options.default_close_reasons)
        for close_code, reason in self.close_reasons.items():
            check_close_reason(reason, f"ws_options.default_close_reasons[{close_code}]")
        limit = options.max_message_size
        if limit is not None and (type(limit) is not int or limit < 1):
            raise ValueError(
                "ws_options.max_message_size must be None (the server's limit) or a "
                f"positive number of bytes; got {limit!r}."
            )
        self.max_message_size = limit
        self.send_timeout = _check_send_timeout(options.send_timeout)


def _check_send_timeout(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1e9:
        raise ValueError(
            "ws_options.send_timeout must be None (no limit) or a positive number of "
            f"seconds; got {value!r}."
        )
    return float(value)
