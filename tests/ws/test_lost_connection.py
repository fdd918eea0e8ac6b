"""Lost connections, background tasks, delivery order, timeouts and leaks.

The conductor acts as a current server by default (ASGI spec 2.4: a send after
the client left raises) and, with ``spec_version="2.3"``, as an older one that
drops such sends silently, so lanner's fallback reader is exercised too.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import logging
import time
import weakref
from collections.abc import Callable
from typing import Any

import pytest

import lanner
from lanner import Request, WebSocket
from lanner.testing import ASGIConductor
from tests._ws_app import Body, Resource
from tests._ws_app import ws_app as _app


async def _wait_for(what: str, condition: Callable[[], bool], timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout} s waiting for {what}.")
        await asyncio.sleep(0.001)


# --- the client leaves ---------------------------------------------------------------


@pytest.mark.parametrize("spec_version", ["2.4", "2.3"])
async def test_receive_raises_websocket_disconnected_with_the_clients_code(
    spec_version: str,
) -> None:
    seen: list[tuple[type[BaseException], int, bool]] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("ready")
        try:
            await ws.receive_text()
        except lanner.WebSocketDisconnected as exc:
            seen.append((type(exc), exc.code, ws.closed))

    async with (
        ASGIConductor(_app(body)) as c,
        c.simulate_ws("/ws", spec_version=spec_version) as ws,
    ):
        await ws.receive_text()
        await ws.close(4100)
    assert seen == [(lanner.WebSocketDisconnected, 4100, True)]


def _send_only(results: list[object], *, interval: float = 0.002, limit: int = 2000) -> Body:
    """A push endpoint that never receives: it sends until it notices the client left."""

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        for i in range(limit):
            try:
                await ws.send_text(f"tick {i}")
            except lanner.WebSocketDisconnected as exc:
                results.append(exc)
                return
            await asyncio.sleep(interval)
        results.append(f"sent all {limit} without noticing; ready={ws.ready}")

    return body


@pytest.mark.parametrize(
    ("spec_version", "expected_code"),
    [("2.4", 1006), ("2.3", 4100)],
    ids=["server-raises-on-send", "fallback-reader"],
)
async def test_send_only_endpoint_notices_the_client_left(
    spec_version: str, expected_code: int
) -> None:
    results: list[object] = []
    async with ASGIConductor(_app(_send_only(results))) as c:
        started = time.monotonic()
        async with c.simulate_ws("/ws", spec_version=spec_version) as ws:
            assert await ws.receive_text() == "tick 0"
            await ws.close(4100)  # returns once the app's handler has returned
        elapsed = time.monotonic() - started
    (outcome,) = results
    assert isinstance(outcome, lanner.WebSocketDisconnected)
    # A spec 2.4 server only says "gone" (1006); the fallback reader saw the code.
    assert outcome.code == expected_code
    assert elapsed < 1.0


async def test_without_the_queue_a_send_only_endpoint_on_an_old_server_does_not_notice() -> None:
    """Documents the trade-off of ``max_receive_queue=0`` on a pre-2.4 server.

    Such a server drops sends after the client left without an error (as the
    ASGI spec said before 2.4), so an endpoint that never receives keeps
    sending into the void until it stops on its own.
    """
    results: list[object] = []
    body = _send_only(results, interval=0.001, limit=30)
    async with (
        ASGIConductor(_app(body, max_receive_queue=0)) as c,
        c.simulate_ws("/ws", spec_version="2.3") as ws,
    ):
        assert await ws.receive_text() == "tick 0"
        await ws.close(4100)
    assert results == ["sent all 30 without noticing; ready=True"]
    # Every tick after the first went nowhere, and so did lanner's closing frame.
    assert ws.sent_after_close >= 2
    assert ws.close_code == 4100


@pytest.mark.parametrize(
    ("spec_version", "max_receive_queue", "extra_tasks"),
    [("2.4", 4, 0), ("2.4", 0, 0), ("2.3", 4, 1), ("2.3", 0, 0), ("2.0", 4, 1)],
)
async def test_a_background_reader_runs_only_for_old_servers_with_the_queue_on(
    spec_version: str, max_receive_queue: int, extra_tasks: int
) -> None:
    counts: list[tuple[int, list[str]]] = []

    async def body(req: Request, ws: WebSocket) -> None:
        before = asyncio.all_tasks()
        await ws.accept()
        await asyncio.sleep(0)
        added = asyncio.all_tasks() - before
        counts.append((len(added), sorted(t.get_name() for t in added)))
        await ws.send_text(await ws.receive_text())

    app = _app(body, max_receive_queue=max_receive_queue)
    async with ASGIConductor(app) as c:
        baseline = len(asyncio.all_tasks())
        async with c.simulate_ws("/ws", spec_version=spec_version) as ws:
            await ws.send_text("ping")
            assert await ws.receive_text() == "ping"
        await asyncio.sleep(0)
        assert len(asyncio.all_tasks()) == baseline
    ((added, names),) = counts
    assert added == extra_tasks
    assert names == ["lanner-ws-reader /ws"] * extra_tasks


async def test_fallback_reader_keeps_message_order_and_reports_the_close_after_them() -> None:
    got: list[object] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("go")
        while True:
            try:
                got.append(await ws.receive_text())
            except lanner.WebSocketDisconnected as exc:
                got.append(exc.code)
                return

    async with ASGIConductor(_app(body)) as c, c.simulate_ws("/ws", spec_version="2.3") as ws:
        assert await ws.receive_text() == "go"
        for i in range(10):  # more than max_receive_queue: the reader waits
            await ws.send_text(str(i))
        await ws.close(4007)
    assert got == [str(i) for i in range(10)] + [4007]


async def _until_disconnected(ws: WebSocket) -> None:
    while True:
        try:
            await ws.receive_text()
        except lanner.WebSocketDisconnected:
            return


# --- create_task and the spec's examples -----------------------------------------------


async def test_create_task_reader_beside_writer_as_in_the_spec() -> None:
    finished: list[str] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        messages: collections.deque[str] = collections.deque()

        async def sink() -> None:
            while True:
                try:
                    message = await ws.receive_text()
                except lanner.WebSocketDisconnected:
                    break
                messages.append(message)

        sink_task = lanner.create_task(sink())
        while not sink_task.done():
            while ws.ready and not messages and not sink_task.done():  # noqa: ASYNC110 - the spec's loop
                await asyncio.sleep(0)
            if not messages:
                continue
            try:
                await ws.send_text(messages.popleft().upper())
            except lanner.WebSocketDisconnected:
                break
        sink_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sink_task
        finished.append("writer done")

    async with ASGIConductor(_app(body)) as c:
        baseline = len(asyncio.all_tasks())
        async with c.simulate_ws("/ws") as ws:
            for word in ("a", "b", "c"):
                await ws.send_text(word)
            assert [await ws.receive_text() for _ in range(3)] == ["A", "B", "C"]
        await asyncio.sleep(0)
        assert len(asyncio.all_tasks()) == baseline
    assert finished == ["writer done"]


async def test_create_task_keeps_an_unreferenced_task_alive() -> None:
    async def wait_forever() -> None:
        # Awaits a future only this coroutine references: without a strong
        # reference elsewhere, task, coroutine and future form a garbage cycle.
        await asyncio.get_running_loop().create_future()

    task = lanner.create_task(wait_forever(), name="kept")
    ref = weakref.ref(task)
    del task
    await asyncio.sleep(0)
    gc.collect()
    kept = ref()
    assert kept is not None
    assert kept.get_name() == "kept"
    kept.cancel()
    with pytest.raises(asyncio.CancelledError):
        await kept


async def test_closing_ends_a_receive_waiting_in_another_task() -> None:
    """Like uvicorn, the app's own close ends its pending receive with that code."""
    reader_saw: list[int] = []
    handler_done = asyncio.Event()

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()

        async def reader() -> None:
            try:
                await ws.receive_text()
            except lanner.WebSocketDisconnected as exc:
                reader_saw.append(exc.code)

        task = lanner.create_task(reader())
        await asyncio.sleep(0)  # the reader is now waiting for a message
        await ws.close(4000)
        await task  # not cancelled: the close itself must end the receive
        handler_done.set()

    async with ASGIConductor(_app(body)) as c, c.simulate_ws("/ws") as ws:
        with pytest.raises(lanner.WebSocketDisconnected):
            await ws.receive_text()
        # The handler finishes while the client is still connected.
        await asyncio.wait_for(handler_done.wait(), 1)
    assert reader_saw == [4000]


