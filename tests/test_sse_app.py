"""Server-Sent Events through the App: ``resp.sse`` served in-process, read by the test readers."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

import lanner
from lanner.media import JSONHandler
from lanner.testing import ASGIConductor, ParsedEvent, TestClient

Events = Callable[[lanner.Request], AsyncIterator[lanner.SSEvent | None]]

# What a ': ping' keep-alive comment looks like to the parser.
PING = ParsedEvent(data="", comments=("ping",))


class Feed:
    """Streams the events an async generator function makes from the request.

    It counts generators started and finalised (their ``finally`` ran), so tests
    can see that a generator was closed.
    """

    def __init__(self, events: Events) -> None:
        self._events = events
        self.started = 0
        self.finalised = 0

    async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
        resp.set_header("X-Feed", "on")
        resp.sse = self._run(req)

    async def _run(self, req: lanner.Request) -> AsyncIterator[lanner.SSEvent | None]:
        self.started += 1
        events = self._events(req)
        try:
            async for event in events:
                yield event
        finally:
            await events.aclose()  # type: ignore[attr-defined]
            self.finalised += 1


def app_with(events: Events, *, ping_interval: float | None = 15.0) -> tuple[lanner.App, Feed]:
    app = lanner.App()
    app.sse_options.ping_interval = ping_interval
    feed = Feed(events)
    app.add_route("/feed", feed)
    return app, feed


async def never() -> None:
    """Wait for an event that never comes."""
    await asyncio.get_running_loop().create_future()


def other_tasks() -> set[asyncio.Task[Any]]:
    return asyncio.all_tasks() - {asyncio.current_task()}


# --- the response --------------------------------------------------------------


async def test_headers_status_and_the_responders_own_headers() -> None:
    async def events(req: lanner.Request) -> AsyncIterator[lanner.SSEvent]:
        yield lanner.SSEvent(text="hi")

    app, _ = app_with(events)
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_get("/feed")
    assert result.status_code == 200
    assert result.header_list == [
        ("content-type", "text/event-stream; charset=utf-8"),
        ("cache-control", "no-cache"),
        ("x-accel-buffering", "no"),
        ("x-feed", "on"),
    ]
    assert result.content == b"data: hi\n\n"


async def test_a_header_the_responder_sets_replaces_the_default_but_not_the_type() -> None:
    class Custom:
        async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
            resp.status = 201
            resp.content_type = "text/plain"
            resp.set_header("Cache-Control", "no-store")
            resp.sse = events()

    async def events() -> AsyncIterator[lanner.SSEvent]:
        yield lanner.SSEvent(text="x")

    app = lanner.App()
    app.add_route("/custom", Custom())
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_get("/custom")
    assert result.status_code == 201
    assert result.header_list == [
        ("content-type", "text/event-stream; charset=utf-8"),
        ("x-accel-buffering", "no"),
        ("cache-control", "no-store"),
    ]


async def test_events_arrive_in_order_with_every_field() -> None:
    sent = [
        lanner.SSEvent(text="one", event="tick", event_id="1", retry=2500, comment="first"),
        lanner.SSEvent(text="a\nb\r\nc\rd", event_id="2"),
        lanner.SSEvent(data=b"raw\nbytes \xc3\xa9"),
        lanner.SSEvent(json={"n": 3, "s": "é"}, event="obj"),
        lanner.SSEvent(event_id=""),
        lanner.SSEvent(text="", event="named-only"),
    ]

    async def events(req: lanner.Request) -> AsyncIterator[lanner.SSEvent]:
        for event in sent:
            yield event

    app, _ = app_with(events)
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_get("/feed")
    assert result.content == (
        b": first\nevent: tick\nid: 1\nretry: 2500\ndata: one\n\n"
        b"id: 2\ndata: a\ndata: b\ndata: c\ndata: d\n\n"
        b"data: raw\ndata: bytes \xc3\xa9\n\n"
        b'event: obj\ndata: {"n":3,"s":"\xc3\xa9"}\n\n'
        b"id: \n\n"
        b"event: named-only\ndata: \n\n"
    )
    assert result.events == [
        ParsedEvent(data="one", event="tick", event_id="1", retry=2500, comments=("first",)),
        ParsedEvent(data="a\nb\nc\nd", event_id="2"),
        ParsedEvent(data="raw\nbytes é"),
        ParsedEvent(data='{"n":3,"s":"é"}', event="obj"),
        ParsedEvent(data="", event_id=""),
        ParsedEvent(data="", event="named-only"),
    ]


async def test_json_goes_through_the_apps_json_handler() -> None:
    def dumps(obj: object) -> str:
        return json.dumps(obj, sort_keys=True, indent=1)

    async def events(req: lanner.Request) -> AsyncIterator[lanner.SSEvent]:
        yield lanner.SSEvent(json={"b": 1, "a": [2]})

    app, _ = app_with(events)
    app.resp_options.media_handlers["application/json"] = JSONHandler(dumps=dumps)
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_get("/feed")
    # indent=1 makes the JSON multi-line: one data: line per line, joined back by the client.
    assert result.content == (
        b'data: {\ndata:  "a": [\ndata:   2\ndata:  ],\ndata:  "b": 1\ndata: }\n\n'
    )
    (event,) = result.events
    assert event.data == dumps({"b": 1, "a": [2]})
    assert event.json() == {"a": [2], "b": 1}


async def test_none_and_an_empty_event_are_keep_alive_pings() -> None:
    async def events(req: lanner.Request) -> AsyncIterator[lanner.SSEvent | None]:
        yield None
        yield lanner.SSEvent()
        yield lanner.SSEvent(text="after")

    app, _ = app_with(events)
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_get("/feed")
    assert result.content == b": ping\n\n: ping\n\ndata: after\n\n"
    assert result.events == [PING, PING, ParsedEvent(data="after")]


async def test_simulate_get_returns_the_whole_stream_once_the_generator_ends() -> None:
    async def events(req: lanner.Request) -> AsyncIterator[lanner.SSEvent]:
        for n in range(3):
            await asyncio.sleep(0.01)
            yield lanner.SSEvent(text=str(n))

    app, feed = app_with(events)
    async with ASGIConductor(app) as conductor:
        baseline = other_tasks()
        result = await conductor.simulate_get("/feed")
        assert feed.finalised == 1
        assert other_tasks() == baseline
    assert [event.data for event in result.events] == ["0", "1", "2"]


async def test_head_sends_the_headers_and_never_runs_the_generator() -> None:
    async def events(req: lanner.Request) -> AsyncIterator[lanner.SSEvent]:
        yield lanner.SSEvent(text="body")

    app, feed = app_with(events)
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_head("/feed")
    assert result.status_code == 200
    assert result.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert result.content == b""
    assert feed.started == 0


# --- reading a live stream ------------------------------------------------------


async def test_stream_reads_events_while_the_generator_is_still_running() -> None:
    release = asyncio.Event()

    async def events(req: lanner.Request) -> AsyncIterator[lanner.SSEvent]:
        yield lanner.SSEvent(text="first")
        await release.wait()
        yield lanner.SSEvent(text="second")

    app, feed = app_with(events)
    async with ASGIConductor(app) as conductor, conductor.simulate_sse("/feed") as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert await stream.receive_event() == ParsedEvent(data="first")
        assert feed.finalised == 0  # the generator is still waiting
        release.set()
        assert await stream.receive_event() == ParsedEvent(data="second")
        with pytest.raises(EOFError):
            await stream.receive_event()
        assert stream.ended
    assert feed.finalised == 1


async def test_disconnect_closes_a_generator_blocked_forever_within_a_second() -> None:
    async def events(req: lanner.Request) -> AsyncIterator[lanner.SSEvent]:
        yield lanner.SSEvent(text="ready")
        await never()
        yield lanner.SSEvent(text="unreachable")

    app, feed = app_with(events)
    async with ASGIConductor(app) as conductor:
        baseline = other_tasks()
        async with conductor.simulate_get_stream("/feed") as stream:
            assert (await stream.receive_event()).data == "ready"
            assert len(other_tasks() - baseline) == 3  # the request, its pump and its watcher
            left = time.monotonic()
        assert time.monotonic() - left < 1.0
        assert feed.finalised == 1
        assert other_tasks() == baseline


async def test_receive_event_times_out_when_nothing_is_sent() -> None:
    async def events(req: lanner.Request) -> AsyncIterator[lanner.SSEvent]:
        await never()
        yield lanner.SSEvent(text="unreachable")

    app, feed = app_with(events)
    async with ASGIConductor(app) as conductor, conductor.simulate_sse("/feed") as stream:
        started = time.monotonic()
        with pytest.raises(TimeoutError, match="No complete event"):
            await stream.receive_event(timeout=0.1)
        assert 0.1 <= time.monotonic() - started < 1.0
    assert feed.finalised == 1


# --- keep-alive -----------------------------------------------------------------


async def test_pings_while_the_generator_is_idle() -> None:
    async def events(req: lanner.Request) -> AsyncIterator[lanner.SSEvent]:
        yield lanner.SSEvent(text="ready")
        await never()
        yield lanner.SSEvent(text="unreachable")

    app, _ = app_with(events, ping_interval=0.05)
    async with ASGIConductor(app) as conductor, conductor.simulate_sse("/feed") as stream:
        assert (await stream.receive_event()).data == "ready"
        started = time.monotonic()
        pings = [await stream.receive_event(timeout=1.0) for _ in range(3)]
        elapsed = time.monotonic() - started
    assert pings == [PING, PING, PING]
    # Three idle intervals of 0.05 s after "ready" (read just after it was sent);
    # the upper bound only catches a stuck timer.
    assert 0.1 <= elapsed < 1.0


async def test_no_pings_while_events_flow_faster_than_the_interval() -> None:
    async def events(req: lanner.Request) -> AsyncIterator[lanner.SSEvent]:
        for n in range(20):
            await asyncio.sleep(0.01)
            yield lanner.SSEvent(text=str(n))
        await asyncio.sleep(0.25)  # now idle for over two intervals
        yield lanner.SSEvent(text="last")

    app, _ = app_with(events, ping_interval=0.1)
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_get("/feed")
    received = result.events
    assert received[:20] == [ParsedEvent(data=str(n)) for n in range(20)]
    assert received[20:-1] in ([PING], [PING, PING])
    assert received[-1] == ParsedEvent(data="last")


def test_sse_options_are_exported_for_annotations() -> None:
    options: lanner.SSEOptions = lanner.App().sse_options
    assert isinstance(options, lanner.SSEOptions)
    assert options.ping_interval == 15.0


async def test_no_pings_when_the_interval_is_none() -> None:
    async def events(req: lanner.Request) -> AsyncIterator[lanner.SSEvent]:
        await never()
        yield lanner.SSEvent(text="unreachable")

    app, _ = app_with(events, ping_interval=None)
    async with ASGIConductor(app) as conductor, conductor.simulate_sse("/feed") as stream:
        with pytest.raises(TimeoutError):
            await stream.receive_event(timeout=0.3)


# --- resume ---------------------------------------------------------------------


async def resumable(req: lanner.Request) -> AsyncIterator[lanner.SSEvent]:
    """Five numbered events, starting after the client's Last-Event-ID."""
    last = req.last_event_id
    for n in range(int(last) + 1 if last else 1, 6):
        yield lanner.SSEvent(text=f"event {n}", event_id=str(n))


