"""The WebSocket connection handed to ``on_websocket`` responders.

Its neighbours: :mod:`lanner._ws_settings` (``ws_options`` checked and
prepared once per app), :mod:`lanner._ws_reader` (how a connection learns the
client has gone on servers before ASGI spec 2.4) and :mod:`lanner._lifecycle`
(the send-timeout watchdog and shutdown, which call this module's ``_``-methods
under "the app's side").
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Coroutine, Iterable, Mapping
from typing import Any, Final

from lanner._headers import check_header
from lanner._lifecycle import abort_transport, cancel_awaiting, is_pending, stopped_by_server
from lanner._spec_version import WS_SPEC_FLAGS, ws_spec_flags
from lanner._types import Message, Receive, Scope, Send
from lanner._ws_reader import start_reader
from lanner._ws_settings import (
    SENDABLE_STANDARD_CODES,
    WebSocketSettings,
    check_close_reason,
    is_sendable_close_code,
)
from lanner.errors import (
    MediaPayloadTypeError,
    PayloadTypeError,
    UnsupportedError,
    WebSocketDisconnected,
)
from lanner.ws_options import WebSocketPayloadType

__all__ = ["WebSocket", "WebSocketSettings", "is_sendable_close_code"]

_TEXT: Final = WebSocketPayloadType.TEXT
_BINARY: Final = WebSocketPayloadType.BINARY

_GOING_AWAY: Final = 1001
_NO_STATUS_RECEIVED: Final = 1005
_ABNORMAL_CLOSURE: Final = 1006
_MESSAGE_TOO_BIG: Final = 1009


def _unsendable_text(where: str, exc: UnicodeEncodeError) -> ValueError:
    # The server encodes TEXT to UTF-8 and raises before it touches the
    # connection, which therefore stays open for the responder to carry on.
    bad = exc.object[exc.start : exc.end]
    return ValueError(
        f"{where}: the text cannot be sent, because a WebSocket TEXT message must be "
        f"UTF-8 and {bad!r} at index {exc.start} is a lone surrogate, not a Unicode "
        "character. Remove or replace it (text.encode('utf-8', 'replace').decode() "
        "turns it into '?'), or send bytes with send_data(); the connection is still open."
    )


class _State(enum.Enum):
    HANDSHAKE = "handshake"
    OPEN = "open"
    CLOSED = "closed"


# PERF: module globals are cheaper to reach than enum members on the per-message path.
_HANDSHAKE: Final = _State.HANDSHAKE
_OPEN: Final = _State.OPEN
_CLOSED: Final = _State.CLOSED


class WebSocket:
    """One WebSocket connection, from handshake to close.

    The handshake is pending until :meth:`accept`; :meth:`close` before that
    denies it (the client gets HTTP 403). Receives raise
    :class:`~lanner.WebSocketDisconnected` once the client has gone, and so do
    sends, as soon as the server or lanner knows it.
    """

    __slots__ = (
        "_close_code",
        "_going_away",
        "_lost_code",
        "_reader_task",
        "_receive",
        "_scope",
        "_send",
        "_sending",
        "_server_reports_loss",
        "_server_send",
        "_settings",
        "_state",
        "_subprotocols",
        "_supports_reason",
        "_timed_out",
        "_unbounded_receive",
    )

    def __init__(
        self, scope: Scope, receive: Receive, send: Send, settings: WebSocketSettings
    ) -> None:
        self._scope = scope
        self._receive = receive
        self._send = send
        self._server_send = send
        self._settings = settings
        self._state = _HANDSHAKE
        self._close_code: int | None = None
        self._lost_code: int | None = None
        self._reader_task: asyncio.Task[None] | None = None
        # The awaitable of the latest send (the send-timeout watchdog checks it),
        # and why the connection failed if a send timed out.
        self._sending: object = None
        self._timed_out: str | None = None
        # Set when the server starts shutting down during the handshake.
        self._going_away = False
        # Close reasons arrived in ASGI spec 2.3; errors on a lost send in 2.4.
        asgi = scope.get("asgi")
        flags = WS_SPEC_FLAGS.get(asgi.get("spec_version")) if asgi else None
        self._supports_reason, self._server_reports_loss, _ = flags or ws_spec_flags(scope)
        self._subprotocols: tuple[str, ...] | None = None

    def __repr__(self) -> str:
        return f"<WebSocket {self._scope.get('path')!r} {self._state.value}>"

    @property
    def subprotocols(self) -> tuple[str, ...]:
        """The subprotocols the client offered, in its order of preference.

        Middleware may assign a narrower tuple (an authentication plugin hides
        a credential carried as a subprotocol entry this way).
        """
        offered = self._subprotocols
        if offered is None:
            offered = self._subprotocols = tuple(self._scope.get("subprotocols") or ())
        return offered

    @subprotocols.setter
    def subprotocols(self, value: tuple[str, ...]) -> None:
        self._subprotocols = tuple(value)

    # -- state ----------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """Whether the connection is accepted and not (known to be) closed."""
        return self._state is _OPEN and self._lost_code is None

    @property
    def closed(self) -> bool:
        """Whether the connection is closed, by the app or by the client."""
        return self._state is _CLOSED or self._lost_code is not None

    @property
    def close_code(self) -> int | None:
        """The close code once closed (the app's, or the client's), else ``None``."""
        return self._close_code if self._close_code is not None else self._lost_code

    @property
    def supports_accept_headers(self) -> bool:
        """Whether the server can send headers with the handshake response.

        ASGI servers on WebSocket spec 2.1 or later can (every current
        uvicorn); on older ones ``accept(headers=...)`` raises
        :class:`~lanner.UnsupportedError` rather than drop them.
        """
        return ws_spec_flags(self._scope)[2]

    @property
    def error_close_code(self) -> int:
        """The close code for an unhandled error (``ws_options.error_close_code``)."""
        return self._settings.error_close_code

    # -- handshake ------------------------------------------------------------

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    ) -> None:
        """Accept the handshake, optionally selecting a subprotocol.

        Args:
            subprotocol: One of :attr:`subprotocols` to select, or ``None``.
            headers: Extra response headers for the handshake's 101 response
                (not ``Sec-WebSocket-Protocol``: pass ``subprotocol`` for that).

        Raises:
            RuntimeError: The connection was already accepted.
            ValueError: ``subprotocol`` is not one the client offered (a real
                client would fail the handshake on it), ``headers`` has a
                ``Sec-WebSocket-Protocol`` header, or a header cannot be sent
                (as for ``resp.set_header``).
            UnsupportedError: ``headers`` were given but the server cannot send
                them (see :attr:`supports_accept_headers`).
            WebSocketDisconnected: The connection was closed (by the app) or the
                client left before the handshake completed.
        """
        if subprotocol is not None:
            # Checked against what the client sent, not against subprotocols as
            # middleware may have narrowed it: the app may still pick a hidden one.
            offered = self._scope.get("subprotocols") or ()
            if subprotocol not in offered:
                raise ValueError(
                    f"accept(subprotocol={subprotocol!r}): the client offered "
                    f"{list(offered)!r}; select one of those or None (a client fails "
                    "the handshake when the server picks one it did not offer)."
                )
        if self._state is _OPEN:
            raise RuntimeError(
                "accept() was already called for this WebSocket; call it once, "
                "before the first send or receive."
            )
        if self._state is _CLOSED:
            raise WebSocketDisconnected(self.close_code or _ABNORMAL_CLOSURE)
        message: Message = {"type": "websocket.accept", "subprotocol": subprotocol}
        if headers:
            message["headers"] = self._accept_headers(headers)
        try:
            await self._server_send(message)
        except OSError as exc:
            self._state = _CLOSED
            self._close_code = _ABNORMAL_CLOSURE
            raise WebSocketDisconnected(_ABNORMAL_CLOSURE) from exc
        self._state = _OPEN
        settings = self._settings
        if settings.max_receive_queue and not self._server_reports_loss:
            self._start_reader(settings.max_receive_queue)
        if settings.max_message_size is not None:
            # PERF: the size check wraps receive only when a limit is set, so
            # apps without one pay nothing for it per message.
            self._unbounded_receive: Receive = self._receive
            self._receive = self._receive_within_limit
        if self._going_away:
            await self._go_away()

    def _accept_headers(
        self, headers: Mapping[str, str] | Iterable[tuple[str, str]]
    ) -> list[tuple[bytes, bytes]]:
        items = list(headers.items() if isinstance(headers, Mapping) else headers)
        if not items:
            return []
        for name, value in items:
            check_header(name, value)
            if name.lower() == "sec-websocket-protocol":
                raise ValueError(
                    "accept(headers=...) has a Sec-WebSocket-Protocol header; select the "
                    "subprotocol with accept(subprotocol=...) instead, which also checks "
                    "that the client offered it."
                )
        if not self.supports_accept_headers:
            asgi = self._scope.get("asgi") or {}
            raise UnsupportedError(
                "accept(headers=...): this server reports ASGI WebSocket spec "
                f"{asgi.get('spec_version', '2.0')!r}, which cannot send handshake headers "
                "(2.1 or later can); drop the headers or use a newer server."
            )
        return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in items]

    async def close(self, code: int | None = 1000, reason: str | None = None) -> None:
        """Close the connection; before :meth:`accept`, deny the handshake (HTTP 403).

        Closing an already-closed connection does nothing.

        Args:
            code: The close code: 1000-1003, 1007-1014 or 3000-4999; ``None``
                means 1000 (Normal Closure).
            reason: A short text sent with the code where the server supports
                it (ASGI spec 2.3+); defaults to ``ws_options.default_close_reasons``.

        Raises:
            ValueError: ``code`` cannot be sent in a Close frame, or ``reason``
                is longer than 123 bytes in UTF-8; the connection stays as it was.
        """
        if code is None:
            code = 1000
        # PERF: is_sendable_close_code() written out; this runs once per connection.
        elif code not in SENDABLE_STANDARD_CODES and not 3000 <= code <= 4999:
            raise ValueError(
                f"WebSocket close code {code} cannot be sent: use 1000-1003, "
                "1007-1014 or an application code in 3000-4999."
            )
        if reason:
            check_close_reason(reason, "The close reason")
        if self._state is _CLOSED:
            return
        self._state = _CLOSED
        self._close_code = code
        message: Message = {"type": "websocket.close", "code": code}
        if self._supports_reason:
            text = reason if reason is not None else self._settings.close_reasons.get(code)
            if text:
                message["reason"] = text
        try:
            self._sending = sending = self._server_send(message)
            await sending
        except OSError:
            pass  # the client already left; the connection is closed either way
        except asyncio.CancelledError:
            if self._timed_out is None:
                raise
            # The close itself could not be sent in time: the connection is failed.
            stopped_by_server(asyncio.current_task())
        finally:
            if self._reader_task is not None:
                self._stop_reader()

    # -- receiving ------------------------------------------------------------
    # PERF: each receive and send is one coroutine frame over the server's own
    # call; the state check is an identity test, and a disconnect is only
    # recognised on the slow path (a message without the expected payload).

    def _not_open(self) -> Exception:
        if self._state is _HANDSHAKE:
            return RuntimeError("Call accept() before sending or receiving on a WebSocket.")
        return WebSocketDisconnected(self.close_code or _NO_STATUS_RECEIVED)

    async def _receive_within_limit(self) -> Message:
        message = await self._unbounded_receive()
        limit = self._settings.max_message_size
        assert limit is not None
        text = message.get("text")
        if text is not None:
            # A str takes between len(text) and 4 * len(text) bytes in UTF-8.
            too_big = len(text) > limit or (len(text) * 4 > limit and len(text.encode()) > limit)
        else:
            too_big = len(message.get("bytes") or b"") > limit
        if too_big:
            await self.close(_MESSAGE_TOO_BIG)
            return {"type": "websocket.disconnect", "code": _MESSAGE_TOO_BIG}
        return message

    def _on_disconnect(self, message: Message) -> WebSocketDisconnected:
        code = int(message.get("code") or _NO_STATUS_RECEIVED)
        self._state = _CLOSED
        self._lost_code = code
        self._close_code = code
        self._stop_reader()
        return WebSocketDisconnected(code, message.get("reason") or None)

    async def receive(self) -> str | bytes:
        """Return the next message: ``str`` for TEXT, ``bytes`` for BINARY.

        Raises:
            WebSocketDisconnected: The client has gone.
        """
        if self._state is not _OPEN:
            raise self._not_open()
        message = await self._receive()
        text = message.get("text")
        if text is not None:
            return str(text)
        data = message.get("bytes")
        if data is not None:
            return bytes(data)
        raise self._on_disconnect(message)

    async def receive_text(self) -> str:
        """Return the next message, which must be TEXT.

        Raises:
            PayloadTypeError: The message was BINARY (the connection stays usable).
            WebSocketDisconnected: The client has gone.
        """
        if self._state is not _OPEN:
            raise self._not_open()
        message = await self._receive()
        text = message.get("text")
        if text is None:
            if message.get("bytes") is None:
                raise self._on_disconnect(message)
            raise PayloadTypeError("Expected a TEXT WebSocket message, but got a BINARY one.")
        return text  # type: ignore[no-any-return]

    async def receive_data(self) -> bytes:
        """Return the next message, which must be BINARY.

        Raises:
            PayloadTypeError: The message was TEXT (the connection stays usable).
            WebSocketDisconnected: The client has gone.
        """
        if self._state is not _OPEN:
            raise self._not_open()
        message = await self._receive()
        data = message.get("bytes")
        if data is None:
            if message.get("text") is None:
                raise self._on_disconnect(message)
            raise PayloadTypeError("Expected a BINARY WebSocket message, but got a TEXT one.")
        return data if type(data) is bytes else bytes(data)

    async def receive_media(self) -> Any:
        """Return the next message decoded by the handler for its payload type.

        TEXT messages go to ``media_handlers[TEXT]`` (JSON by default), BINARY
        ones to ``media_handlers[BINARY]`` (MessagePack by default).

        Raises:
            WebSocketDisconnected: The client has gone.
            MediaMalformedError: The payload does not decode (a ``ValueError``;
                every built-in handler raises it), or no handler is set for its
                type (then also a ``PayloadTypeError``); the connection stays usable.
        """
        if self._state is not _OPEN:
            raise self._not_open()
        message = await self._receive()
        text = message.get("text")
        if text is not None:
            decode_text = self._settings.text_deserialize
            if decode_text is None:
                raise MediaPayloadTypeError("TEXT")
            return decode_text(text)
        data = message.get("bytes")
        if data is None:
            raise self._on_disconnect(message)
        decode_binary = self._settings.binary_deserialize
        if decode_binary is None:
            raise MediaPayloadTypeError("BINARY")
        return decode_binary(data)

    # -- sending --------------------------------------------------------------

    def _on_lost_send(self, exc: OSError) -> WebSocketDisconnected:
        # ASGI spec 2.4: the server raises an OSError subclass when the client
        # has gone.
        self._state = _CLOSED
        self._lost_code = self._lost_code or _ABNORMAL_CLOSURE
        self._close_code = self._lost_code
        self._stop_reader()
        return WebSocketDisconnected(self._lost_code, self._timed_out)

    def _on_timed_out(self) -> WebSocketDisconnected:
        # The watchdog cancelled the task blocked in this connection's send.
        stopped_by_server(asyncio.current_task())
        self._state = _CLOSED
        self._close_code = self._lost_code
        self._stop_reader()
        return WebSocketDisconnected(self._lost_code or _ABNORMAL_CLOSURE, self._timed_out)

    async def send_text(self, payload: str) -> None:
        """Send a TEXT message.

        Raises:
            PayloadTypeError: ``payload`` is not a ``str``.
            ValueError: ``payload`` holds a lone surrogate (such as ``"\\ud800"``),
                which UTF-8 cannot encode; nothing was sent and the connection
                stays open.
            WebSocketDisconnected: The connection is closed.
        """
        if self._state is not _OPEN:
            raise self._not_open()
        if type(payload) is not str and not isinstance(payload, str):
            raise PayloadTypeError(
                f"send_text() takes a str, got {type(payload).__name__}; "
                "use send_data() for bytes or send_media() for objects."
            )
        # PERF: the send's awaitable is kept for the send-timeout watchdog: one
        # attribute write per message, no timer and no extra coroutine frame.
        try:
            self._sending = sending = self._send({"type": "websocket.send", "text": payload})
            await sending
        except OSError as exc:
            raise self._on_lost_send(exc) from exc
        except UnicodeEncodeError as exc:
            raise _unsendable_text("send_text()", exc) from exc
        except asyncio.CancelledError:
            if self._timed_out is None:
                raise
            raise self._on_timed_out() from None

    async def send_data(self, payload: bytes | bytearray | memoryview) -> None:
        """Send a BINARY message.

        Raises:
            PayloadTypeError: ``payload`` is not bytes, bytearray or memoryview.
            WebSocketDisconnected: The connection is closed.
        """
        if self._state is not _OPEN:
            raise self._not_open()
        if type(payload) is not bytes:
            if not isinstance(payload, (bytes, bytearray, memoryview)):
                raise PayloadTypeError(
                    f"send_data() takes bytes, bytearray or memoryview, got "
                    f"{type(payload).__name__}; use send_text() for str."
                )
            payload = bytes(payload)
        try:
            self._sending = sending = self._send({"type": "websocket.send", "bytes": payload})
            await sending
        except OSError as exc:
            raise self._on_lost_send(exc) from exc
        except asyncio.CancelledError:
            if self._timed_out is None:
                raise
            raise self._on_timed_out() from None

    async def send_media(self, media: object, payload_type: WebSocketPayloadType = _TEXT) -> None:
        """Serialise ``media`` with the handler for ``payload_type`` and send it.

        Raises:
            ValueError: The TEXT handler's output holds a lone surrogate (only
                when the app put one in ``media``); nothing was sent and the
                connection stays open.
            WebSocketDisconnected: The connection is closed.
        """
        if self._state is not _OPEN:
            raise self._not_open()
        settings = self._settings
        message: Message
        if payload_type is _TEXT:
            encode_text = settings.text_serialize
            if encode_text is None:
                raise PayloadTypeError("No media handler is set for TEXT WebSocket messages.")
            message = {"type": "websocket.send", "text": encode_text(media)}
        else:
            encode_binary = settings.binary_serialize
            if encode_binary is None:
                raise PayloadTypeError("No media handler is set for BINARY WebSocket messages.")
            data = encode_binary(media)
            message = {
                "type": "websocket.send",
                "bytes": data if type(data) is bytes else bytes(data),
            }
        try:
            self._sending = sending = self._send(message)
            await sending
        except OSError as exc:
            raise self._on_lost_send(exc) from exc
        except UnicodeEncodeError as exc:
            raise _unsendable_text("send_media()", exc) from exc
        except asyncio.CancelledError:
            if self._timed_out is None:
                raise
            raise self._on_timed_out() from None

    # -- the app's side: teardown, send timeout and shutdown -----------------

    def _teardown(self, code: int) -> Coroutine[Any, Any, None] | None:
        """End the connection once its responder has returned (or raised).

        Returns the close with ``code`` for the app to await, unless the
        connection is closed already; then it only stops the fallback reader
        (a close stops it too). The close stays watched by the send timeout, so
        a client that does not read cannot hold it.
        """
        # PERF: a plain method handing back close()'s coroutine, not an async one
        # awaiting it: no extra coroutine frame on a path run once per connection.
        if self._state is not _CLOSED and self._lost_code is None:
            return self.close(code)
        if self._reader_task is not None:
            self._stop_reader()
        return None

    def _pending_send(self) -> object | None:
        sending = self._sending
        return sending if sending is not None and is_pending(sending) else None

    def _fail_stalled_send(self, timeout: float) -> None:
        if self._timed_out is not None:
            return
        self._timed_out = f"a send did not complete within {timeout:g} s (send_timeout)"
        self._lost_code = self._lost_code or _ABNORMAL_CLOSURE
        # Aborting the transport frees the socket and its buffers at once, and the
        # server then fails the blocked send; without a transport, cancelling the
        # task blocked in it makes the send raise WebSocketDisconnected instead.
        if not abort_transport(self._server_send):
            cancel_awaiting(self._sending)

    async def _go_away(self) -> None:
        if self._state is _HANDSHAKE:
            self._going_away = True  # accept() closes it right after the handshake
            return
        if self._state is _OPEN and self._lost_code is None:
            reason = None if _GOING_AWAY in self._settings.close_reasons else "Server shutting down"
            await self.close(_GOING_AWAY, reason)

    # -- lost-connection fallback for servers before ASGI spec 2.4 -----------------

    def _start_reader(self, max_queue: int) -> None:
        queue: asyncio.Queue[Message] = asyncio.Queue(max_queue)
        server_receive = self._receive
        self._receive = queue.get
        self._send = self._send_unless_lost
        name = f"lanner-ws-reader {self._scope.get('path')}"
        self._reader_task = start_reader(server_receive, queue, self._note_lost, name)

    def _note_lost(self, code: int) -> None:
        self._lost_code = code

    async def _send_unless_lost(self, message: Message) -> None:
        if self._lost_code is not None:
            raise OSError("the client has disconnected")
        await self._server_send(message)

    def _stop_reader(self) -> None:
        task = self._reader_task
        if task is not None:
            self._reader_task = None
            task.cancel()