async def test_spec_conductor_example_with_gather() -> None:
    """The spec's ``asyncio.gather(post_events(), get_events_ws())``, typos fixed."""

    class Events:
        """Posted events fan out to every WebSocket, which first replays the history."""

        def __init__(self) -> None:
            self.history: list[dict[str, Any]] = []
            self.subscribers: list[asyncio.Queue[dict[str, Any]]] = []

        async def on_post(self, req: Request, resp: lanner.Response) -> None:
            event = await req.get_media()
            self.history.append(event)
            for queue in self.subscribers:
                queue.put_nowait(event)
            resp.status = 202

        async def on_websocket(self, req: Request, ws: WebSocket) -> None:
            await ws.accept()
            queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
            for event in self.history:
                queue.put_nowait(event)
            self.subscribers.append(queue)
            client_left = lanner.create_task(_until_disconnected(ws))
            try:
                while True:
                    next_event = asyncio.ensure_future(queue.get())
                    await asyncio.wait(
                        {next_event, client_left}, return_when=asyncio.FIRST_COMPLETED
                    )
                    if not next_event.done():
                        next_event.cancel()
                        return
                    await ws.send_text(f"event {next_event.result()['id']}")
            finally:
                self.subscribers.remove(queue)
                client_left.cancel()

    some_app = lanner.App()
    some_app.add_route("/events", Events())
    total = 10
    received: list[str] = []
    statuses: list[int] = []

    # This context manages the ASGI app lifecycle, including lifespan events
    async with ASGIConductor(some_app) as c:

        async def post_events() -> None:
            for i in range(total):
                result = await c.simulate_post("/events", json={"id": i})
                statuses.append(result.status_code)
                await asyncio.sleep(0.01)

        async def get_events_ws() -> None:
            # Simulate a WebSocket connection
            async with c.simulate_ws("/events") as ws:
                while len(received) < total:
                    message = await ws.receive_text()
                    received.append(message)

        await asyncio.gather(post_events(), get_events_ws())
    assert statuses == [202] * total
    assert received == [f"event {i}" for i in range(total)]


