"""The end-to-end fan-out load client: subscribers, stalled subscribers and a paced publisher.

Raw sockets like :mod:`bench._client`, in one uvloop process. Every published
message is ``m<seq> <send time in ns>`` padded to the message size; each
healthy subscriber reads every frame and records the latency of each message
(the publisher and the subscribers share this process's clock). A stalled
subscriber has a small receive buffer and stops reading once subscribed, so
the server's buffers toward it fill; after the publisher is done it reads
again, to see whether the server closed it.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from bench._client import _OP_CLOSE, _OP_TEXT, ProtocolError, _client_frame, _WebSocket
from bench.endpoints import FANOUT_PUB_PATH, FANOUT_SUB_PATH

__all__ = ["FanoutLoad", "FanoutOutcome", "fan_out"]

_PING: Final = b"ping"
_STALLED_RCVBUF: Final = 4096
_READY_TIMEOUT: Final = 30.0
_STALLED_DRAIN: Final = 8.0
"""Seconds a stalled subscriber reads after the run before it counts as never closed."""


@dataclass(frozen=True)
class FanoutLoad:
    """One end-to-end fan-out run.

    Attributes:
        subscribers: All subscribers, stalled ones included.
        stalled: How many of them never read.
        rate: Messages published per second.
        messages: Messages published.
        size: Bytes per message.
    """

    subscribers: int
    stalled: int
    rate: float
    messages: int
    size: int


@dataclass(frozen=True)
class FanoutOutcome:
    """What one run measured (times in seconds, sizes in bytes)."""

    healthy: int
    delivered: int
    latencies: list[float]
    wall_s: float
    server_cpu_s: float
    client_cpu_s: float
    rss_growth: int
    stalled_closed: int
    extra_cpu_s: float

    @property
    def delivered_ratio(self) -> float:
        """Messages the healthy subscribers got, over what they should have got."""
        return self.delivered / max(self.healthy, 1)

    def percentile_ms(self, fraction: float) -> float:
        """The latency below which ``fraction`` of the deliveries fall, in ms."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, int(fraction * len(ordered)))
        return ordered[index] * 1e3

    def median_ms(self) -> float:
        """The median latency in ms."""
        return statistics.median(self.latencies) * 1e3 if self.latencies else float("nan")


