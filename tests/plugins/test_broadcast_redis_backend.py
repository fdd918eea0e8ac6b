"""RedisBackend against a real, private redis-server: publish, read, history and gaps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

import lanner
from lanner import BroadcastMessage, BroadcastUnavailable
from lanner_broadcast_redis import LIVE_MINIMUM, RedisBackend, make_backend
from tests.plugins._redis import TLS_CERT, RedisServer, running_redis

DEADLINE = 10.0


def _backend(url: str) -> RedisBackend:
    backend = make_backend(url, lanner.App())
    assert isinstance(backend, RedisBackend)
    return backend


async def _next(messages: AsyncIterator[BroadcastMessage]) -> BroadcastMessage:
    return await asyncio.wait_for(anext(messages), DEADLINE)


async def test_a_message_published_by_one_process_reaches_another(
    redis_server: RedisServer,
) -> None:
    sender, receiver = _backend(redis_server.url), _backend(redis_server.url)
    await sender.connect()
    await receiver.connect()
    try:
        await receiver.subscribe("room")
        messages = receiver.messages()
        first = await sender.publish("room", "hello", None)
        second = await sender.publish("room", b"\x00\xff", "blob")
        got = [await _next(messages), await _next(messages)]
        assert [(m.id, m.channel, m.payload, m.event) for m in got] == [
            (first, "room", "hello", None),
            (second, "room", b"\x00\xff", "blob"),
        ]
        assert got[0].text == "hello"
        assert got[1].data == b"\x00\xff"
    finally:
        await sender.close()
        await receiver.close()


async def test_text_and_events_round_trip_whatever_they_hold(redis_server: RedisServer) -> None:
    backend = _backend(redis_server.url)
    await backend.connect()
    try:
        start = await backend.last_id("c")
        odd = "caf\u00e9 \U0001f600 \ud800 \x00end"
        await backend.publish("c", odd, "\udfff\u00e9v")
        await backend.publish("c", b"", None)
        await backend.publish("c", "", "")
        got = [(m.payload, m.event) for m in await backend.history("c", start)]
        assert got == [(odd, "\udfff\u00e9v"), (b"", None), ("", "")]
    finally:
        await backend.close()


async def test_ids_are_stream_ids_in_publish_order(redis_server: RedisServer) -> None:
    backend = _backend(redis_server.url)
    await backend.connect()
    try:
        ids = [await backend.publish("c", str(n), None) for n in range(5)]
        pairs = [tuple(int(part) for part in i.split("-")) for i in ids]
        assert pairs == sorted(pairs)
        assert len(set(ids)) == 5
        assert await backend.last_id("c") == ids[-1]
        assert await backend.last_id("never-published") == "0-0"
    finally:
        await backend.close()


async def test_a_channel_subscribed_while_the_read_is_blocked_is_read(
    redis_server: RedisServer,
) -> None:
    backend = _backend(redis_server.url)
    await backend.connect()
    try:
        await backend.subscribe("first")
        messages = backend.messages()
        pending = asyncio.ensure_future(anext(messages))
        await asyncio.sleep(0.2)  # the read is now blocked on "first" alone
        await backend.subscribe("second")
        sent = await backend.publish("second", "late", None)
        got = await asyncio.wait_for(pending, DEADLINE)
        assert (got.channel, got.id, got.text) == ("second", sent, "late")
    finally:
        await backend.close()


async def test_nothing_published_after_subscribe_returns_is_missed(
    redis_server: RedisServer,
) -> None:
    backend = _backend(redis_server.url)
    await backend.connect()
    try:
        await backend.publish("c", "before", None)
        await backend.subscribe("c")
        sent = [await backend.publish("c", f"m{n}", None) for n in range(3)]
        messages = backend.messages()  # started only now: the positions were kept
        assert [(await _next(messages)).id for _ in sent] == sent
    finally:
        await backend.close()


async def test_unsubscribed_channels_are_no_longer_read(redis_server: RedisServer) -> None:
    backend = _backend(redis_server.url)
    await backend.connect()
    try:
        await backend.subscribe("a")
        await backend.subscribe("b")
        await backend.unsubscribe("a")
        await backend.unsubscribe("not-subscribed")
        messages = backend.messages()
        await backend.publish("a", "dropped", None)
        kept = await backend.publish("b", "kept", None)
        assert (await _next(messages)).id == kept
    finally:
        await backend.close()


async def test_history_replays_what_came_after_an_id(redis_server: RedisServer) -> None:
    backend = _backend(redis_server.url)
    await backend.connect()
    try:
        ids = [await backend.publish("c", f"m{n}", "e") for n in range(4)]
        replay = await backend.history("c", ids[1])
        assert [(m.id, m.text, m.event, m.gap) for m in replay] == [
            (ids[2], "m2", "e", False),
            (ids[3], "m3", "e", False),
        ]
        assert await backend.history("c", ids[-1]) == []
    finally:
        await backend.close()


async def test_history_older_than_kept_starts_with_a_gap(redis_server: RedisServer) -> None:
    backend = _backend(redis_server.url + "?history=5")
    await backend.connect()
    try:
        ids = [await backend.publish("c", str(n), None) for n in range(LIVE_MINIMUM * 3)]
        replay = await backend.history("c", ids[0])
        assert replay[0].gap
        assert replay[0].id == ids[0]
        assert [m.id for m in replay[1:]] == ids[-5:]
        # Just behind the newest entries: nothing lost, no gap.
        assert [m.id for m in await backend.history("c", ids[-3])] == ids[-2:]
    finally:
        await backend.close()


@pytest.mark.parametrize("after_id", ["bogus", "99999999999999-0"])
async def test_history_from_an_id_the_stream_never_gave_is_a_gap(
    redis_server: RedisServer, after_id: str
) -> None:
    backend = _backend(redis_server.url)
    await backend.connect()
    try:
        kept = await backend.publish("c", "x", None)
        replay = await backend.history("c", after_id)
        assert [(m.gap, m.id) for m in replay] == [(True, after_id), (False, kept)]
    finally:
        await backend.close()


async def test_history_from_before_the_first_message_replays_all(
    redis_server: RedisServer,
) -> None:
    backend = _backend(redis_server.url)
    await backend.connect()
    try:
        start = await backend.last_id("c")
        assert await backend.history("c", start) == []
        ids = [await backend.publish("c", str(n), None) for n in range(3)]
        assert [(m.gap, m.id) for m in await backend.history("c", start)] == [
            (False, i) for i in ids
        ]
    finally:
        await backend.close()


async def test_history_zero_replays_nothing_and_reports_a_gap(redis_server: RedisServer) -> None:
    backend = _backend(redis_server.url + "?history=0")
    await backend.connect()
    try:
        first = await backend.publish("c", "a", None)
        await backend.publish("c", "b", None)
        replay = await backend.history("c", first)
        assert [(m.gap, m.id) for m in replay] == [(True, first)]
    finally:
        await backend.close()


async def test_history_lost_with_a_restart_is_a_gap(redis_server: RedisServer) -> None:
    backend = _backend(redis_server.url)
    await backend.connect()
    old = await backend.publish("c", "before the restart", None)
    await backend.close()
    redis_server.restart()
    await backend.connect()
    try:
        assert [(m.gap, m.id) for m in await backend.history("c", old)] == [(True, old)]
        new = await backend.publish("c", "after the restart", None)
        replay = await backend.history("c", old)
        assert [(m.gap, m.id) for m in replay] == [(True, old), (False, new)]
    finally:
        await backend.close()


async def test_the_stream_is_capped_near_the_history(redis_server: RedisServer) -> None:
    backend = _backend(redis_server.url + "?history=300&key_prefix=app:")
    await backend.connect()
    try:
        for n in range(2000):
            await backend.publish("c", str(n), None)
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(redis_server.url)
        try:
            length = await client.xlen("app:c")
        finally:
            await client.aclose()
        # MAXLEN ~ trims whole nodes (100 entries each by default): at least 300 kept.
        assert 300 <= length < 2000
    finally:
        await backend.close()


async def test_calls_before_connect_say_so(redis_server: RedisServer) -> None:
    backend = _backend(redis_server.url)
    with pytest.raises(BroadcastUnavailable, match="not connected"):
        await backend.publish("c", "x", None)
    with pytest.raises(BroadcastUnavailable, match="not connected"):
        await anext(backend.messages())


async def test_connect_to_nothing_is_unavailable_within_the_timeout() -> None:
    from tests.plugins._redis import free_port

    backend = _backend(f"redis://127.0.0.1:{free_port()}?publish_timeout=0.5")
    with pytest.raises(BroadcastUnavailable, match="cannot be reached"):
        await backend.connect()


async def test_close_ends_a_blocked_read(redis_server: RedisServer) -> None:
    backend = _backend(redis_server.url)
    await backend.connect()
    await backend.subscribe("c")
    messages = backend.messages()
    pending = asyncio.ensure_future(anext(messages))
    await asyncio.sleep(0.1)
    await backend.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(pending, DEADLINE)


async def test_rediss_speaks_tls_and_checks_the_certificate() -> None:
    with running_redis(tls=True) as server:
        trusted = _backend(f"{server.url}?ssl_ca_certs={TLS_CERT}")
        await trusted.connect()
        try:
            await trusted.subscribe("c")
            messages = trusted.messages()
            sent = await trusted.publish("c", "over TLS", None)
            assert (await _next(messages)).id == sent
        finally:
            await trusted.close()
        unchecked = _backend(f"{server.url}?ssl_cert_reqs=none")  # tests only
        await unchecked.connect()
        try:
            assert await unchecked.publish("c", "unchecked", None)
        finally:
            await unchecked.close()
        untrusted = _backend(f"{server.url}?publish_timeout=2")  # the system CAs only
        with pytest.raises(BroadcastUnavailable, match=r"(?i)certificate"):
            await untrusted.connect()
        plain = _backend(f"redis://127.0.0.1:{server.port}?publish_timeout=1")
        with pytest.raises(BroadcastUnavailable):
            await plain.connect()


async def test_a_close_during_connect_wins(redis_server: RedisServer) -> None:
    backend = _backend(redis_server.url)
    connecting = asyncio.ensure_future(backend.connect())
    await asyncio.sleep(0)  # connect() now waits for Redis
    await backend.close()
    with pytest.raises(BroadcastUnavailable, match="closed while it connected"):
        await connecting
    with pytest.raises(BroadcastUnavailable, match="not connected"):
        await anext(backend.messages())