async def test_after_the_client_closes_receive_reports_its_close() -> None:
    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("sent before the client left")
        await _until_disconnected(ws)

    async with ASGIConductor(_app(body)) as c, c.simulate_ws("/ws") as ws:
        await ws.close(4100)
        # Already buffered, so still delivered; then the client's own close.
        assert await ws.receive_text() == "sent before the client left"
        with pytest.raises(lanner.WebSocketDisconnected) as closed:
            await ws.receive_text()
        with pytest.raises(lanner.WebSocketDisconnected):
            await ws.send_text("too late")
    assert closed.value.code == 4100
    assert ws.close_code == 4100


# --- delivery order, timeouts -----------------------------------------------------------


async def test_messages_sent_before_close_arrive_before_the_close() -> None:
    app_done = asyncio.Event()

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        for i in range(3):
            await ws.send_text(str(i))
        await ws.send_data(b"last")
        await ws.close(4000, "done")
        app_done.set()

    async with ASGIConductor(_app(body)) as c, c.simulate_ws("/ws") as ws:
        # Read only after the app has closed and returned.
        await asyncio.wait_for(app_done.wait(), 2)
        assert [await ws.receive_text() for _ in range(3)] == ["0", "1", "2"]
        assert await ws.receive_data() == b"last"
        with pytest.raises(lanner.WebSocketDisconnected) as closed:
            await ws.receive_text()
        # Asking again reports the same close.
        with pytest.raises(lanner.WebSocketDisconnected):
            await ws.receive_text()
    assert (closed.value.code, closed.value.reason) == (4000, "done")


