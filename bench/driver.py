"""The in-memory ASGI server side: scopes and receive/send pairs, identical for every app.

Each class plays one connection. ``receive`` hands out a pre-built script of
messages (the same message object repeated, so nothing is built per call) and
``send`` counts. The only other work is what a real client and server do to
pace and end a connection:

- :class:`ClientLeaves`: a client doing round trips: it sends each scripted
  message once the app has answered the previous one, then leaves
  (``websocket.disconnect``). ``send`` counts and wakes a waiting ``receive``.
- :class:`ServerCloses`: the same, but after its script the client waits, like
  an idle client, until the app sends ``websocket.close``; then ``receive``
  reports the disconnect. ``send`` also looks at the message type.
- :class:`Subscriber`: a fan-out subscriber: it connects, then stays until
  told to leave (``Audience.leave``) or the app closes it; ``send`` adds one
  to the count its :class:`Audience` shares with every other subscriber.
- :class:`HTTPExchange`: one ``http.request``; a later ``receive`` waits until the
  response has ended and then reports ``http.disconnect`` (uvicorn's behaviour,
  which SSE disconnect watchers rely on).

``Recording*`` subclasses keep every sent message, for the correctness check
that runs before any timing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any, Final

from bench._asgi import ASGIApp, Message, Scope

__all__ = [
    "CONNECT",
    "HTTP_DISCONNECT",
    "HTTP_REQUEST",
    "WS_DISCONNECT",
    "Audience",
    "ClientLeaves",
    "HTTPExchange",
    "Lifespan",
    "RecordingClientLeaves",
    "RecordingHTTPExchange",
    "RecordingServerCloses",
    "ServerCloses",
    "Subscriber",
    "http_scope",
    "ws_scope",
    "ws_text",
]

CONNECT: Final[Message] = {"type": "websocket.connect"}
WS_DISCONNECT: Final[Message] = {"type": "websocket.disconnect", "code": 1000, "reason": ""}
HTTP_REQUEST: Final[Message] = {"type": "http.request", "body": b"", "more_body": False}
HTTP_DISCONNECT: Final[Message] = {"type": "http.disconnect"}

_SERVER: Final = ("127.0.0.1", 8000)
_CLIENT: Final = ("127.0.0.1", 50000)
_NEVER_WAIT: Final = -(2**62)
"""A request count no reply count is ever below: receive stops waiting."""


def ws_text(text: str) -> Message:
    """Return a ``websocket.receive`` message carrying ``text``, as uvicorn builds it."""
    return {"type": "websocket.receive", "text": text}


def ws_scope(path: str) -> Scope:
    """Return a WebSocket scope shaped like uvicorn's (ASGI spec 2.4)."""
    return {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "ws",
        "server": _SERVER,
        "client": _CLIENT,
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"upgrade", b"websocket"),
            (b"connection", b"Upgrade"),
            (b"sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
            (b"sec-websocket-version", b"13"),
        ],
        "subprotocols": [],
        "state": {},
        "extensions": {"websocket.http.response": {}},
    }


