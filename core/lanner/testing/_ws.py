"""A simulated WebSocket client driving an app in-process."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import msgpack

from lanner._spec_version import parse_version
from lanner._types import ASGIApp, Message, Scope
from lanner.errors import (
    PayloadTypeError,
    WebSocketDisconnected,
    WebSocketHandlerNotFound,
    WebSocketPathNotFound,
    WebSocketServerError,
)
from lanner.testing._http import call_app
from lanner.testing._pipe import Pipe

__all__ = ["SimulatedClientDisconnected", "SimulatedWebSocket", "error_for_close_code"]


class SimulatedClientDisconnected(OSError):
    """What the simulated server raises on a send after the client left (spec 2.4)."""


def error_for_close_code(code: int, reason: str | None = None) -> WebSocketDisconnected:
    """Return the :class:`~lanner.WebSocketDisconnected` subclass for a close code."""
    if code == 3404:
        return WebSocketPathNotFound(code, reason)
    if code == 3405:
        return WebSocketHandlerNotFound(code, reason)
    if code in (1011, 3011):
        return WebSocketServerError(code, reason)
    return WebSocketDisconnected(code, reason)


class SimulatedWebSocket:
    """The client end of an in-process WebSocket connection.

    Created by ``ASGIConductor.simulate_ws()``; entering it performs the
    handshake, and a denied handshake raises the matching
    :class:`~lanner.WebSocketDisconnected` (3404, 3405, 3000 + status, 1011).
    Every receive waits at most ``timeout`` seconds and then raises
    ``TimeoutError`` naming the path, so a test never hangs. Messages the app
    sent before closing are delivered before the close is reported.

    Like a real server, the connection applies back-pressure: each direction
    buffers at most ``lanner.testing.QUEUE_SIZE`` messages. An app that sends
    faster than the test reads suspends in ``send`` until the test reads (and
    every send yields to the event loop, so the test's own timeouts fire); a
    test that sends faster than the app reads waits, at most ``timeout``
    seconds, for room.

    Args:
        spec_version: The ASGI spec version the simulated server reports.
            From ``"2.4"`` (the default, like every current uvicorn) a send
            after the client left raises; before it, such sends are dropped
            silently, as older servers did. Before ``"2.1"`` the server cannot
            send handshake headers; a major version other than 2 makes the app
            refuse the connection with :class:`~lanner.UnsupportedScopeError`.
    """

    def __init__(
        self, app: ASGIApp, scope: Scope, *, timeout: float, spec_version: str = "2.4"
    ) -> None:
        self._app = app
        self._scope = scope
        self.timeout = timeout
        self._raise_on_lost_send = parse_version(spec_version) >= (2, 4)
        self._to_app = Pipe()
        self._from_app = Pipe()
        self._task: asyncio.Task[None] | None = None
        self._client_closed = False
        self._server_closed = False
        self.ready = False
        """Whether the handshake was accepted and neither side has closed."""
        self.close_code: int | None = None
        """The close code, once the connection is closed (either side)."""
        self.close_reason: str | None = None
        """The close reason, once the connection is closed (either side), if any."""
        self.subprotocol: str | None = None
        """The subprotocol the app selected when accepting."""
        self.headers: dict[str, str] = {}
        """Extra headers the app sent with ``accept()``."""
        self.sent_after_close = 0
        """How many messages the app tried to send after the client left."""
        # Cleared while the client does not read: the app's sends wait, as they do
        # on a server whose socket buffers are full.
        self._reading = asyncio.Event()
        self._reading.set()

    @property
    def path(self) -> str:
        """The path this connection was opened on."""
        return str(self._scope["path"])

    @property
    def closed(self) -> bool:
        """Whether either side has closed the connection."""
        return self._client_closed or self._server_closed

    # -- the server side, as the app sees it --------------------------------------

    async def _app_receive(self) -> Message:
        if self._client_closed and self._to_app.empty():
            return {"type": "websocket.disconnect", "code": self.close_code or 1000}
        return await self._to_app.get()

    async def _app_send(self, message: Message) -> None:
        if not self._reading.is_set():
            await self._reading.wait()
        if self._client_closed or self._server_closed:
            await asyncio.sleep(0)  # a dropped send yields too (spec before 2.4)
            self._lost_send()
            return
        text = message.get("text")
        if text is not None:
            # As a real server does, encode TEXT for the wire: text UTF-8 cannot
            # hold (a lone surrogate) raises UnicodeEncodeError here, in the
            # app's send, and the connection stays open.
            text.encode()
        if message["type"] == "websocket.close":
            self._server_closed = True
            self._observe_close(int(message.get("code", 1000)), message.get("reason") or None)
            # As uvicorn does, the app's own close also ends its receive side,
            # after any client messages already queued.
            ended: Message = {"type": "websocket.disconnect", "code": self.close_code}
            if self.close_reason:
                ended["reason"] = self.close_reason
            self._to_app.put_nowait(ended)
            self._from_app.put_nowait(message)
            return
        pipe = self._from_app
        if pipe.has_room():
            pipe.put_nowait(message)
            # A real server's send yields to the event loop; without this an
            # app sending in a loop would starve the test and its timeouts.
            await asyncio.sleep(0)
        elif not await pipe.put(message):
            self._lost_send()  # the client left while the app waited for room

    def _lost_send(self) -> None:
        self.sent_after_close += 1
        if self._raise_on_lost_send:
            raise SimulatedClientDisconnected("the WebSocket client has disconnected")

    def _observe_close(self, code: int, reason: str | None) -> None:
        # The first close seen wins, as in the closing handshake of RFC 6455.
        self.ready = False
        if self.close_code is None:
            self.close_code = code
            self.close_reason = reason

    # -- the client side --------------------------------------------------------

    async def __aenter__(self) -> SimulatedWebSocket:
        self._task = asyncio.get_running_loop().create_task(
            call_app(self._app, self._scope, self._app_receive, self._app_send),
            name=f"simulated ws app {self.path}",
        )
        self._to_app.put_nowait({"type": "websocket.connect"})
        try:
            message = await self._next("the handshake")
        except TimeoutError:
            # Entering failed, so __aexit__ will not run: stop the handler here
            # rather than leave it running for the rest of the test.
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=self.timeout)
            raise
        if message["type"] == "websocket.accept":
            self.ready = not self.closed  # the app may have closed right after accepting
            self.subprotocol = message.get("subprotocol")
            self.headers = {
                n.decode("latin-1"): v.decode("latin-1") for n, v in message.get("headers", [])
            }
            return self
        if message["type"] == "websocket.close":
            assert self.close_code is not None  # recorded when the app sent it
            await self._wait_app()
            raise error_for_close_code(self.close_code, self.close_reason)
        raise AssertionError(f"Expected websocket.accept or close, got {message['type']!r}.")

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _next(self, what: str) -> Message:
        ready = self._from_app.get_nowait()
        if ready is not None:
            return ready
        task = self._task
        assert task is not None
        getter = asyncio.ensure_future(self._from_app.get())
        done, _ = await asyncio.wait(
            {getter, task}, timeout=self.timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if getter in done:
            return getter.result()
        getter.cancel()
        if task in done:
            exc = task.exception()
            if exc is not None:
                raise exc
            return {"type": "websocket.close", "code": 1006}
        raise TimeoutError(
            f"No {what} from the app on WebSocket {self.path} within {self.timeout} s."
        )

    async def _wait_app(self) -> None:
        task = self._task
        if task is None or task.done():
            if task is not None and not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), self.timeout)
        except asyncio.TimeoutError:
            task.cancel()
            raise TimeoutError(
                f"The app's WebSocket handler for {self.path} did not return within "
                f"{self.timeout} s after the connection closed."
            ) from None

    async def _receive_message(self) -> Message:
        # What arrived before either side closed is still delivered, as a real
        # client buffers it; after that, the close is reported with its code.
        if (self._server_closed or self._client_closed) and self._from_app.empty():
            raise error_for_close_code(self.close_code or 1000, self.close_reason)
        message = await self._next("message")
        if message["type"] == "websocket.close":
            self._server_closed = True
            self._observe_close(int(message.get("code", 1000)), message.get("reason") or None)
            raise error_for_close_code(self.close_code or 1000, self.close_reason)
        return message

    async def receive_text(self) -> str:
        """Return the next TEXT message from the app.

        Raises:
            PayloadTypeError: The app sent BINARY.
            WebSocketDisconnected: The app closed the connection (``.code``).
            TimeoutError: Nothing arrived within the timeout.
        """
        message = await self._receive_message()
        text = message.get("text")
        if text is None:
            raise PayloadTypeError("Expected a TEXT message from the app, got BINARY.")
        return str(text)

    async def receive_data(self) -> bytes:
        """Return the next BINARY message from the app (see :meth:`receive_text`)."""
        message = await self._receive_message()
        data = message.get("bytes")
        if data is None:
            raise PayloadTypeError("Expected a BINARY message from the app, got TEXT.")
        return bytes(data)

    async def receive_json(self) -> Any:
        """Return the next TEXT message decoded as JSON."""
        return json.loads(await self.receive_text())

    async def receive_msgpack(self) -> Any:
        """Return the next BINARY message decoded as MessagePack."""
        return msgpack.unpackb(await self.receive_data(), raw=False)

    async def _send(self, message: Message) -> None:
        if self._client_closed or self._server_closed:
            raise error_for_close_code(self.close_code or 1000, self.close_reason)
        pipe = self._to_app
        if pipe.has_room():
            pipe.put_nowait(message)
            return
        try:
            await asyncio.wait_for(pipe.put(message), self.timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(
                f"The app on WebSocket {self.path} read none of the client's messages "
                f"for {self.timeout} s while its receive queue was full."
            ) from None

    async def send_text(self, payload: str) -> None:
        """Send a TEXT message to the app.

        Raises:
            PayloadTypeError: ``payload`` is not a ``str`` (a ``TypeError``).
            UnicodeEncodeError: ``payload`` holds a lone surrogate, which a real
                client cannot encode as UTF-8 either; nothing is sent.
            WebSocketDisconnected: The connection is closed.
            TimeoutError: The app read nothing for ``timeout`` seconds while its
                receive queue was full.
        """
        if not isinstance(payload, str):
            raise PayloadTypeError(
                f"send_text() takes a str, got {type(payload).__name__}; use send_data() for bytes."
            )
        payload.encode()
        await self._send({"type": "websocket.receive", "text": payload})

    async def send_data(self, payload: bytes | bytearray | memoryview) -> None:
        """Send a BINARY message to the app (see :meth:`send_text`)."""
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise PayloadTypeError(
                f"send_data() takes bytes, bytearray or memoryview, got "
                f"{type(payload).__name__}; use send_text() for str."
            )
        await self._send({"type": "websocket.receive", "bytes": bytes(payload)})

    async def send_json(self, media: Any) -> None:
        """Send ``media`` as a JSON TEXT message."""
        await self.send_text(json.dumps(media))

    async def send_msgpack(self, media: Any) -> None:
        """Send ``media`` as a MessagePack BINARY message."""
        await self.send_data(msgpack.packb(media, use_bin_type=True))

    def stop_reading(self) -> None:
        """Stop reading, like a client that no longer drains its socket.

        From now on every send of the app (messages and close) waits, as it does
        on a real server once the socket's buffers are full, until
        :meth:`resume_reading` or :meth:`close`; use it to test
        ``ws_options.send_timeout``.
        """
        self._reading.clear()

    def resume_reading(self) -> None:
        """Read again: sends that were waiting go through, in order."""
        self._reading.set()

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Leave as a client would, then wait (bounded) for the app's handler to return.

        The app's pending and later sends then fail as on a real server (ASGI
        spec 2.4: they raise; before it: they are dropped).
        """
        if not self._client_closed:
            self._client_closed = True
            self._reading.set()  # a waiting send now fails: the client has gone
            self._observe_close(code, reason)
            message: Message = {"type": "websocket.disconnect", "code": code}
            if reason is not None:
                message["reason"] = reason
            self._to_app.put_nowait(message)
            self._from_app.close()
        await self._wait_app()
