"""End-to-end Server-Sent Events: ``sse_app`` under a real uvicorn, read with httpx streaming."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lanner.testing import ParsedEvent, SSEParser
from tests.e2e._server import RunningServer, serve

pytestmark = pytest.mark.e2e

TIMEOUT = httpx.Timeout(5.0)
PING_INTERVAL = 0.2
ENV = {"LANNER_DISABLE_PLUGIN_AUTOLOAD": "1", "SSE_PING_INTERVAL": str(PING_INTERVAL)}
PING = ParsedEvent(data="", comments=("ping",))
CLIENTS = 50


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with serve("sse_app:app", env=ENV) as running:
        yield running


class EventReader:
    """Reads Server-Sent Events from an httpx streaming response, each with a deadline."""

    def __init__(self, response: httpx.Response) -> None:
        self._chunks = response.aiter_bytes()
        self._parser = SSEParser()
        self._pending: list[ParsedEvent] = []

    async def next(self, timeout: float = 5.0) -> ParsedEvent:
        """Return the next event; ``EOFError`` once the stream has ended."""

        async def fill() -> None:
            while not self._pending:
                try:
                    chunk = await self._chunks.__anext__()
                except StopAsyncIteration:
                    raise EOFError("the event stream ended") from None
                self._pending.extend(self._parser.feed(chunk))

        await asyncio.wait_for(fill(), timeout)
        return self._pending.pop(0)

    async def all(self, timeout: float = 5.0) -> list[ParsedEvent]:
        """Return every event up to the end of the stream."""
        events: list[ParsedEvent] = []
        with contextlib.suppress(EOFError):
            while True:
                events.append(await self.next(timeout))
        return events


@contextlib.asynccontextmanager
async def sse_stream(
    client: httpx.AsyncClient, path: str
) -> AsyncIterator[tuple[httpx.Response, EventReader]]:
    async with client.stream("GET", path, headers={"accept": "text/event-stream"}) as response:
        yield response, EventReader(response)


async def stats(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/stats")
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


async def wait_for_stats(
    client: httpx.AsyncClient, done: Any, deadline: float, what: str
) -> dict[str, Any]:
    """Poll ``/stats`` until ``done(stats)`` or the deadline (``time.monotonic()``)."""
    while True:
        current = await stats(client)
        if done(current):
            return current
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}; the server's last stats: {current}")
        await asyncio.sleep(0.02)


async def test_events_arrive_in_order_with_the_right_headers(server: RunningServer) -> None:
    async with (
        httpx.AsyncClient(base_url=server.http_url, timeout=TIMEOUT) as client,
        sse_stream(client, "/events?n=40") as (response, reader),
    ):
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-accel-buffering"] == "no"
        assert response.headers["x-feed"] == "numbered"
        assert "content-length" not in response.headers
        events = await reader.all()
    assert events[0] == ParsedEvent(
        data="start", event="start", event_id="0", retry=1000, comments=("hello",)
    )
    expected = [
        ParsedEvent(data=f"line {n}\nsecond line\nthird", event_id=str(n))
        if n % 2
        else ParsedEvent(data=f'{{"n":{n},"s":"é"}}', event="obj", event_id=str(n))
        for n in range(1, 41)
    ]
    assert events[1:] == expected


async def test_pings_arrive_while_the_stream_is_idle(server: RunningServer) -> None:
    async with (
        httpx.AsyncClient(base_url=server.http_url, timeout=TIMEOUT) as client,
        sse_stream(client, "/blocked") as (_, reader),
    ):
        ready = await reader.next()
        assert ready.data == "ready"
        first = await reader.next(timeout=10.0)
        # Measured from when the server sent "ready" (its id), not from when this
        # client got round to reading it: on a loaded machine that can be late.
        first_at = time.time() - float(ready.event_id or "nan")
        second = await reader.next(timeout=10.0)
    assert [first, second] == [PING, PING]
    # Not before one idle interval: the timer never fires early.
    assert first_at >= PING_INTERVAL * 0.9


async def test_disconnected_clients_leave_finalised_generators_and_no_tasks(
    server: RunningServer,
) -> None:
    limits = httpx.Limits(max_connections=CLIENTS + 10)
    async with httpx.AsyncClient(base_url=server.http_url, timeout=TIMEOUT) as monitor:
        # Streams from earlier tests are closed first; then the baseline, which
        # includes the task serving this very /stats request.
        before = await wait_for_stats(
            monitor, lambda s: s["open"] == 0, time.monotonic() + 2.0, "earlier streams stayed open"
        )
        baseline = before["tasks"]

        streams = httpx.AsyncClient(base_url=server.http_url, timeout=TIMEOUT, limits=limits)
        try:
            async with contextlib.AsyncExitStack() as stack:
                readers = [
                    (await stack.enter_async_context(sse_stream(streams, "/blocked")))[1]
                    for _ in range(CLIENTS)
                ]
                firsts = await asyncio.gather(*(reader.next() for reader in readers))
                assert {event.data for event in firsts} == {"ready"}
                during = await stats(monitor)
                # Every generator is running, and each stream holds tasks: the
                # measure below would see a leak.
                assert during["open"] == CLIENTS
                assert during["tasks"] >= baseline + 2 * CLIENTS
                left = time.monotonic()
        finally:
            await streams.aclose()

        after = await wait_for_stats(
            monitor,
            lambda s: (
                s["open"] == 0
                and s["finalised"] == before["finalised"] + CLIENTS
                and s["tasks"] <= baseline
            ),
            left + 1.0,
            f"{CLIENTS} generators were not all finalised, or tasks stayed behind, "
            "within 1 s of the clients leaving",
        )
    assert time.monotonic() - left < 1.5  # the poll itself may overrun the deadline a little
    assert after["tasks"] <= baseline


def test_server_shutdown_ends_an_open_stream_promptly(tmp_path: Path) -> None:
    log = tmp_path / "finalised.log"
    with serve("sse_app:app", env={**ENV, "SSE_FINALISED_LOG": str(log)}) as running:
        with (
            httpx.Client(base_url=running.http_url, timeout=TIMEOUT) as client,
            client.stream("GET", "/blocked") as response,
        ):
            # One iterator, kept open: leaving a for loop over iter_bytes() would
            # close the connection.
            chunks = response.iter_bytes()
            parser = SSEParser()
            events: list[ParsedEvent] = []
            while not events:
                events.extend(parser.feed(next(chunks)))
            assert events[0].data == "ready"
            assert not log.exists()

            # What _stop does: SIGINT, as Ctrl+C would.
            stopping = time.monotonic()
            running.process.send_signal(signal.SIGINT)
            try:
                running.process.wait(5.0)
            except subprocess.TimeoutExpired:
                pytest.fail(f"uvicorn did not exit within 5 s of SIGINT:\n{running.log()}")
            took = time.monotonic() - stopping
        assert took < 5.0
        assert log.read_text() == "finalised\n", running.log()
