"""Back-pressure in the test conductor: bounded queues and sends that yield, as on a real server.

An app that sends without pause must neither starve the test (its timeouts
must still fire) nor queue messages without bound; a test that sends faster
than the app reads waits for room, bounded by its timeout. Every assertion is
about counts and order, never about time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

import lanner
from lanner import Request, Response, SSEvent, WebSocket
from lanner.testing import QUEUE_SIZE, ASGIConductor
from tests._ws_app import ws_app

FLOOD = 200_000


async def test_a_flooding_sender_is_suspended_once_the_queue_is_full() -> None:
    sent: list[int] = []
    outcome: list[str] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        try:
            for i in range(FLOOD):
                await ws.send_text("x")
                sent.append(i)
        except lanner.WebSocketDisconnected:
            outcome.append("disconnected")

    async with ASGIConductor(ws_app(body)) as c, c.simulate_ws("/ws") as ws:
        # The app runs until the queue is full, then waits for the test.
        for _ in range(3):
            await asyncio.sleep(0.01)
        assert len(sent) <= QUEUE_SIZE
        assert await ws.receive_text() == "x"
        # Leaving released the app's pending send, which raised (ASGI spec 2.4).
    assert outcome == ["disconnected"]
    assert len(sent) <= QUEUE_SIZE + 2


async def test_every_send_yields_so_the_test_keeps_running() -> None:
    ticks = 0
    seen: list[int] = []

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        for _ in range(QUEUE_SIZE // 2):  # never fills the queue
            await ws.send_text("x")
            seen.append(ticks)

    async with ASGIConductor(ws_app(body)) as c:
        task = asyncio.get_running_loop().create_task(ticker())
        try:
            async with c.simulate_ws("/ws") as ws:
                for _ in range(QUEUE_SIZE // 2):
                    await ws.receive_text()
        finally:
            task.cancel()
    # The ticker ran between sends: each send gave the loop a turn.
    assert len(set(seen)) == len(seen)


async def test_a_short_timeout_fires_while_the_app_floods() -> None:
    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        while True:
            await ws.send_text("x")

    async with ASGIConductor(ws_app(body)) as c, c.simulate_ws("/ws", timeout=0.05) as ws:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.Event().wait(), 0.05)
        assert await ws.receive_text() == "x"


async def test_messages_sent_before_close_arrive_before_it_even_past_the_bound() -> None:
    count = QUEUE_SIZE * 3

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        for i in range(count):
            await ws.send_text(str(i))
        await ws.close(4000, "done")

    async with ASGIConductor(ws_app(body)) as c, c.simulate_ws("/ws") as ws:
        received = [await ws.receive_text() for _ in range(count)]
        with pytest.raises(lanner.WebSocketDisconnected) as closed:
            await ws.receive_text()
    assert received == [str(i) for i in range(count)]
    assert (closed.value.code, closed.value.reason) == (4000, "done")


async def test_on_an_older_server_a_blocked_send_is_dropped_when_the_client_leaves() -> None:
    outcome: list[str] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        try:
            for _ in range(QUEUE_SIZE * 20):
                await ws.send_text("x")
        except lanner.WebSocketDisconnected:
            outcome.append("disconnected")
        else:
            outcome.append("finished")

    app = ws_app(body, max_receive_queue=0)
    async with (
        ASGIConductor(app) as c,
        c.simulate_ws("/ws", spec_version="2.3") as ws,
    ):
        await ws.receive_text()
    # Spec 2.3 drops sends after the client left; the app ran on, its sends
    # unblocked rather than stuck on a queue nobody reads.
    assert outcome == ["finished"]
    assert ws.sent_after_close > 0


async def test_a_client_flooding_an_app_that_does_not_read_times_out_naming_the_path() -> None:
    release = asyncio.Event()

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await release.wait()

    app = ws_app(body, max_receive_queue=0)
    async with ASGIConductor(app) as c, c.simulate_ws("/ws", timeout=0.2) as ws:
        for _ in range(QUEUE_SIZE):
            await ws.send_text("x")  # fits the app's receive queue
        with pytest.raises(TimeoutError, match="/ws"):
            await ws.send_text("one too many")
        release.set()


async def test_a_client_send_waits_for_room_and_then_goes_through() -> None:
    received: list[str] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        while True:
            received.append(await ws.receive_text())
            if received[-1] == "last":
                await ws.send_text(str(len(received)))

    total = QUEUE_SIZE * 3
    app = ws_app(body, max_receive_queue=0)
    async with ASGIConductor(app) as c, c.simulate_ws("/ws") as ws:
        for i in range(total - 1):
            await ws.send_text(str(i))
        await ws.send_text("last")
        assert await ws.receive_text() == str(total)
    assert received[:3] == ["0", "1", "2"]


class Feed:
    """An SSE route whose generator never pauses."""

    def __init__(self) -> None:
        self.yielded = 0

    async def on_get(self, req: Request, resp: Response) -> None:
        async def events() -> AsyncIterator[SSEvent]:
            while True:
                self.yielded += 1
                yield SSEvent(text="x")

        resp.sse = events()


async def test_a_flooding_event_stream_is_suspended_until_the_test_reads() -> None:
    feed = Feed()
    app = lanner.App()
    app.add_route("/feed", feed)
    async with ASGIConductor(app) as c, c.simulate_get_stream("/feed") as stream:
        for _ in range(3):
            await asyncio.sleep(0.01)
        assert feed.yielded <= QUEUE_SIZE + 2
        event = await stream.receive_event()
        assert event.data == "x"