async def test_messages_sent_before_a_crash_arrive_before_the_1011(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("partial result")
        raise RuntimeError("crash")

    async with ASGIConductor(_app(body)) as c, c.simulate_ws("/ws") as ws:
        assert await ws.receive_text() == "partial result"
        with pytest.raises(lanner.WebSocketServerError):
            await ws.receive_text()


async def test_a_receive_that_gets_nothing_times_out_naming_the_path() -> None:
    class Quiet:
        async def on_websocket(self, req: Request, ws: WebSocket, room: str) -> None:
            await ws.accept()
            with contextlib.suppress(lanner.WebSocketDisconnected):
                await ws.receive_text()

    app = lanner.App()
    app.add_route("/quiet/{room}", Quiet())
    async with ASGIConductor(app, timeout=0.05) as c, c.simulate_ws("/quiet/r1") as ws:
        started = time.monotonic()
        with pytest.raises(TimeoutError, match=r"/quiet/r1.*0\.05 s"):
            await ws.receive_text()
        assert time.monotonic() - started < 1.0
        # The connection is still usable after a timeout.
        assert ws.ready


async def test_a_handshake_the_app_never_answers_times_out_naming_the_path() -> None:
    cancelled: list[bool] = []

    async def body(req: Request, ws: WebSocket) -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async with ASGIConductor(_app(body)) as c:
        baseline = len(asyncio.all_tasks())
        started = time.monotonic()
        with pytest.raises(TimeoutError, match="/ws"):
            async with c.simulate_ws("/ws", timeout=0.05):
                pass
        assert time.monotonic() - started < 1.0
        # The abandoned handler was stopped, not left running.
        assert cancelled == [True]
        assert len(asyncio.all_tasks()) == baseline


# --- no leaks ---------------------------------------------------------------------------


async def test_a_thousand_connections_leave_no_task_behind(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.CRITICAL, logger="lanner")

    echoes: list[None] = []

    async def echo(req: Request, ws: WebSocket) -> None:
        echoes.append(None)
        await ws.accept()
        while True:
            try:
                await ws.send_text(await ws.receive_text())
            except lanner.WebSocketDisconnected:
                return

    async def crash_before(req: Request, ws: WebSocket) -> None:
        raise RuntimeError("before accept")

    async def crash_after(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.receive_text()
        raise RuntimeError("after accept")

    async def push(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        while True:
            await ws.send_text("tick")  # until the client leaves (warning, then cleanup)
            await asyncio.sleep(0)

    app = lanner.App()
    for path, body in [
        ("/echo", echo),
        ("/crash-before", crash_before),
        ("/crash-after", crash_after),
        ("/push", push),
    ]:
        app.add_route(path, Resource(body))

    started = time.monotonic()
    async with ASGIConductor(app) as c:
        await asyncio.sleep(0)
        baseline = len(asyncio.all_tasks())
        for i in range(1000):
            kind = i % 5
            spec = "2.3" if i % 2 else "2.4"
            if kind == 0:
                async with c.simulate_ws("/echo", spec_version=spec) as ws:
                    await ws.send_text("x")
                    assert await ws.receive_text() == "x"
            elif kind == 1:
                with pytest.raises(lanner.WebSocketServerError):
                    async with c.simulate_ws("/crash-before", spec_version=spec):
                        pass
            elif kind == 2:
                async with c.simulate_ws("/crash-after", spec_version=spec) as ws:
                    await ws.send_text("x")
                    with pytest.raises(lanner.WebSocketServerError):
                        await ws.receive_text()
            elif kind == 3:
                with pytest.raises(lanner.WebSocketPathNotFound):
                    async with c.simulate_ws("/nowhere", spec_version=spec):
                        pass
            else:
                async with c.simulate_ws("/push", spec_version=spec) as ws:
                    assert await ws.receive_text() == "tick"
        await _wait_for("tasks to finish", lambda: len(asyncio.all_tasks()) <= baseline)
        assert len(asyncio.all_tasks()) == baseline
    assert len(echoes) == 200
    assert time.monotonic() - started < 5.0


async def test_fallback_reader_turns_a_failing_server_receive_into_a_disconnect() -> None:
    """On a pre-2.4 server, a receive that raises ends the app's receive with 1006."""
    from lanner._ws_settings import WebSocketSettings
    from lanner.ws import WebSocket

    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        raise RuntimeError("transport broke")

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    options = lanner.WebSocketOptions()
    scope = {"type": "websocket", "path": "/x", "asgi": {"spec_version": "2.3"}}
    ws = WebSocket(scope, receive, send, WebSocketSettings(options))
    await ws.accept()
    with pytest.raises(lanner.WebSocketDisconnected) as info:
        await asyncio.wait_for(ws.receive_text(), 1.0)
    assert info.value.code == 1006
    with pytest.raises(lanner.WebSocketDisconnected):
        await ws.send_text("after")
    await ws.close()
    assert sent == [{"type": "websocket.accept", "subprotocol": None}]


async def test_finished_connections_leave_no_websocket_or_request_alive() -> None:
    """After crashing, denied and normal connections, nothing keeps their objects alive."""

    def alive() -> int:
        gc.collect()
        return sum(1 for obj in gc.get_objects() if type(obj) in (Request, WebSocket))

    async def echo(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text(await ws.receive_text())

    async def crash(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        raise RuntimeError("boom")

    app = lanner.App()
    app.add_route("/echo", Resource(echo))
    app.add_route("/crash", Resource(crash))
    logging.getLogger("lanner").disabled = True
    try:
        async with ASGIConductor(app) as c:
            before = alive()
            for i in range(300):
                spec = "2.3" if i % 2 else "2.4"
                async with c.simulate_ws("/echo", spec_version=spec) as ws:
                    await ws.send_text("x")
                    assert await ws.receive_text() == "x"
                async with c.simulate_ws("/crash", spec_version=spec) as ws:
                    with pytest.raises(lanner.WebSocketServerError):
                        await ws.receive_text()
                with pytest.raises(lanner.WebSocketPathNotFound):
                    async with c.simulate_ws("/nowhere", spec_version=spec):
                        pass
            del ws
            assert alive() == before
    finally:
        logging.getLogger("lanner").disabled = False