@pytest.mark.parametrize(
    ("headers", "expected_ids"),
    [({}, ["1", "2", "3", "4", "5"]), ({"Last-Event-ID": "3"}, ["4", "5"])],
)
async def test_a_generator_resumes_after_last_event_id(
    headers: dict[str, str], expected_ids: list[str]
) -> None:
    app, _ = app_with(resumable)
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_get("/feed", headers=headers)
    assert [event.event_id for event in result.events] == expected_ids
    assert [event.data for event in result.events] == [f"event {n}" for n in expected_ids]


async def test_last_event_id_is_none_without_the_header() -> None:
    seen: list[str | None] = []

    async def events(req: lanner.Request) -> AsyncIterator[lanner.SSEvent]:
        seen.append(req.last_event_id)
        yield lanner.SSEvent(text="x")

    app, _ = app_with(events)
    async with ASGIConductor(app) as conductor:
        await conductor.simulate_get("/feed")
        await conductor.simulate_get("/feed", headers={"last-event-id": "abc"})
    assert seen == [None, "abc"]


# --- failures -------------------------------------------------------------------


class Boom(Exception):
    """What the failing generator raises."""


async def failing(req: lanner.Request) -> AsyncIterator[lanner.SSEvent]:
    yield lanner.SSEvent(text="before")
    raise Boom("the feed broke")


