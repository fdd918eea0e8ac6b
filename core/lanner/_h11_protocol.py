"""uvicorn's h11 protocol with a deadline on each request's head (``lanner serve``).

uvicorn 0.54 bounds the time between requests (``--timeout-keep-alive``) but not
the time a client may take to send a request line and its headers: a client
that sends half a request and then nothing holds its connection, a task's
worth of memory and a file descriptor for as long as it likes (500 such
connections were all still open after 10 s, and would be after an hour). This
subclass closes a connection whose request head is not complete
``LANNER_TIMEOUT_REQUEST_HEADER`` seconds after it opened, or after the first
byte of a later request on a kept-alive connection; it answers
``408 Request Timeout`` if part of a head had arrived. ``lanner serve`` selects
it with ``--http h11`` (the default) and sets the variable from
``--timeout-request-header``, so worker and reloaded processes get it too.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, Final

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol as _UvicornH11Protocol

__all__ = ["TIMEOUT_ENV", "H11Protocol", "timeout_from_env"]

TIMEOUT_ENV: Final = "LANNER_TIMEOUT_REQUEST_HEADER"
"""The environment variable holding the deadline, in seconds (``0``: none)."""

_TIMEOUT_BODY: Final = b"The request headers took too long to arrive.\n"
_REQUEST_TIMEOUT: Final = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: %d\r\n"
    b"connection: close\r\n\r\n%s" % (len(_TIMEOUT_BODY), _TIMEOUT_BODY)
)


def timeout_from_env() -> float | None:
    """Return the deadline ``$LANNER_TIMEOUT_REQUEST_HEADER`` sets, ``None`` if unset or 0.

    Raises:
        ValueError: The variable is set to something that is not a number >= 0.
    """
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also refuses NaN
        raise ValueError(
            f"{TIMEOUT_ENV} must be a number of seconds >= 0 (0 turns the deadline off), "
            f"found {raw!r}."
        )
    return seconds or None


class H11Protocol(_UvicornH11Protocol):
    """uvicorn's h11 protocol, closing connections whose request head is too slow.

    Select it with ``uvicorn --http lanner._h11_protocol:H11Protocol``; the
    deadline comes from :data:`TIMEOUT_ENV`, read at the first connection of
    each process (after ``lanner serve`` has set it).
    """

    head_timeout: float | None = None
    """Seconds a request head may take (``None``: no deadline)."""

    _configured: bool = False

    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start the clock for the first request's head."""
        super().connection_made(transport)  # type: ignore[arg-type]
        self._arm()

    def data_received(self, data: bytes) -> None:
        """Stop the clock once a head is complete; start it at a new request's first byte."""
        super().data_received(data)
        if self._waiting_for_head():
            if self._head_timer is None:
                self._arm()
        else:
            self._disarm()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        """Hand the connection to the WebSocket protocol, clock stopped."""
        self._disarm()
        super().handle_websocket_upgrade(event)

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clock and let uvicorn clean up."""
        self._disarm()
        super().connection_lost(exc)

    def _waiting_for_head(self) -> bool:
        return self.conn.their_state is h11.IDLE and not self.transport.is_closing()

    def _arm(self) -> None:
        cls = type(self)
        if not cls._configured:
            cls._configured = True  # a bad value is reported once, then no deadline
            cls.head_timeout = timeout_from_env()
        timeout = cls.head_timeout
        if timeout is not None:
            self._head_timer = self.loop.call_later(timeout, self._head_timed_out)

    def _disarm(self) -> None:
        timer = self._head_timer
        if timer is not None:
            timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        transport: Any = self.transport
        if not self._waiting_for_head() or transport.get_protocol() is not self:
            return
        partial, _closed = self.conn.trailing_data
        if partial:
            transport.write(_REQUEST_TIMEOUT)
        transport.close()
