"""The broadcast hub under a real uvicorn: relay to ``websockets`` clients, SSE resume with httpx.

The app is ``tests/e2e/apps/broadcast_app.py``; counts come back over HTTP from
``GET /stats``. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from lanner.testing import ParsedEvent, SSEParser
from tests.e2e._server import WS_IMPLEMENTATIONS, RunningServer, serve

pytestmark = pytest.mark.e2e

TIMEOUT = 5.0
POLL_TIMEOUT = 15.0
ENV = {"LANNER_DISABLE_PLUGIN_AUTOLOAD": "1"}


@pytest.fixture(scope="module", params=WS_IMPLEMENTATIONS)
def server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    with serve("broadcast_app:app", ws=str(request.param), env=ENV) as running:
        yield running


def _channel() -> str:
    return "e2e-" + uuid.uuid4().hex[:10]


def _room(server: RunningServer, channel: str, **kwargs: Any) -> connect:
    query = kwargs.pop("query", "")
    return connect(
        f"{server.ws_url}/room/{channel}{query}",
        open_timeout=TIMEOUT,
        close_timeout=TIMEOUT,
        **kwargs,
    )


async def _recv(ws: ClientConnection) -> str | bytes:
    return await asyncio.wait_for(ws.recv(), TIMEOUT)


async def _stats(client: httpx.AsyncClient) -> dict[str, int]:
    reply = await client.get("/stats")
    stats: dict[str, int] = reply.json()
    return stats


async def _until_stats(client: httpx.AsyncClient, what: str, test: Any) -> dict[str, int]:
    deadline = time.monotonic() + POLL_TIMEOUT
    while True:
        stats = await _stats(client)
        if test(stats):
            return stats
        if time.monotonic() > deadline:
            raise AssertionError(f"The server's stats never showed {what}: {stats}")
        await asyncio.sleep(0.05)


async def test_relay_fans_out_between_real_clients(server: RunningServer) -> None:
    channel = _channel()
    async with (
        httpx.AsyncClient(base_url=server.http_url, timeout=TIMEOUT) as client,
        _room(server, channel) as a,
        _room(server, channel) as b,
        _room(server, channel) as c,
    ):
        await _until_stats(client, "3 subscribers", lambda s: s["subscribers"] >= 3)
        await a.send("hello from a")
        for ws in (a, b, c):
            assert await _recv(ws) == "hello from a"
        posted = await client.post(f"/publish/{channel}", content=b"from http")
        assert len(posted.json()["ids"]) == 1
        for ws in (a, b, c):
            assert await _recv(ws) == "from http"


async def test_a_client_that_leaves_ends_its_relay(server: RunningServer) -> None:
    channel = _channel()
    async with httpx.AsyncClient(base_url=server.http_url, timeout=TIMEOUT) as client:
        before = (await _stats(client))["subscribers"]
        async with _room(server, channel) as ws:
            await ws.send("x")
            assert await _recv(ws) == "x"
        await _until_stats(client, "the relay gone", lambda s: s["subscribers"] == before)
        # The server keeps serving the channel to newcomers.
        async with _room(server, channel) as ws:
            await ws.send("y")
            assert await _recv(ws) == "y"


async def test_a_stalled_client_is_closed_and_a_healthy_one_gets_everything(
    server: RunningServer,
) -> None:
    channel = _channel()
    count = 3000
    # A client that never reads, with a small receive buffer so it really stalls.
    stalled_sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    stalled_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled_sock.connect(("127.0.0.1", server.port))
    async with (
        httpx.AsyncClient(base_url=server.http_url, timeout=TIMEOUT) as client,
        _room(server, channel) as healthy,
        _room(server, channel, query="?backlog=16", sock=stalled_sock, max_queue=1),
    ):
        before = await _until_stats(client, "2 subscribers", lambda s: s["subscribers"] >= 2)

        received: list[str | bytes] = []
        batch = 100  # within the healthy client's backlog: it keeps up, batch by batch
        for _ in range(count // batch):
            published = await client.post(f"/publish/{channel}?count={batch}&size=1024")
            assert published.status_code == 200
            received += [await _recv(healthy) for _ in range(batch)]
        assert [str(m)[:8] for m in received] == [f"{n % batch:08d}" for n in range(count)]
        await _until_stats(
            client,
            "the stalled client closed as too slow",
            lambda s: s["closed_slow"] == before["closed_slow"] + 1,
        )


async def test_a_closed_relay_reports_1013_to_a_client_that_reads_again(
    server: RunningServer,
) -> None:
    channel = _channel()
    async with (
        httpx.AsyncClient(base_url=server.http_url, timeout=TIMEOUT) as client,
        _room(server, channel, query="?backlog=2") as slow,
    ):
        await _until_stats(client, "a subscriber", lambda s: s["subscribers"] >= 1)
        # A burst larger than the backlog, published in one request: the relay's
        # queue overflows before it can send, whatever the client does.
        await client.post(f"/publish/{channel}?count=50&size=16")
        closed = await _closed_by_server(slow)
    assert closed.rcvd is not None
    assert closed.rcvd.code == 1013
    assert "Too slow" in closed.rcvd.reason


async def _closed_by_server(ws: ClientConnection) -> ConnectionClosed:
    try:
        while True:
            await _recv(ws)
    except ConnectionClosed as closed:
        return closed


class _Events:
    def __init__(self, response: httpx.Response) -> None:
        self._chunks = response.aiter_bytes()
        self._parser = SSEParser()
        self._ready: list[ParsedEvent] = []

    async def next(self) -> ParsedEvent:
        while not self._ready:
            chunk = await asyncio.wait_for(self._chunks.__anext__(), TIMEOUT)
            self._ready.extend(e for e in self._parser.feed(chunk) if e.comments == ())
        return self._ready.pop(0)


async def test_sse_resumes_from_last_event_id(server: RunningServer) -> None:
    channel = _channel()
    url = f"/feed?channels={channel}"
    async with httpx.AsyncClient(base_url=server.http_url, timeout=TIMEOUT) as client:
        before = (await _stats(client))["subscribers"]
        async with client.stream("GET", url) as response:
            assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
            events = _Events(response)
            await _until_stats(client, "the stream", lambda s: s["subscribers"] > before)
            await client.post(f"/publish/{channel}?count=3&size=8")
            seen = [await events.next() for _ in range(2)]
        # The client left after two of three; two more are published while it is away.
        await client.post(f"/publish/{channel}", content=b"away")
        headers = {"Last-Event-ID": seen[-1].event_id or ""}
        async with client.stream("GET", url, headers=headers) as response:
            events = _Events(response)
            resumed = [await events.next() for _ in range(2)]
    assert [e.data for e in seen] == ["00000000", "00000001"]
    assert [e.data for e in resumed] == ["00000002", "away"]


async def test_sse_resumes_several_channels_from_one_id(server: RunningServer) -> None:
    a, b = _channel(), _channel()
    url = f"/feed?channels={a},{b}"
    async with httpx.AsyncClient(base_url=server.http_url, timeout=TIMEOUT) as client:
        before = (await _stats(client))["subscribers"]
        async with client.stream("GET", url) as response:
            events = _Events(response)
            await _until_stats(client, "the stream", lambda s: s["subscribers"] > before)
            await client.post(f"/publish/{a}", content=b"a0")
            seen = await events.next()
        await client.post(f"/publish/{b}", content=b"b0")
        await client.post(f"/publish/{a}", content=b"a1")
        headers = {"Last-Event-ID": seen.event_id or ""}
        async with client.stream("GET", url, headers=headers) as response:
            events = _Events(response)
            resumed = sorted([(await events.next()).data for _ in range(2)])
    assert seen.data == "a0"
    assert resumed == ["a1", "b0"]