def http_scope(path: str) -> Scope:
    """Return an HTTP GET scope shaped like uvicorn's httptools one (ASGI spec 2.3)."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": _SERVER,
        "client": _CLIENT,
        "scheme": "http",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"user-agent", b"bench"),
            (b"accept", b"*/*"),
        ],
        "state": {},
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
    }


class ClientLeaves:
    """A WebSocket client that sends ``script`` one message per reply, then leaves.

    Like a client doing round trips, it sends its next message only once the
    app has answered the previous one: the k-th ``receive`` (counting the
    connect as the 0th) completes once the app has sent k messages, waiting if
    it has not. Apps that read only after replying never wait. After the script
    (and the reply to its last message) comes ``websocket.disconnect``.
    """

    __slots__ = ("_asked", "_next", "_waiter", "sent")

    def __init__(self, script: Iterator[Message]) -> None:
        self._next = script.__next__
        self._asked = 0
        self._waiter: asyncio.Future[None] | None = None
        self.sent = 0

    async def receive(self) -> Message:
        """Return the next scripted message once the last one is answered; then the disconnect."""
        if self.sent < self._asked:
            await self._wait_for_reply()
        self._asked += 1
        try:
            return self._next()
        except StopIteration:
            # The client has left: from now on receive never waits again.
            self._asked = _NEVER_WAIT
            return WS_DISCONNECT

    async def _wait_for_reply(self) -> None:
        loop = asyncio.get_running_loop()
        while self.sent < self._asked:
            waiter = loop.create_future()
            self._waiter = waiter
            await waiter

    async def send(self, message: Message) -> None:
        """Count the message, waking a ``receive`` that waits for it."""
        self.sent += 1
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)


class ServerCloses(ClientLeaves):
    """Like :class:`ClientLeaves`, but after its script the client stays until the app closes.

    Once the script is used up, ``receive`` waits, as an idle client's
    connection does, until the app has sent ``websocket.close``, then returns
    ``websocket.disconnect``.
    """

    __slots__ = ("_closed",)

    def __init__(self, script: Iterator[Message]) -> None:
        super().__init__(script)
        self._closed = False

    async def receive(self) -> Message:
        """Return the next scripted message once the last one is answered; then wait for close."""
        if self.sent < self._asked:
            await self._wait_for_reply()
        self._asked += 1
        try:
            return self._next()
        except StopIteration:
            pass
        self._asked = _NEVER_WAIT
        loop = asyncio.get_running_loop()
        while not self._closed:
            waiter = loop.create_future()
            self._waiter = waiter
            await waiter
        return WS_DISCONNECT

    async def send(self, message: Message) -> None:
        """Count the message, notice ``websocket.close``, wake a waiting ``receive``."""
        self.sent += 1
        if message["type"] == "websocket.close":
            self._closed = True
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)


class Audience:
    """What every :class:`Subscriber` of one fan-out run shares: one count, one leave signal.

    ``delivered`` counts the messages sent to all subscribers after their
    accept; :meth:`wait_for` returns once it reaches a total.
    """

    __slots__ = ("_leave", "_target", "_waiter", "delivered")

    def __init__(self) -> None:
        self.delivered = 0
        self._target = 0
        self._waiter: asyncio.Future[None] | None = None
        self._leave: asyncio.Future[None] | None = None

    def count(self) -> None:
        """Add one delivery; wake :meth:`wait_for` when the target is reached."""
        self.delivered += 1
        if self.delivered == self._target:
            waiter = self._waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    async def wait_for(self, total: int) -> None:
        """Return once ``delivered`` has reached ``total``."""
        if self.delivered >= total:
            return
        self._target = total
        self._waiter = asyncio.get_running_loop().create_future()
        await self._waiter

    def leave_signal(self) -> asyncio.Future[None]:
        """The future every subscriber's ``receive`` waits on after its connect."""
        if self._leave is None:
            self._leave = asyncio.get_running_loop().create_future()
        return self._leave

    def leave(self) -> None:
        """Make every subscriber's pending and later ``receive`` report the disconnect."""
        signal = self.leave_signal()
        if not signal.done():
            signal.set_result(None)


class Subscriber:
    """One fan-out subscriber: connects, then waits until the audience leaves or it is closed.

    ``send`` counts the accept apart and every later message into the shared
    :class:`Audience`; a ``websocket.close`` from the app ends the connection
    (its ``receive`` then reports the disconnect).
    """

    __slots__ = ("_audience", "_closed", "_connected", "accepted", "close_code", "received")

    def __init__(self, audience: Audience) -> None:
        self._audience = audience
        self._connected = False
        self._closed: asyncio.Future[None] | None = None
        self.accepted = False
        self.received = 0
        self.close_code: int | None = None

    async def receive(self) -> Message:
        """Return the connect first; then wait for the audience to leave or a close."""
        if not self._connected:
            self._connected = True
            return CONNECT
        leave = self._audience.leave_signal()
        if self.close_code is None and not leave.done():
            self._closed = asyncio.get_running_loop().create_future()
            await asyncio.wait((leave, self._closed), return_when=asyncio.FIRST_COMPLETED)
        return WS_DISCONNECT

    async def send(self, message: Message) -> None:
        """Count a message (the accept apart); notice ``websocket.close``."""
        if self.accepted:
            kind = message["type"]
            if kind == "websocket.send":
                self.received += 1
                self._audience.count()
            elif kind == "websocket.close":
                self.close_code = message.get("code", 1000)
                closed = self._closed
                if closed is not None and not closed.done():
                    closed.set_result(None)
        else:
            self.accepted = message["type"] == "websocket.accept"