async def test_a_generator_raising_ends_the_stream_and_logs_one_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, feed = app_with(failing)
    caplog.set_level(logging.ERROR, logger="lanner")
    async with ASGIConductor(app) as conductor:
        baseline = other_tasks()
        result = await conductor.simulate_get("/feed")
        assert other_tasks() == baseline
    assert result.status_code == 200
    assert result.events == [ParsedEvent(data="before")]
    assert feed.finalised == 1
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    (record,) = errors
    assert record.name == "lanner"
    assert "GET /feed" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], Boom)
    assert "the feed broke" in caplog.text  # the traceback is in the log


async def test_a_live_reader_sees_the_end_of_a_failed_stream(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, _ = app_with(failing)
    async with ASGIConductor(app) as conductor, conductor.simulate_sse("/feed") as stream:
        assert [event.data async for event in stream.events()] == ["before"]
        assert stream.ended
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], Boom)


async def test_yielding_something_other_than_an_event_is_logged_as_a_type_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def events(req: lanner.Request) -> AsyncIterator[Any]:
        yield "not an event"

    app, feed = app_with(events)
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_get("/feed")
    assert result.content == b""
    assert feed.finalised == 1
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], TypeError)
    assert "SSEvent(text=...)" in str(record.exc_info[1])


async def test_an_http_error_before_resp_sse_is_a_normal_json_error() -> None:
    class Guarded:
        async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
            raise lanner.HTTPForbidden(title="No feed", description="Sign in first.")

    app = lanner.App()
    app.add_route("/guarded", Guarded())
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_get("/guarded")
    assert result.status_code == 403
    assert result.headers["content-type"] == "application/json"
    assert result.json == {"title": "No feed", "description": "Sign in first."}


