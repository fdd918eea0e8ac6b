"""Send timeouts: a client that stops reading is failed, not waited for forever.

The conductor's simulated clients can stop reading (``stop_reading()``): the app's
sends then wait, as they do on a real server once the socket's buffers are full.
``tests/e2e/test_stalled_e2e.py`` checks the same under a real uvicorn.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

import lanner
from lanner import Request, Response, SSEvent, WebSocket
from lanner.testing import ASGIConductor
from tests._ws_app import ws_app

TIMEOUT = 0.2
# Liveness bound: the timeout plus the watchdog's tick plus a wide margin for load.
BOUND = TIMEOUT + 1.0 + 3.0
KIB = "x" * 1024


def _other_tasks() -> set[asyncio.Task[Any]]:
    return asyncio.all_tasks() - {asyncio.current_task()}  # type: ignore[operator]


async def _settled(baseline: set[asyncio.Task[Any]]) -> set[asyncio.Task[Any]]:
    """Return the tasks beyond ``baseline`` still running after a bounded wait."""
    deadline = time.monotonic() + 2.0
    while left := _other_tasks() - baseline:
        if time.monotonic() > deadline:
            return left
        await asyncio.sleep(0.01)
    return set()


# -- options ----------------------------------------------------------------------------


def test_send_timeouts_default_to_twenty_seconds() -> None:
    app = lanner.App()
    assert app.ws_options.send_timeout == 20.0
    assert app.sse_options.send_timeout == 20.0


@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf"), "10", True])
def test_a_bad_ws_send_timeout_fails_at_startup_naming_the_option(value: object) -> None:
    app = lanner.App()
    app.ws_options.send_timeout = value  # type: ignore[assignment]
    with pytest.raises(ValueError, match=r"ws_options\.send_timeout"):
        app.freeze()


@pytest.mark.parametrize(
    ("value", "error"), [(0, ValueError), (-2.5, ValueError), ("10", TypeError), (True, TypeError)]
)
def test_a_bad_sse_send_timeout_is_refused_when_set(value: object, error: type[Exception]) -> None:
    options = lanner.App().sse_options
    with pytest.raises(error, match=r"sse_options\.send_timeout"):
        options.send_timeout = value  # type: ignore[assignment]
    options.send_timeout = None
    assert options.send_timeout is None


# -- WebSocket ----------------------------------------------------------------------------


def _pusher(outcome: asyncio.Future[BaseException | None]) -> Any:
    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                await ws.send_text(KIB)
                await asyncio.sleep(0)
        except BaseException as exc:
            outcome.set_result(exc)
            raise

    return body


async def test_a_client_that_stops_reading_fails_the_stalled_send() -> None:
    outcome: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()
    app = ws_app(_pusher(outcome), send_timeout=TIMEOUT)
    async with ASGIConductor(app) as c:
        baseline = _other_tasks()
        async with c.simulate_ws("/ws") as ws:
            assert await ws.receive_text() == KIB
            ws.stop_reading()
            started = time.monotonic()
            exc = await asyncio.wait_for(outcome, BOUND)
            waited = time.monotonic() - started
            assert isinstance(exc, lanner.WebSocketDisconnected)
            assert exc.code == 1006
            assert "send_timeout" in str(exc.reason)
            assert waited >= TIMEOUT
            assert await _settled(baseline) == set()


async def test_the_close_is_bounded_too() -> None:
    closed: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("ready")
        await ws.receive_text()  # the client says it has stopped reading
        started = time.monotonic()
        await ws.close(4000)
        closed.set_result(time.monotonic() - started)

    async with ASGIConductor(ws_app(body, send_timeout=TIMEOUT)) as c:
        baseline = _other_tasks()
        async with c.simulate_ws("/ws") as ws:
            assert await ws.receive_text() == "ready"
            ws.stop_reading()
            await ws.send_text("stopped")
            assert TIMEOUT <= await asyncio.wait_for(closed, BOUND) < BOUND
            assert await _settled(baseline) == set()


async def test_a_client_that_pauses_for_less_than_the_timeout_is_kept() -> None:
    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.receive_text()
        for n in range(3):
            await ws.send_text(str(n))

    async with ASGIConductor(ws_app(body, send_timeout=1.0)) as c, c.simulate_ws("/ws") as ws:
        ws.stop_reading()
        await ws.send_text("go")
        await asyncio.sleep(0.3)
        ws.resume_reading()
        assert [await ws.receive_text() for _ in range(3)] == ["0", "1", "2"]


async def test_without_a_send_timeout_a_stalled_send_waits_for_the_client() -> None:
    sent: list[int] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.receive_text()
        for n in range(2):
            await ws.send_text(str(n))
            sent.append(n)

    async with ASGIConductor(ws_app(body, send_timeout=None)) as c, c.simulate_ws("/ws") as ws:
        ws.stop_reading()
        await ws.send_text("go")
        await asyncio.sleep(TIMEOUT * 3)
        assert sent == []
        ws.resume_reading()
        assert [await ws.receive_text() for _ in range(2)] == ["0", "1"]
    assert sent == [0, 1]


async def test_a_stalled_send_in_another_task_fails_there() -> None:
    outcome: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()

        async def push() -> None:
            try:
                while True:
                    await ws.send_text(KIB)
                    await asyncio.sleep(0)  # the simulated client's queue never fills
            except lanner.WebSocketDisconnected as exc:
                outcome.set_result(exc)

        task = lanner.create_task(push())
        try:
            await ws.receive_text()
        finally:
            task.cancel()

    async with ASGIConductor(ws_app(body, send_timeout=TIMEOUT)) as c, c.simulate_ws("/ws") as ws:
        ws.stop_reading()
        exc = await asyncio.wait_for(outcome, BOUND)
        assert isinstance(exc, lanner.WebSocketDisconnected)
        assert exc.code == 1006


# -- Server-Sent Events -------------------------------------------------------------------


def _sse_app(events: Any, *, ping_interval: float | None = None) -> lanner.App:
    class Feed:
        async def on_get(self, req: Request, resp: Response) -> None:
            resp.sse = events()

    app = lanner.App()
    app.sse_options.send_timeout = TIMEOUT
    app.sse_options.ping_interval = ping_interval
    app.add_route("/feed", Feed())
    return app


async def test_an_sse_client_that_stops_reading_gets_its_generator_closed() -> None:
    finalised: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    async def events() -> AsyncIterator[SSEvent]:
        try:
            while True:
                yield SSEvent(text=KIB)
                await asyncio.sleep(0)
        finally:
            finalised.set_result(time.monotonic())

    async with ASGIConductor(_sse_app(events)) as c:
        baseline = _other_tasks()
        async with c.simulate_get_stream("/feed") as stream:
            await stream.receive_event()
            stream.stop_reading()
            started = time.monotonic()
            ended = await asyncio.wait_for(finalised, BOUND)
            assert ended - started >= TIMEOUT
            assert await _settled(baseline) == set()


async def test_a_stalled_keep_alive_ping_fails_the_stream_too() -> None:
    finalised: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def events() -> AsyncIterator[SSEvent]:
        try:
            yield SSEvent(text="ready")
            await asyncio.Event().wait()  # nothing more: only pings are sent
            yield SSEvent(text="unreachable")
        finally:
            finalised.set_result(None)

    async with ASGIConductor(_sse_app(events, ping_interval=0.05)) as c:
        baseline = _other_tasks()
        async with c.simulate_get_stream("/feed") as stream:
            assert (await stream.receive_event()).data == "ready"
            stream.stop_reading()
            await asyncio.wait_for(finalised, BOUND)
            assert await _settled(baseline) == set()