class HTTPExchange:
    """One HTTP request with an empty body; ``http.disconnect`` once the response ends."""

    __slots__ = ("_done", "_requested", "_waiter", "sent")

    def __init__(self) -> None:
        self._requested = False
        self._done = False
        self._waiter: asyncio.Future[None] | None = None
        self.sent = 0

    async def receive(self) -> Message:
        """Return the request, then wait for the end of the response and report the disconnect."""
        if not self._requested:
            self._requested = True
            return HTTP_REQUEST
        if not self._done:
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        return HTTP_DISCONNECT

    async def send(self, message: Message) -> None:
        """Count the message and notice the last body chunk."""
        self.sent += 1
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self._done = True
            waiter = self._waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)


class RecordingClientLeaves(ClientLeaves):
    """:class:`ClientLeaves` that also keeps every message sent (correctness checks only)."""

    __slots__ = ("messages",)

    def __init__(self, script: Iterator[Message]) -> None:
        super().__init__(script)
        self.messages: list[Message] = []

    async def send(self, message: Message) -> None:
        """Keep and count the message."""
        self.messages.append(dict(message))
        await super().send(message)


class RecordingServerCloses(ServerCloses):
    """:class:`ServerCloses` that also keeps every message sent (correctness checks only)."""

    __slots__ = ("messages",)

    def __init__(self, script: Iterator[Message]) -> None:
        super().__init__(script)
        self.messages: list[Message] = []

    async def send(self, message: Message) -> None:
        """Keep and count the message."""
        self.messages.append(dict(message))
        await super().send(message)


class RecordingHTTPExchange(HTTPExchange):
    """:class:`HTTPExchange` that also keeps every message sent (correctness checks only)."""

    __slots__ = ("messages",)

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[Message] = []

    async def send(self, message: Message) -> None:
        """Keep and count the message."""
        self.messages.append(dict(message))
        await super().send(message)


class Lifespan:
    """Runs an app's lifespan protocol the way uvicorn's ``--lifespan auto`` does.

    An app that raises on the lifespan scope is taken not to support it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._incoming: asyncio.Queue[Message] = asyncio.Queue()
        self._outgoing: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def _receive(self) -> Message:
        return await self._incoming.get()

    async def _send(self, message: Message) -> None:
        await self._outgoing.put(message)

    async def _run(self) -> None:
        scope: dict[str, Any] = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": {},
        }
        try:
            await self._app(scope, self._receive, self._send)
        except Exception:
            # The app does not speak lifespan; uvicorn's "auto" carries on too.
            await self._outgoing.put({"type": "lifespan.unsupported"})

    async def _expect(self, wanted: str, timeout: float) -> None:
        message = await asyncio.wait_for(self._outgoing.get(), timeout)
        if message["type"] == f"{wanted}.failed":
            raise RuntimeError(f"{wanted} failed: {message.get('message', '')}")

    async def startup(self, timeout: float = 10.0) -> None:
        """Send ``lifespan.startup`` and wait for the app's answer.

        Raises:
            RuntimeError: The app reported ``lifespan.startup.failed``.
            TimeoutError: The app did not answer within ``timeout`` seconds.
        """
        self._task = asyncio.create_task(self._run())
        await self._incoming.put({"type": "lifespan.startup"})
        await self._expect("lifespan.startup", timeout)

    async def shutdown(self, timeout: float = 10.0) -> None:
        """Send ``lifespan.shutdown``, wait for the answer, and end the lifespan task."""
        task = self._task
        if task is None:
            return
        self._task = None
        if not task.done():
            await self._incoming.put({"type": "lifespan.shutdown"})
            try:
                await self._expect("lifespan.shutdown", timeout)
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
