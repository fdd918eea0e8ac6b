"""The end-to-end load generator: a minimal raw-socket HTTP/WebSocket client.

Hand-rolled on asyncio streams so the client spends far less CPU per operation
than any server under test: frames are built once, replies are compared as
bytes. It offers no WebSocket extension, so per-message deflate is off on the
client side (the equivalent of ``compression=None`` in ``websockets``).

Every loop stops at a deadline or an operation cap; every wait for the server
is bounded by the caller's ``asyncio.wait_for``.
"""

from __future__ import annotations

import asyncio
import json
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from bench.endpoints import (
    ECHO_PATH,
    ECHO_TEXT,
    JSON_BODY,
    JSON_PATH,
    LIFECYCLE_PATH,
    PUSH_PATH,
    PUSH_TEXT,
    SSE_PATH,
    SSE_TEXT,
)

__all__ = [
    "Measurement",
    "Meter",
    "ProtocolError",
    "echo",
    "handshakes",
    "http_get",
    "idle_connections",
    "push",
    "sse",
]

_OP_TEXT: Final = 0x1
_OP_CLOSE: Final = 0x8
_OP_PING: Final = 0x9
_OP_PONG: Final = 0xA
_MASK: Final = b"\x37\xfa\x21\x3d"
_MAX_OPS: Final = 10_000_000
"""Upper bound on any loop, whatever the deadline says."""


class ProtocolError(Exception):
    """The server answered something other than what the endpoint promises."""


@dataclass(frozen=True)
class Measurement:
    """Operations done in a window, its wall time and the server's CPU time in it."""

    ops: int
    wall_s: float
    cpu_s: float


class Meter:
    """Samples wall time and the server's CPU time around a load window."""

    def __init__(self, server_cpu: Callable[[], float]) -> None:
        self._server_cpu = server_cpu
        self._cpu0 = 0.0
        self._t0 = 0.0

    def start(self) -> None:
        """Open the window."""
        self._cpu0 = self._server_cpu()
        self._t0 = time.perf_counter()

    def stop(self, ops: int) -> Measurement:
        """Close the window after ``ops`` operations."""
        wall = time.perf_counter() - self._t0
        return Measurement(ops, wall, self._server_cpu() - self._cpu0)


def _client_frame(opcode: int, payload: bytes) -> bytes:
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    masked = bytes(b ^ _MASK[i % 4] for i, b in enumerate(payload))
    return header + _MASK + masked


def _server_text_frame(text: str) -> bytes:
    payload = text.encode()
    if len(payload) >= 126:
        raise ValueError("expected a short text (under 126 bytes)")
    return bytes((0x80 | _OP_TEXT, len(payload))) + payload


_ECHO_FRAME: Final = _client_frame(_OP_TEXT, ECHO_TEXT.encode())
_ECHO_REPLY: Final = _server_text_frame(ECHO_TEXT)
_CLOSE_FRAME: Final = _client_frame(_OP_CLOSE, struct.pack("!H", 1000))


class _WebSocket:
    """One client WebSocket connection over raw streams."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int, path: str) -> _WebSocket:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status_line + b" ":
            writer.close()
            raise ProtocolError(f"{path}: expected HTTP 101, got {status_line!r}")
        return cls(reader, writer)

    async def read_frame(self) -> tuple[int, bytes]:
        first, second = await self.reader.readexactly(2)
        if second & 0x80:
            raise ProtocolError("expected an unmasked frame from the server, got a masked one")
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
        payload = await self.reader.readexactly(length) if length else b""
        return first & 0x0F, payload

    async def read_data_frame(self) -> tuple[int, bytes]:
        """Return the next data or close frame, answering pings on the way."""
        for _ in range(_MAX_OPS):
            opcode, payload = await self.read_frame()
            if opcode == _OP_PING:
                self.writer.write(_client_frame(_OP_PONG, payload))
                continue
            return opcode, payload
        raise ProtocolError("expected a data frame, got only pings")

    def abort(self) -> None:
        self.writer.transport.abort()

    async def close(self) -> None:
        """Send a close frame, wait for the server's, and drop the connection."""
        try:
            self.writer.write(_CLOSE_FRAME)
            for _ in range(1000):
                opcode, _payload = await self.read_frame()
                if opcode == _OP_CLOSE:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.writer.close()


async def echo(port: int, connections: int, seconds: float, meter: Meter) -> Measurement:
    """Round trips on ``/echo`` over ``connections`` concurrent connections.

    Connections open before the window and close after it; one operation is
    one message sent and its echo received.
    """
    loop = asyncio.get_running_loop()
    deadline = 0.0
    sockets: list[_WebSocket] = []

    async def worker(ws: _WebSocket) -> int:
        done = 0
        size = len(_ECHO_REPLY)
        while done < _MAX_OPS and loop.time() < deadline:
            ws.writer.write(_ECHO_FRAME)
            reply = await ws.reader.readexactly(size)
            if reply != _ECHO_REPLY:
                raise ProtocolError(f"/echo: expected {_ECHO_REPLY!r}, got {reply!r}")
            done += 1
        return done

    try:
        for _ in range(connections):
            sockets.append(await _WebSocket.open(port, ECHO_PATH))
        meter.start()
        deadline = loop.time() + seconds
        counts = await asyncio.gather(*(worker(ws) for ws in sockets))
        measurement = meter.stop(sum(counts))
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return measurement


