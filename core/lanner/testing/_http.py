"""Simulated HTTP requests: scopes, results and streamed responses."""

from __future__ import annotations

import asyncio
import http
import json as jsonlib
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlencode

from lanner._types import ASGIApp, Message, Receive, Scope, Send
from lanner.testing._pipe import Pipe
from lanner.testing._sse_parser import ParsedEvent, SSEParser

__all__ = ["Result", "StreamedResult", "build_http_scope", "encode_body"]

DEFAULT_TIMEOUT = 5.0


def build_http_scope(
    method: str,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    root_path: str = "",
    scheme: str = "http",
    kind: str = "http",
    spec_version: str = "2.3",
    subprotocols: list[str] | None = None,
) -> Scope:
    """Return an ASGI scope like a server would build for ``method path``."""
    path, _, query = path.partition("?")
    if params:
        extra = urlencode(
            [
                (name, value)
                for name, values in params.items()
                for value in (values if isinstance(values, (list, tuple)) else [values])
            ]
        )
        query = f"{query}&{extra}" if query else extra
    raw_headers = [(b"host", b"testserver")]
    for name, value in (headers or {}).items():
        if name.lower() == "host":
            raw_headers = [h for h in raw_headers if h[0] != b"host"]
        raw_headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    scope: Scope = {
        "type": kind,
        "asgi": {"version": "3.0", "spec_version": spec_version},
        "http_version": "1.1",
        "scheme": scheme,
        "path": root_path + path,
        "raw_path": (root_path + path).encode(),
        "root_path": root_path,
        "query_string": query.encode("latin-1"),
        "headers": raw_headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    if kind == "http":
        scope["method"] = method.upper()
    else:
        scope["subprotocols"] = list(subprotocols or [])
    return scope


def encode_body(
    *,
    json: Any = None,
    body: bytes | str | None = None,
    content_type: str | None = None,
    headers: dict[str, str],
) -> bytes:
    """Return the request body and set ``content-type`` in ``headers`` as needed."""
    if json is not None:
        headers.setdefault("content-type", content_type or "application/json")
        return jsonlib.dumps(json).encode()
    if content_type is not None:
        headers.setdefault("content-type", content_type)
    if body is None:
        return b""
    return body.encode() if isinstance(body, str) else body


class Result:
    """A finished simulated HTTP response.

    Attributes:
        status_code: The status as an ``int``.
        status: The status as ``http.HTTPStatus`` (or the int if non-standard).
        headers: Response headers, names lower-cased, repeats joined by ``", "``.
        header_list: Every header line, in order, names lower-cased.
        content: The body as bytes.
    """

    __slots__ = ("content", "header_list", "headers", "status", "status_code")

    def __init__(self, status_code: int, header_list: list[tuple[str, str]], content: bytes):
        self.status_code = status_code
        try:
            self.status: http.HTTPStatus | int = http.HTTPStatus(status_code)
        except ValueError:
            self.status = status_code
        self.header_list = header_list
        merged: dict[str, str] = {}
        for name, value in header_list:
            merged[name] = f"{merged[name]}, {value}" if name in merged else value
        self.headers = merged
        self.content = content

    def __repr__(self) -> str:
        return f"<Result {self.status_code} {len(self.content)} bytes>"

    @property
    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.content.decode()

    @property
    def json(self) -> Any:
        """The body decoded as JSON (``None`` for an empty body)."""
        return jsonlib.loads(self.content) if self.content else None

    @property
    def cookies(self) -> dict[str, str]:
        """Cookies the response set, by name."""
        cookies: dict[str, str] = {}
        for name, value in self.header_list:
            if name == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, val = pair.partition("=")
                cookies[key.strip()] = val.strip()
        return cookies

    @property
    def events(self) -> list[ParsedEvent]:
        """The body parsed as a Server-Sent Events stream."""
        return SSEParser().feed(self.content)


async def call_app(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Await ``app`` as a coroutine, so it can run as an ``asyncio.Task``."""
    await app(scope, receive, send)


def decode_headers(raw: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """Return ASGI header pairs as lower-cased ``str`` pairs."""
    return [(n.decode("latin-1").lower(), v.decode("latin-1")) for n, v in raw]


async def run_http(app: ASGIApp, scope: Scope, body: bytes) -> Result:
    """Run one request to completion and collect the response."""
    request_sent = False
    finished = asyncio.Event()

    async def receive() -> Message:
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    start: Message | None = None
    chunks: list[bytes] = []

    async def send(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                finished.set()

    try:
        await app(scope, receive, send)
    finally:
        finished.set()
    if start is None:
        raise AssertionError(
            f"The app returned without starting a response for {scope['method']} {scope['path']}."
        )
    return Result(int(start["status"]), decode_headers(start.get("headers", [])), b"".join(chunks))


class StreamedResult:
    """A streaming response read while the app is still sending (SSE, ``resp.stream``).

    Use it as an async context manager; leaving it disconnects the client,
    which closes the app's generator. As on a real server, at most
    ``lanner.testing.QUEUE_SIZE`` unread chunks are buffered: beyond that the
    app's ``send`` suspends until the test reads, and every send yields to the
    event loop. After the client left, sends are dropped (ASGI HTTP spec 2.3,
    as uvicorn does).
    """

    def __init__(self, app: ASGIApp, scope: Scope, body: bytes, timeout: float) -> None:
        self._app = app
        self._scope = scope
        self._body = body
        self.timeout = timeout
        self._queue = Pipe()
        self._disconnect = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._sent_request = False
        self._ended = False
        self._parser = SSEParser()
        self._pending: list[ParsedEvent] = []
        self.status_code = 0
        self.headers: dict[str, str] = {}
        # Cleared while the client does not read: the app's sends wait.
        self._reading = asyncio.Event()
        self._reading.set()

    async def _receive(self) -> Message:
        if not self._sent_request:
            self._sent_request = True
            return {"type": "http.request", "body": self._body, "more_body": False}
        await self._disconnect.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: Message) -> None:
        if not self._reading.is_set():
            await self._reading.wait()
            if self._disconnect.is_set():
                return  # dropped, as HTTP servers on ASGI spec 2.3 do after a disconnect
        queue = self._queue
        if queue.has_room() and not queue.closed:
            queue.put_nowait(message)
        elif not await queue.put(message):
            pass  # the client has left: dropped, as on an ASGI spec 2.3 server
        # A real server's send yields to the event loop; without this a fast
        # generator would starve the test, its timeouts and the disconnect.
        await asyncio.sleep(0)

    def stop_reading(self) -> None:
        """Stop reading, like a client that no longer drains its socket.

        From now on the app's sends wait, as on a real server once the socket's
        buffers are full, until :meth:`resume_reading` or :meth:`disconnect`; use
        it to test ``sse_options.send_timeout``.
        """
        self._reading.clear()

    def resume_reading(self) -> None:
        """Read again: sends that were waiting go through, in order."""
        self._reading.set()

    async def __aenter__(self) -> StreamedResult:
        self._task = asyncio.get_running_loop().create_task(
            call_app(self._app, self._scope, self._receive, self._send)
        )
        try:
            start = await self._next_message()
            if start["type"] != "http.response.start":
                raise AssertionError(f"Expected http.response.start, got {start['type']!r}.")
        except BaseException:
            # Leave no app task behind when the response never started.
            self._disconnect.set()
            self._task.cancel()
            await asyncio.wait({self._task})
            raise
        self.status_code = int(start["status"])
        self.headers = dict(decode_headers(start.get("headers", [])))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.disconnect()

    @property
    def ended(self) -> bool:
        """Whether the response body has ended (the last chunk was read)."""
        return self._ended

    async def disconnect(self) -> None:
        """Leave as a client would; wait (bounded) for the app to finish."""
        self._disconnect.set()
        self._reading.set()
        self._queue.close()
        task = self._task
        if task is not None and not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), self.timeout)
            except asyncio.TimeoutError:
                task.cancel()
                raise TimeoutError(
                    f"The app kept streaming {self._scope['path']} for {self.timeout} s "
                    "after the client disconnected."
                ) from None
        if task is not None and task.done() and not task.cancelled():
            exc = task.exception()
            if exc is not None:
                raise exc

    async def _next_message(self, timeout: float | None = None) -> Message:
        if self._task is None:
            raise RuntimeError(
                f"The stream {self._scope['path']} is not open; read it inside "
                "`async with conductor.simulate_get_stream(path) as stream:`."
            )
        ready = self._queue.get_nowait()
        if ready is not None:
            return ready
        wait = self.timeout if timeout is None else timeout
        getter = asyncio.ensure_future(self._queue.get())
        done, _ = await asyncio.wait(
            {getter, self._task}, timeout=wait, return_when=asyncio.FIRST_COMPLETED
        )
        if getter in done:
            return getter.result()
        getter.cancel()
        if self._task in done:
            exc = self._task.exception()
            if exc is not None:
                raise exc
            return {"type": "http.response.body", "body": b"", "more_body": False}
        raise TimeoutError(f"No data from the app on {self._scope['path']} within {wait} s.")

    async def receive_bytes(self, timeout: float | None = None) -> bytes:
        """Return the next body chunk; ``b""`` once the response has ended.

        Args:
            timeout: Seconds to wait (default: the conductor's timeout).

        Raises:
            TimeoutError: Nothing arrived within the timeout.
        """
        if self._ended:
            return b""
        message = await self._next_message(timeout)
        if not message.get("more_body", False):
            self._ended = True
        return bytes(message.get("body", b""))

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """Yield body chunks until the response ends."""
        while not self._ended:
            chunk = await self.receive_bytes()
            if chunk:
                yield chunk

    async def receive_event(self, timeout: float | None = None) -> ParsedEvent:
        """Return the next Server-Sent Event (pings included, as comment-only events).

        Args:
            timeout: Seconds to wait for the event as a whole (default: the
                conductor's timeout); a short one asserts that nothing is sent.

        Raises:
            TimeoutError: No complete event arrived within the timeout.
            EOFError: The stream ended.
        """
        loop = asyncio.get_running_loop()
        wait = self.timeout if timeout is None else timeout
        deadline = loop.time() + wait
        no_event = f"No complete event from the app on {self._scope['path']} within {wait} s."
        while not self._pending:
            if self._ended:
                raise EOFError(f"The event stream {self._scope['path']} has ended.")
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError(no_event)
            try:
                chunk = await self.receive_bytes(left)
            except TimeoutError:
                raise TimeoutError(no_event) from None
            self._pending.extend(self._parser.feed(chunk))
        return self._pending.pop(0)

    async def events(self) -> AsyncIterator[ParsedEvent]:
        """Yield Server-Sent Events until the stream ends."""
        while True:
            try:
                yield await self.receive_event()
            except EOFError:
                return