async def test_middleware_runs_around_an_sse_route() -> None:
    calls: list[str] = []

    class Tracer:
        async def process_request(self, req: lanner.Request, resp: lanner.Response) -> None:
            calls.append("request")

        async def process_response(
            self, req: lanner.Request, resp: lanner.Response, resource: object, ok: bool
        ) -> None:
            calls.append(f"response ok={ok} sse={resp.sse is not None}")
            resp.set_header("X-Traced", "yes")

    async def events(req: lanner.Request) -> AsyncIterator[lanner.SSEvent]:
        calls.append("generator")
        yield lanner.SSEvent(text="x")

    app = lanner.App(middleware=Tracer())
    app.add_route("/feed", Feed(events))
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_get("/feed")
    # process_response runs before the stream starts: it can still set headers.
    assert calls == ["request", "response ok=True sse=True", "generator"]
    assert result.headers["x-traced"] == "yes"
    assert result.events == [ParsedEvent(data="x")]


# --- the sync reader ------------------------------------------------------------


def test_test_client_reads_a_live_stream_and_disconnects_on_exit() -> None:
    async def events(req: lanner.Request) -> AsyncIterator[lanner.SSEvent]:
        yield lanner.SSEvent(text="one", event_id="1")
        yield lanner.SSEvent(text="two", event_id="2")
        await never()
        yield lanner.SSEvent(text="unreachable")

    app, feed = app_with(events)
    with TestClient(app) as client:
        with client.simulate_get_stream("/feed") as stream:
            assert stream.status_code == 200
            assert stream.headers["x-accel-buffering"] == "no"
            assert stream.receive_event() == ParsedEvent(data="one", event_id="1")
            assert stream.receive_event() == ParsedEvent(data="two", event_id="2")
            with pytest.raises(TimeoutError):
                stream.receive_event(timeout=0.05)
            assert feed.finalised == 0
        assert feed.finalised == 1


def test_test_client_events_until_the_stream_ends() -> None:
    app, feed = app_with(resumable)
    with (
        TestClient(app) as client,
        client.simulate_sse("/feed", headers={"Last-Event-ID": "2"}) as stream,
    ):
        assert [event.event_id for event in stream.events()] == ["3", "4", "5"]
    assert feed.finalised == 1


def test_test_client_pings_and_bytes() -> None:
    async def events(req: lanner.Request) -> AsyncIterator[lanner.SSEvent]:
        yield lanner.SSEvent(text="ready")
        await never()
        yield lanner.SSEvent(text="unreachable")

    app, _ = app_with(events, ping_interval=0.05)
    with TestClient(app) as client, client.simulate_get_stream("/feed") as stream:
        assert stream.receive_bytes() == b"data: ready\n\n"
        assert stream.receive_event(timeout=1.0) == PING


def test_closing_the_test_client_disconnects_an_open_stream() -> None:
    async def events(req: lanner.Request) -> AsyncIterator[lanner.SSEvent]:
        yield lanner.SSEvent(text="ready")
        await never()
        yield lanner.SSEvent(text="unreachable")

    app, feed = app_with(events)
    client = TestClient(app)
    stream = client.simulate_get_stream("/feed").__enter__()
    assert stream.receive_event().data == "ready"
    client.close()
    assert feed.finalised == 1
    with pytest.raises(RuntimeError, match="not open"):
        stream.receive_event()


async def test_conductor_exit_disconnects_a_stream_left_open() -> None:
    """Leaving the conductor closes the generator of a stream the test never left."""
    finalised = asyncio.Event()

    class Feed:
        async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
            async def events() -> AsyncIterator[lanner.SSEvent]:
                try:
                    yield lanner.SSEvent(text="first")
                    await asyncio.Event().wait()
                finally:
                    finalised.set()

            resp.sse = events()

    app = lanner.App(autoload_plugins=False)
    app.add_route("/feed", Feed())
    async with ASGIConductor(app) as conductor:
        stream = conductor.simulate_get_stream("/feed")
        await stream.__aenter__()
        assert (await stream.receive_event()).data == "first"
    assert finalised.is_set()