async def handshakes(port: int, seconds: float, meter: Meter, concurrency: int = 4) -> Measurement:
    """Whole connections on ``/lifecycle``: handshake, one echo, the server's close.

    One operation is one connection, from TCP connect to the close handshake.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds

    async def worker() -> int:
        done = 0
        while done < _MAX_OPS and loop.time() < deadline:
            ws = await _WebSocket.open(port, LIFECYCLE_PATH)
            try:
                ws.writer.write(_ECHO_FRAME)
                opcode, payload = await ws.read_data_frame()
                if (opcode, payload) != (_OP_TEXT, ECHO_TEXT.encode()):
                    raise ProtocolError(f"/lifecycle: expected the echo, got {opcode} {payload!r}")
                opcode, payload = await ws.read_data_frame()
                if opcode != _OP_CLOSE:
                    raise ProtocolError(f"/lifecycle: expected a close, got {opcode} {payload!r}")
                ws.writer.write(_CLOSE_FRAME)
            finally:
                ws.writer.close()
            done += 1
        return done

    meter.start()
    counts = await asyncio.gather(*(worker() for _ in range(concurrency)))
    return meter.stop(sum(counts))


async def push(port: int, seconds: float, expected: int, meter: Meter) -> Measurement:
    """Messages pushed by ``/push``; connections repeat until the deadline.

    One operation is one pushed message received.
    """
    loop = asyncio.get_running_loop()
    want = PUSH_TEXT.encode()
    meter.start()
    deadline = loop.time() + seconds
    received = 0
    while received < _MAX_OPS and loop.time() < deadline:
        ws = await _WebSocket.open(port, PUSH_PATH)
        count = 0
        try:
            for _ in range(expected + 1):
                opcode, payload = await ws.read_data_frame()
                if opcode == _OP_CLOSE:
                    break
                if payload != want:
                    raise ProtocolError(f"/push: expected {want!r}, got {payload!r}")
                count += 1
            ws.writer.write(_CLOSE_FRAME)
        finally:
            ws.writer.close()
        if count != expected:
            raise ProtocolError(f"/push: expected {expected} messages, got {count}")
        received += count
    return meter.stop(received)


async def sse(port: int, seconds: float, expected: int, meter: Meter) -> Measurement:
    """Events streamed by ``/sse``; streams repeat until the deadline.

    One operation is one event received.
    """
    loop = asyncio.get_running_loop()
    event = ("data: " + SSE_TEXT + "\n\n").encode()
    request = (
        f"GET {SSE_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Accept: text/event-stream\r\nConnection: close\r\n\r\n"
    ).encode()
    meter.start()
    deadline = loop.time() + seconds
    received = 0
    while received < _MAX_OPS and loop.time() < deadline:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(request)
            body = await reader.read()
        finally:
            writer.close()
        if not body.startswith(b"HTTP/1.1 200"):
            raise ProtocolError(f"/sse: expected HTTP 200, got {body[:80]!r}")
        count = body.count(event)
        if count != expected:
            raise ProtocolError(f"/sse: expected {expected} events, got {count}")
        received += count
    return meter.stop(received)


async def http_get(port: int, seconds: float, meter: Meter, connections: int = 4) -> Measurement:
    """Keep-alive ``GET /json`` requests over ``connections`` connections.

    One operation is one request and its full response.
    """
    loop = asyncio.get_running_loop()
    request = f"GET {JSON_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    streams: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    deadline = 0.0

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> int:
        done = 0
        body = b""
        while done < _MAX_OPS and loop.time() < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise ProtocolError(f"/json: expected HTTP 200, got {head[:80]!r}")
            length = _content_length(head)
            body = await reader.readexactly(length)
            done += 1
        if done and json.loads(body) != JSON_BODY:
            raise ProtocolError(f"/json: expected {JSON_BODY!r}, got {body!r}")
        return done

    try:
        for _ in range(connections):
            streams.append(await asyncio.open_connection("127.0.0.1", port))
        meter.start()
        deadline = loop.time() + seconds
        counts = await asyncio.gather(*(worker(r, w) for r, w in streams))
        measurement = meter.stop(sum(counts))
    finally:
        for _reader, writer in streams:
            writer.close()
    return measurement


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    raise ProtocolError(f"/json: expected a Content-Length header, got {head!r}")


async def idle_connections(
    port: int, count: int, server_rss: Callable[[], int], settle: float = 0.5
) -> float:
    """Return the server's RSS growth per idle ``/echo`` connection, in KiB.

    Warms the server with a few connections first, then opens ``count``
    connections (50 at a time), lets them settle, and divides the growth of
    the server's resident set by ``count``.
    """
    sockets: list[_WebSocket] = []
    try:
        await _open_many(port, min(20, count), sockets)
        for ws in sockets:
            ws.writer.write(_ECHO_FRAME)
            await ws.reader.readexactly(len(_ECHO_REPLY))
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        sockets.clear()
        await asyncio.sleep(settle)
        before = server_rss()
        for start in range(0, count, 50):
            await _open_many(port, min(50, count - start), sockets)
        await asyncio.sleep(settle)
        after = server_rss()
    finally:
        for ws in sockets:
            ws.abort()
    return (after - before) / count / 1024


async def _open_many(port: int, count: int, into: list[_WebSocket]) -> None:
    """Open ``count`` ``/echo`` connections at once, keeping every one that opened."""
    results = await asyncio.gather(
        *(_WebSocket.open(port, ECHO_PATH) for _ in range(count)), return_exceptions=True
    )
    failure: BaseException | None = None
    for result in results:
        if isinstance(result, BaseException):
            failure = failure or result
        else:
            into.append(result)
    if failure is not None:
        raise failure
