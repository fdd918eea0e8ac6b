"""hub.sse(...): channels as Server-Sent Events that resume from Last-Event-ID, in process."""

from __future__ import annotations

import base64

import lanner
from lanner.testing import ASGIConductor
from tests._broadcast_helpers import subscribers


class Feed:
    def __init__(self, app: lanner.App, channels: tuple[str, ...], backlog: int = 256) -> None:
        self.app = app
        self.channels = channels
        self.backlog = backlog

    async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
        resp.sse = self.app.broadcast.sse(
            *self.channels, last_event_id=req.last_event_id, backlog=self.backlog
        )


def _feed_app(*channels: str, history: int = 1000, backlog: int = 256) -> lanner.App:
    app = lanner.App(autoload_plugins=False, broadcast=f"memory://?history={history}")
    app.add_route("/feed", Feed(app, channels or ("news",), backlog))
    return app


async def test_messages_become_events_with_the_message_id() -> None:
    app = _feed_app()
    async with ASGIConductor(app) as c, c.simulate_get_stream("/feed") as stream:
        await subscribers(app, 1)
        first = await app.broadcast.publish("news", text="line one\nline two", event="story")
        second = await app.broadcast.publish("news", {"n": 1})
        one = await stream.receive_event()
        two = await stream.receive_event()
    assert (one.data, one.event, one.event_id) == ("line one\nline two", "story", first)
    assert (two.data, two.event, two.event_id) == ('{"n":1}', None, second)


async def test_binary_messages_are_base64_encoded() -> None:
    app = _feed_app()
    async with ASGIConductor(app) as c, c.simulate_get_stream("/feed") as stream:
        await subscribers(app, 1)
        await app.broadcast.publish("news", data=b"\x00\xffbin")
        event = await stream.receive_event()
    assert base64.b64decode(event.data) == b"\x00\xffbin"


async def test_a_reconnect_with_last_event_id_resumes_exactly() -> None:
    app = _feed_app()
    async with ASGIConductor(app) as c:
        async with c.simulate_get_stream("/feed") as stream:
            await subscribers(app, 1)
            for n in range(3):
                await app.broadcast.publish("news", text=f"m{n}")
            seen = [await stream.receive_event() for _ in range(2)]
        # The client left after m1; m2 and m3 are published while it is away.
        await app.broadcast.publish("news", text="m3")
        headers = {"Last-Event-ID": seen[-1].event_id or ""}
        async with c.simulate_get_stream("/feed", headers=headers) as stream:
            resumed = [await stream.receive_event() for _ in range(2)]
            await app.broadcast.publish("news", text="m4")
            resumed.append(await stream.receive_event())
    assert [e.data for e in seen + resumed] == ["m0", "m1", "m2", "m3", "m4"]


async def test_one_id_resumes_every_channel() -> None:
    app = _feed_app("a", "b", "c")
    async with ASGIConductor(app) as c:
        async with c.simulate_get_stream("/feed") as stream:
            await subscribers(app, 1)
            await app.broadcast.publish("a", text="a0")
            await app.broadcast.publish("b", text="b0")
            seen = [await stream.receive_event() for _ in range(2)]
        # c had no message at all before the client left: it resumes from its start.
        for text in ("a1", "c0", "b1", "a2"):
            await app.broadcast.publish(text[0], text=text)
        headers = {"Last-Event-ID": seen[-1].event_id or ""}
        async with c.simulate_get_stream("/feed", headers=headers) as stream:
            resumed = [await stream.receive_event() for _ in range(4)]
    assert [e.data for e in seen] == ["a0", "b0"]
    by_channel = {ch: [e.data for e in resumed if e.data[0] == ch] for ch in "abc"}
    assert by_channel == {"a": ["a1", "a2"], "b": ["b1"], "c": ["c0"]}
    assert all("\n" not in (e.event_id or "") for e in resumed)


async def test_a_resume_older_than_history_starts_with_a_gap_event() -> None:
    app = _feed_app(history=2)
    async with ASGIConductor(app) as c:
        ids = [await app.broadcast.publish("news", text=f"m{n}") for n in range(6)]
        headers = {"Last-Event-ID": ids[0]}
        async with c.simulate_get_stream("/feed", headers=headers) as stream:
            gap = await stream.receive_event()
            kept = [await stream.receive_event() for _ in range(2)]
    assert (gap.event, gap.data, gap.event_id) == ("gap", "news", ids[0])
    assert [e.data for e in kept] == ["m4", "m5"]


async def test_a_garbled_last_event_id_on_several_channels_is_a_gap_on_each() -> None:
    app = _feed_app("a", "b")
    async with ASGIConductor(app) as c:
        await app.broadcast.publish("a", text="a0")
        headers = {"Last-Event-ID": "%zz&&"}
        async with c.simulate_get_stream("/feed", headers=headers) as stream:
            events = [await stream.receive_event() for _ in range(3)]
    assert sorted((e.event or "", e.data) for e in events) == [
        ("", "a0"),
        ("gap", "a"),
        ("gap", "b"),
    ]


async def test_a_slow_stream_ends_and_its_reconnect_misses_nothing() -> None:
    app = _feed_app(backlog=3)
    async with ASGIConductor(app) as c:
        async with c.simulate_get_stream("/feed") as stream:
            await subscribers(app, 1)
            await app.broadcast.publish("news", text="m0")
            first = await stream.receive_event()
            for n in range(1, 10):  # a burst the stream cannot take: it is ended
                await app.broadcast.publish("news", text=f"m{n}")
            async for _ in stream.events():
                pass
        assert app.broadcast.stats()["closed_slow"] == 1
        headers = {"Last-Event-ID": first.event_id or ""}
        async with c.simulate_get_stream("/feed", headers=headers) as stream:
            rest = [await stream.receive_event() for _ in range(9)]
    assert [e.data for e in rest] == [f"m{n}" for n in range(1, 10)]


async def test_shutdown_ends_the_stream() -> None:
    app = _feed_app()
    conductor = ASGIConductor(app)
    await conductor.__aenter__()
    stream = conductor.simulate_get_stream("/feed")
    await stream.__aenter__()
    await subscribers(app, 1)
    await app.broadcast.close()  # what lifespan shutdown does
    events = [event async for event in stream.events()]
    assert events == []
    assert stream.ended
    await stream.__aexit__(None, None, None)
    await conductor.__aexit__(None, None, None)
