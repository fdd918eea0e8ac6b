"""The hub on Redis through faults: Redis stopped, restarted (history lost) and frozen.

Each test prints its figure (``-s`` shows them; the issue note records them).
Deadlines are liveness bounds with wide margins, never speed targets.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest

from lanner import BroadcastMessage, BroadcastUnavailable
from lanner.broadcast.subscription import Subscription
from lanner.testing import ASGIConductor
from tests.plugins._redis import RedisServer, broadcast_app, partition

PUBLISH_TIMEOUT = 0.5
# What "within the publish timeout" allows on a loaded two-core CI machine.
SLACK = 1.5
SUBSCRIBERS = 50
DEADLINE = 15.0


async def _next(sub: Subscription) -> BroadcastMessage:
    return await asyncio.wait_for(anext(sub), DEADLINE)


@contextlib.asynccontextmanager
async def _subscribers(app: object, count: int, channel: str) -> AsyncIterator[list[Subscription]]:
    hub = app.broadcast  # type: ignore[attr-defined]
    async with contextlib.AsyncExitStack() as stack:
        yield [await stack.enter_async_context(hub.subscribe(channel)) for _ in range(count)]


async def _read_until(sub: Subscription, text: str) -> list[BroadcastMessage]:
    """Read ``sub`` until a message with ``text``; return what came (gap markers included)."""
    seen: list[BroadcastMessage] = []
    while not seen or seen[-1].text != text:
        seen.append(await anext(sub))
    return seen


async def _until_delivered(app: object, subs: list[Subscription], text: str) -> float:
    """Publish ``text`` every 50 ms until every subscriber got it; return the seconds taken."""
    hub = app.broadcast  # type: ignore[attr-defined]
    started = time.monotonic()
    pending = [asyncio.ensure_future(_read_until(sub, text)) for sub in subs]
    try:
        while not all(task.done() for task in pending):
            assert time.monotonic() - started < DEADLINE, "subscribers got nothing new"
            with contextlib.suppress(BroadcastUnavailable):
                await hub.publish("chat", text=text)
            await asyncio.wait(pending, timeout=0.05)
        for task in pending:
            task.result()  # raises what a reader raised
    finally:
        for task in pending:
            task.cancel()
    return time.monotonic() - started


async def _reconnected(app: object, count: int) -> None:
    """Wait until the hub has reconnected ``count`` times in all."""
    hub = app.broadcast  # type: ignore[attr-defined]
    started = time.monotonic()
    while hub.stats()["reconnects"] < count:
        assert time.monotonic() - started < DEADLINE, "the hub did not reconnect"
        await asyncio.sleep(0.02)


async def test_redis_stopped_publish_fails_fast_and_no_subscriber_ends(
    redis_server: RedisServer,
) -> None:
    app = broadcast_app(f"{redis_server.url}?publish_timeout={PUBLISH_TIMEOUT}")
    async with ASGIConductor(app), _subscribers(app, SUBSCRIBERS, "chat") as subs:
        hub = app.broadcast
        await hub.publish("chat", text="before")
        assert [(await _next(sub)).text for sub in subs] == ["before"] * SUBSCRIBERS
        redis_server.stop()
        started = time.monotonic()
        with pytest.raises(BroadcastUnavailable):
            await hub.publish("chat", text="while stopped")
        took = time.monotonic() - started
        print(f"\nredis stopped: publish raised BroadcastUnavailable after {took * 1000:.1f} ms")
        assert took < PUBLISH_TIMEOUT + SLACK
        await asyncio.sleep(0.5)  # the reader notices and starts reconnecting
        assert not any(sub.ended for sub in subs)
        redis_server.start()
        await _until_delivered(app, subs, "after")
        assert not any(sub.ended for sub in subs)
        assert hub.stats()["subscribers"] == SUBSCRIBERS


async def test_redis_restarted_subscribers_get_new_messages_and_reconnects_count(
    redis_server: RedisServer,
) -> None:
    app = broadcast_app(redis_server.url)
    async with ASGIConductor(app), _subscribers(app, 5, "chat") as subs:
        hub = app.broadcast
        await _until_delivered(app, subs, "before")
        before = hub.stats()["reconnects"]
        redis_server.restart()
        took = await _until_delivered(app, subs, "after the restart")
        print(f"\nredis restarted: subscribers had new messages {took:.2f} s after it answered")
        assert took < 5.0
        assert hub.stats()["reconnects"] == before + 1
        assert not any(sub.ended for sub in subs)


async def test_history_lost_with_a_restart_resumes_with_a_gap(redis_server: RedisServer) -> None:
    app = broadcast_app(redis_server.url)
    async with ASGIConductor(app):
        hub = app.broadcast
        old = await hub.publish("chat", text="lost with the restart")
        async with hub.subscribe("chat"):  # the hub reads "chat", so it sees the restart
            redis_server.restart()
            await _reconnected(app, 1)
        async with hub.subscribe("chat", last_event_id=old) as sub:
            first = await _next(sub)
            assert first.gap
            assert first.channel == "chat"
            new = await hub.publish("chat", text="after")
            second = await _next(sub)
            assert (second.gap, second.id, second.text) == (False, new, "after")


async def test_frozen_redis_blocks_neither_the_loop_nor_local_work(
    redis_server: RedisServer,
) -> None:
    app = broadcast_app(f"{redis_server.url}?publish_timeout={PUBLISH_TIMEOUT}")
    async with ASGIConductor(app) as conductor, _subscribers(app, 5, "chat") as subs:
        hub = app.broadcast
        await _until_delivered(app, subs, "before")
        lags: list[float] = []

        async def tick() -> None:
            while True:
                started = time.monotonic()
                await asyncio.sleep(0.01)
                lags.append(time.monotonic() - started - 0.01)

        ticker = asyncio.ensure_future(tick())
        redis_server.pause()
        try:
            started = time.monotonic()
            with pytest.raises(BroadcastUnavailable):
                await hub.publish("chat", text="frozen")
            publish_took = time.monotonic() - started
            # Local work goes on: the app still answers, a new channel's subscribe is bounded.
            started = time.monotonic()
            reply = await conductor.simulate_get("/no-such-route")
            http_took = time.monotonic() - started
            started = time.monotonic()
            with contextlib.suppress(BroadcastUnavailable):
                async with hub.subscribe("other"):
                    pass
            subscribe_took = time.monotonic() - started
            # Long enough for the reader's read to time out and the hub to retry.
            await asyncio.sleep(PUBLISH_TIMEOUT * 2 + 3.5)
        finally:
            redis_server.resume()
            ticker.cancel()
        worst = max(lags)
        print(
            f"\nredis frozen: publish raised after {publish_took * 1000:.0f} ms, "
            f"an HTTP request took {http_took * 1000:.1f} ms, a subscribe "
            f"{subscribe_took * 1000:.0f} ms, worst event-loop lag {worst * 1000:.1f} ms"
        )
        assert reply.status_code == 404
        assert publish_took < PUBLISH_TIMEOUT + SLACK
        assert subscribe_took < 2 * PUBLISH_TIMEOUT + SLACK
        assert worst < PUBLISH_TIMEOUT + SLACK  # a blocking call would stall it for seconds
        assert not any(sub.ended for sub in subs)
        await _until_delivered(app, subs, "thawed")


async def test_a_partition_longer_than_the_history_reaches_subscribers_as_a_gap(
    redis_server: RedisServer,
) -> None:
    """Cut one worker off Redis while another publishes more than the history."""
    with partition(redis_server) as link:
        cut_off = broadcast_app(f"{link.url}?history=3")
        other = broadcast_app(f"{redis_server.url}?history=3")
        async with (
            ASGIConductor(cut_off),
            ASGIConductor(other),
            cut_off.broadcast.subscribe("chat") as sub,
        ):
            before = await other.broadcast.publish("chat", text="before")
            assert (await _next(sub)).id == before
            link.cut()
            for n in range(10):
                await other.broadcast.publish("chat", text=f"missed {n}")
            link.heal()
            await _reconnected(cut_off, 1)
            first = await _next(sub)
            assert first.gap
            replayed = [m.text for m in sub.drain()]
            assert replayed == ["missed 7", "missed 8", "missed 9"]
            after = await other.broadcast.publish("chat", text="after")
            assert (await _next(sub)).id == after
            assert not sub.ended


async def test_a_short_partition_loses_nothing(redis_server: RedisServer) -> None:
    with partition(redis_server) as link:
        cut_off = broadcast_app(link.url)
        other = broadcast_app(redis_server.url)
        async with (
            ASGIConductor(cut_off),
            ASGIConductor(other),
            cut_off.broadcast.subscribe("chat") as sub,
        ):
            await other.broadcast.publish("chat", text="before")
            await _next(sub)
            link.cut()
            sent = [await other.broadcast.publish("chat", text=f"m{n}") for n in range(5)]
            link.heal()
            got = [await _next(sub) for _ in sent]
            assert [m.id for m in got] == sent
            assert not any(m.gap for m in got)
            assert cut_off.broadcast.stats()["reconnects"] >= 1