async def _open(port: int, path: str, *, rcvbuf: int | None = None) -> _WebSocket:
    if rcvbuf is None:
        return await _WebSocket.open(port, path)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock, limit=rcvbuf)
    writer.write(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    if b" 101 " not in head.split(b"\r\n", 1)[0] + b" ":
        writer.close()
        raise ProtocolError(f"{path}: expected HTTP 101, got {head[:80]!r}")
    return _WebSocket(reader, writer)


async def _until_ping(ws: _WebSocket) -> None:
    while True:
        opcode, payload = await ws.read_data_frame()
        if opcode == _OP_CLOSE:
            raise ProtocolError(f"{FANOUT_SUB_PATH}: closed before the first message")
        if payload == _PING:
            return


def _payload(seq: int, size: int) -> bytes:
    head = f"m{seq} {time.perf_counter_ns()} ".encode()
    return head + b"x" * max(0, size - len(head))


async def fan_out(
    port: int,
    load: FanoutLoad,
    server_cpu: Callable[[], float],
    server_rss: Callable[[], int],
    *,
    extra_cpu: Callable[[], float] = lambda: 0.0,
    stalled_drain: float = _STALLED_DRAIN,
) -> FanoutOutcome:
    """Run one fan-out load against the server on ``port``; return what it measured.

    Raises:
        ProtocolError: A subscriber got something other than the published messages.
        asyncio.TimeoutError: The subscribers never all became ready.
    """
    loop = asyncio.get_running_loop()
    healthy_count = load.subscribers - load.stalled
    healthy: list[_WebSocket] = []
    stalled: list[_WebSocket] = []
    publisher: _WebSocket | None = None
    try:
        for start in range(0, healthy_count, 50):
            healthy += await asyncio.gather(
                *(_open(port, FANOUT_SUB_PATH) for _ in range(min(50, healthy_count - start)))
            )
        stalled += await asyncio.gather(
            *(_open(port, FANOUT_SUB_PATH, rcvbuf=_STALLED_RCVBUF) for _ in range(load.stalled))
        )
        publisher = await _open(port, FANOUT_PUB_PATH)
        await _ready(publisher, healthy + stalled)
        for ws in stalled:
            ws.writer.transport.pause_reading()
        await asyncio.sleep(0.3)  # the last pings drain

        latencies: list[float] = []
        counts = [0] * len(healthy)
        rss_base = server_rss()
        rss_peak = rss_base
        cpu0, extra0, client0 = server_cpu(), extra_cpu(), time.process_time()
        t0 = time.perf_counter()

        async def read(index: int, ws: _WebSocket) -> None:
            want = load.messages
            got = 0
            while got < want:
                opcode, payload = await ws.read_data_frame()
                arrived = time.perf_counter_ns()
                if opcode != _OP_TEXT:
                    raise ProtocolError(f"{FANOUT_SUB_PATH}: expected text, got opcode {opcode}")
                if payload[:1] != b"m":
                    continue  # a late readiness ping
                sent_ns = int(payload.split(b" ", 2)[1])
                latencies.append((arrived - sent_ns) / 1e9)
                got += 1
                counts[index] = got

        async def publish() -> None:
            nonlocal rss_peak
            assert publisher is not None
            interval = 1.0 / load.rate
            begin = loop.time()
            for seq in range(load.messages):
                delay = begin + seq * interval - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                publisher.writer.write(_client_frame(_OP_TEXT, _payload(seq, load.size)))
                if seq % 10 == 0:
                    rss_peak = max(rss_peak, server_rss())

        readers = [asyncio.ensure_future(read(i, ws)) for i, ws in enumerate(healthy)]
        await publish()
        budget = 10.0 + load.messages / load.rate
        _done, pending = await asyncio.wait(readers, timeout=budget)
        for task in pending:
            task.cancel()
        for task in _done:
            if task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        wall = time.perf_counter() - t0
        cpu, extra, client = (
            server_cpu() - cpu0,
            extra_cpu() - extra0,
            time.process_time() - client0,
        )
        rss_peak = max(rss_peak, server_rss())
        closed = await _count_closed(stalled, stalled_drain)
    finally:
        for ws in [*healthy, *stalled, *([publisher] if publisher else [])]:
            ws.abort()
    return FanoutOutcome(
        healthy=healthy_count * load.messages,
        delivered=sum(counts),
        latencies=latencies,
        wall_s=wall,
        server_cpu_s=cpu,
        client_cpu_s=client,
        rss_growth=rss_peak - rss_base,
        stalled_closed=closed,
        extra_cpu_s=extra,
    )


async def _ready(publisher: _WebSocket, subscribers: list[_WebSocket]) -> None:
    """Publish pings until every subscriber has received one."""
    waiting = [asyncio.ensure_future(_until_ping(ws)) for ws in subscribers]
    ping = _client_frame(_OP_TEXT, _PING)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _READY_TIMEOUT
    try:
        while not all(task.done() for task in waiting):
            if loop.time() > deadline:
                ready = sum(1 for task in waiting if task.done())
                raise ProtocolError(
                    f"expected every subscriber to receive a published message within "
                    f"{_READY_TIMEOUT:.0f} s, {ready} of {len(waiting)} did"
                )
            publisher.writer.write(ping)
            await asyncio.wait(waiting, timeout=0.05)
        for task in waiting:
            task.result()
    finally:
        for task in waiting:
            task.cancel()


async def _count_closed(stalled: list[_WebSocket], drain: float) -> int:
    """Read the stalled subscribers again; count those the server closed (close frame or EOF)."""

    async def ended(ws: _WebSocket) -> bool:
        ws.writer.transport.resume_reading()
        try:
            while True:
                opcode, _payload = await ws.read_data_frame()
                if opcode == _OP_CLOSE:
                    return True
        except (asyncio.IncompleteReadError, ConnectionError):
            return True

    results = await asyncio.gather(
        *(asyncio.wait_for(ended(ws), drain) for ws in stalled), return_exceptions=True
    )
    return sum(1 for result in results if result is True)
