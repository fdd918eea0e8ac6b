"""The conformance kit for broadcast backends: named checks any backend must pass.

A backend author runs every check against their factory; the built-in
``memory://`` backend and the Redis plugin run the same ones::

    import pytest
    from lanner.testing import broadcast_checks
    from my_backend import factory

    CHECKS = broadcast_checks(factory, "nats://localhost:4222")

    @pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.name)
    async def test_conformance(check):
        await check()

Each check builds its own hub on a fresh backend from ``factory(url, app)``
(adding URL options such as ``history=5`` where it needs them), uses channel
names of its own, and closes everything it opened. The reconnect checks stage a
lost connection by closing and reconnecting the backend; pass ``sever`` to cut
it for real instead (for Redis, kill the client's connection).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final
from urllib.parse import parse_qsl, urlencode

from lanner.broadcast.backend import (
    BackendFactory,
    BroadcastMessage,
    BroadcastUnavailable,
    SubscriberTooSlow,
    read_broadcast_url,
)
from lanner.broadcast.hub import Broadcast
from lanner.broadcast.subscription import Subscription
from lanner.testing._broadcast_proxy import FaultyBackend, Sever

if TYPE_CHECKING:
    from lanner.app import App

__all__ = ["BroadcastCheck", "broadcast_checks"]

DEFAULT_TIMEOUT: Final = 10.0

_TRIMMED: Final = 250
"""Messages published where a check needs a short history to have lost some."""


@dataclass(frozen=True)
class BroadcastCheck:
    """One named conformance check, bound to a backend factory; ``await check()`` runs it.

    Attributes:
        name: A short identifier, fit for a pytest id.
        description: What the check asserts.
    """

    name: str
    description: str
    _run: Callable[[], Awaitable[None]]

    async def __call__(self) -> None:
        """Run the check; raise ``AssertionError`` (or the error met) on failure."""
        await self._run()

    def __repr__(self) -> str:
        return f"<BroadcastCheck {self.name}>"


@dataclass(frozen=True)
class _Env:
    factory: BackendFactory
    url: str
    sever: Sever | None
    timeout: float

    @asynccontextmanager
    async def hub(self, **options: object) -> AsyncIterator[tuple[Broadcast, FaultyBackend]]:
        from lanner.app import App

        url = _with_options(self.url, options)
        app: App = App(autoload_plugins=False)
        backend = FaultyBackend(self.factory(url, app), self.sever)
        hub = Broadcast(backend, read_broadcast_url(url, None), app)
        await asyncio.wait_for(hub.connect(), self.timeout)
        try:
            yield hub, backend
        finally:
            await asyncio.wait_for(hub.close(), self.timeout)

    async def take(self, sub: Subscription, count: int) -> list[BroadcastMessage]:
        async def read() -> list[BroadcastMessage]:
            return [await sub.next() for _ in range(count)]

        return await asyncio.wait_for(read(), self.timeout)

    async def until(self, condition: Callable[[], bool], what: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while not condition():
            if loop.time() > deadline:
                raise AssertionError(f"Timed out after {self.timeout} s waiting until {what}.")
            await asyncio.sleep(0.01)


_Check = Callable[[_Env], Awaitable[None]]
_CHECKS: list[tuple[str, _Check]] = []


def _check(func: _Check) -> _Check:
    _CHECKS.append((func.__name__.removeprefix("check_"), func))
    return func


def broadcast_checks(
    factory: BackendFactory,
    url: str,
    *,
    sever: Sever | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[BroadcastCheck]:
    """Return every conformance check, bound to ``factory`` and ``url``.

    Args:
        factory: The backend factory, called as ``factory(url, app)`` once per check.
        url: The backend URL (checks add their own query options to it).
        sever: ``async sever(backend)`` cuts that backend's connection for
            real; without it the reconnect checks stage the loss by closing and
            reconnecting the backend.
        timeout: Seconds any single wait may take before the check fails.
    """
    env = _Env(factory, url, sever, timeout)
    return [
        BroadcastCheck(name, (func.__doc__ or "").strip(), _bind(func, env))
        for name, func in _CHECKS
    ]


def _bind(func: _Check, env: _Env) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        await func(env)

    return run


def _with_options(url: str, options: dict[str, object]) -> str:
    if not options:
        return url
    base, _, raw_query = url.partition("?")
    query = dict(parse_qsl(raw_query, keep_blank_values=True))
    query.update({name: str(value) for name, value in options.items()})
    return f"{base}?{urlencode(query)}"


def _channel(label: str) -> str:
    return f"kit-{label}-{secrets.token_hex(4)}"


def _texts(messages: list[BroadcastMessage]) -> list[str | None]:
    return [m.text for m in messages]


# -- the checks, in the order they run -------------------------------------------


@_check
async def check_order_and_no_duplicates(env: _Env) -> None:
    """Per channel, every subscriber sees every message once, in publish order."""
    a, b = _channel("order-a"), _channel("order-b")
    async with env.hub() as (hub, _), hub.subscribe(a) as s1, hub.subscribe(a, b) as s2:
        ids = []
        for n in range(100):
            ids.append(await hub.publish(a, text=f"a{n}"))
            await hub.publish(b, text=f"b{n}")
        got1 = await env.take(s1, 100)
        got2 = await env.take(s2, 200)
    assert [m.id for m in got1] == ids, "s1 saw other ids or another order"
    assert _texts(got1) == [f"a{n}" for n in range(100)]
    assert [m.text for m in got2 if m.channel == a] == [f"a{n}" for n in range(100)]
    assert [m.text for m in got2 if m.channel == b] == [f"b{n}" for n in range(100)]
    assert len(set(ids)) == 100, "message ids are not unique"


@_check
async def check_payloads_round_trip(env: _Env) -> None:
    """Text, binary, event names and media arrive as published."""
    channel = _channel("payload")
    async with env.hub() as (hub, _), hub.subscribe(channel) as sub:
        await hub.publish(channel, text="héllo\n", event="greeting")
        await hub.publish(channel, data=b"\x00\xff bytes")
        await hub.publish(channel, {"n": 1, "s": "x"})
        text, data, media = await env.take(sub, 3)
    assert (text.text, text.data, text.event) == ("héllo\n", None, "greeting")
    assert (data.data, data.text, data.event) == (b"\x00\xff bytes", None, None)
    assert media.media == {"n": 1, "s": "x"}


@_check
async def check_every_later_publish_reaches_a_new_subscriber(env: _Env) -> None:
    """Once subscribe() is entered, the very next publish reaches it."""
    async with env.hub() as (hub, _):
        for n in range(20):
            channel = _channel(f"later{n}")
            async with hub.subscribe(channel) as sub:
                message_id = await hub.publish(channel, text="now")
                (got,) = await env.take(sub, 1)
            assert got.id == message_id


@_check
async def check_one_backend_subscription_per_channel(env: _Env) -> None:
    """Many local subscribers share one backend subscription per channel."""
    channel = _channel("shared")
    async with env.hub() as (hub, backend):
        async with hub.subscribe(channel) as first:
            subs = [hub.subscribe(channel) for _ in range(9)]
            entered = [await cm.__aenter__() for cm in subs]
            await hub.publish(channel, text="x")
            for sub in [first, *entered]:
                assert _texts(await env.take(sub, 1)) == ["x"]
            for cm in subs:
                await cm.__aexit__(None, None, None)
            assert backend.subscribe_calls.get(channel) == 1
            assert hub.stats()["subscribers"] == 1
        assert backend.unsubscribe_calls.get(channel) == 1
        assert hub.stats()["channels"] == 0


@_check
async def check_resume_without_gap_or_duplicate(env: _Env) -> None:
    """Resuming from a kept id replays what followed, then live, exactly once each."""
    channel = _channel("resume")
    async with env.hub() as (hub, _):
        ids = [await hub.publish(channel, text=f"m{n}") for n in range(10)]
        async with hub.subscribe(channel, last_event_id=ids[4]) as sub:
            await hub.publish(channel, text="m10")
            got = await env.take(sub, 6)
            assert _texts(got) == [f"m{n}" for n in range(5, 11)]
            assert not any(m.gap for m in got)
            await hub.publish(channel, text="m11")
            assert _texts(await env.take(sub, 1)) == ["m11"]


@_check
async def check_resume_while_publishing(env: _Env) -> None:
    """Resuming while another task publishes loses and repeats nothing."""
    channel = _channel("race")
    async with env.hub() as (hub, _):
        first = await hub.publish(channel, text="0")

        async def publisher() -> None:
            for n in range(1, 200):
                await hub.publish(channel, text=str(n))
                if n % 10 == 0:
                    await asyncio.sleep(0)

        task = asyncio.ensure_future(publisher())
        try:
            await asyncio.sleep(0)
            async with hub.subscribe(channel, last_event_id=first) as sub:
                await asyncio.wait_for(task, env.timeout)
                got = await env.take(sub, 199)
                assert _texts(got) == [str(n) for n in range(1, 200)]
                assert sub.drain() == []
        finally:
            task.cancel()
            await asyncio.wait([task])


@_check
async def check_gap_when_older_than_history(env: _Env) -> None:
    """An id older than the history gives a first message with gap=True, then what is kept."""
    channel = _channel("gap")
    # Enough messages that a backend trimming approximately (Redis "MAXLEN ~")
    # has dropped the oldest ones too.
    count = _TRIMMED
    async with env.hub(history=5) as (hub, _):
        ids = [await hub.publish(channel, text=f"m{n}") for n in range(count)]
        async with hub.subscribe(channel, last_event_id=ids[2]) as sub:
            first = await env.take(sub, 1)
            assert first[0].gap, f"expected a gap marker first, got {first[0]!r}"
            assert first[0].payload is None
            kept = sub.drain()
            await hub.publish(channel, text="live")
            (live,) = await env.take(sub, 1)
    texts = _texts(kept)
    assert 1 <= len(texts) < count - 3, f"history=5 kept {len(texts)} of {count} messages"
    assert texts == [f"m{n}" for n in range(count - len(texts), count)]
    assert live.text == "live"


@_check
async def check_unknown_id_is_a_gap(env: _Env) -> None:
    """An id the backend never issued resumes with a gap marker, not silently."""
    channel = _channel("unknown")
    async with env.hub() as (hub, _):
        await hub.publish(channel, text="kept")
        async with hub.subscribe(channel, last_event_id="no-such-id") as sub:
            marker, kept = await env.take(sub, 2)
    assert marker.gap
    assert kept.text == "kept"


@_check
async def check_history_zero(env: _Env) -> None:
    """history=0 replays nothing: a resume starts with a gap; live messages still flow."""
    channel = _channel("nohistory")
    async with env.hub(history=0) as (hub, _):
        last = await hub.publish(channel, text="old")
        async with hub.subscribe(channel, last_event_id=last) as sub:
            (marker,) = await env.take(sub, 1)
            assert marker.gap
            assert sub.drain() == []
            await hub.publish(channel, text="new")
            assert _texts(await env.take(sub, 1)) == ["new"]


@_check
async def check_overflow_close(env: _Env) -> None:
    """overflow="close": a subscriber backlog messages behind ends with SubscriberTooSlow."""
    channel = _channel("slow")
    async with (
        env.hub() as (hub, _),
        hub.subscribe(channel, backlog=5) as slow,
        hub.subscribe(channel) as fast,
    ):
        for n in range(20):
            await hub.publish(channel, text=str(n))
        assert _texts(await env.take(fast, 20)) == [str(n) for n in range(20)]
        try:
            await asyncio.wait_for(slow.next(), env.timeout)
        except SubscriberTooSlow:
            pass
        else:
            raise AssertionError("the slow subscriber was not closed")
        assert slow.ended
        assert hub.stats()["closed_slow"] == 1


@_check
async def check_overflow_drop_oldest(env: _Env) -> None:
    """overflow="drop-oldest": the newest backlog messages stay, the rest are counted."""
    channel = _channel("drop")
    async with (
        env.hub() as (hub, _),
        hub.subscribe(channel, backlog=5, overflow="drop-oldest") as sub,
    ):
        for n in range(20):
            await hub.publish(channel, text=str(n))
        await env.until(lambda: sub.dropped == 15, "15 messages were dropped")
        assert _texts(sub.drain()) == [str(n) for n in range(15, 20)]
        assert hub.stats()["dropped"] == 15


@_check
async def check_publishing_never_waits_for_a_subscriber(env: _Env) -> None:
    """999 healthy subscribers get every message while one never reads; its queue stays bounded."""
    channel = _channel("fanout")
    count, backlog = 30, 8
    async with env.hub() as (hub, _):
        cms = [hub.subscribe(channel, backlog=count + 1) for _ in range(999)]
        healthy = [await cm.__aenter__() for cm in cms]
        try:
            async with hub.subscribe(channel, backlog=backlog, overflow="drop-oldest") as stalled:
                published = [
                    await asyncio.wait_for(hub.publish(channel, text=str(n)), env.timeout)
                    for n in range(count)
                ]
                await env.until(
                    lambda: stalled.dropped == count - backlog,
                    f"the stalled subscriber dropped {count - backlog}",
                )
                for sub in healthy:
                    assert [m.id for m in sub.drain()] == published
                assert [m.id for m in stalled.drain()] == published[-backlog:]
        finally:
            for cm in cms:
                await cm.__aexit__(None, None, None)


@_check
async def check_publish_unavailable_is_bounded(env: _Env) -> None:
    """A backend that does not answer makes publish raise BroadcastUnavailable in time."""
    channel = _channel("stall")
    async with env.hub(publish_timeout=0.2) as (hub, backend):
        backend.stall_publish = True
        try:
            await asyncio.wait_for(hub.publish(channel, text="x"), env.timeout)
        except BroadcastUnavailable:
            pass
        else:
            raise AssertionError("publish did not raise BroadcastUnavailable")
        backend.stall_publish = False
        await hub.publish(channel, text="x")


@_check
async def check_reconnect_resumes_every_channel(env: _Env) -> None:
    """After a lost connection the hub reconnects and resumes each channel, missing nothing."""
    a, b = _channel("reconnect-a"), _channel("reconnect-b")
    async with env.hub() as (hub, backend), hub.subscribe(a, b) as sub:
        await hub.publish(a, text="a0")
        await hub.publish(b, text="b0")
        assert _texts(await env.take(sub, 2)) == ["a0", "b0"]
        await backend.lose_connection(refuse_connects=2)
        for n in range(1, 4):
            await hub.publish(a, text=f"a{n}")
        await env.until(lambda: hub.stats()["reconnects"] == 1, "the hub reconnected")
        await hub.publish(b, text="b1")
        got = await env.take(sub, 4)
        assert _texts([m for m in got if m.channel == a]) == ["a1", "a2", "a3"]
        assert _texts([m for m in got if m.channel == b]) == ["b1"]
        assert not any(m.gap for m in got)
        assert sub.drain() == []
        assert backend.connects >= 4  # the first, two refused, one accepted


@_check
async def check_reconnect_after_history_reports_gap(env: _Env) -> None:
    """A loss longer than the history reaches subscribers as a gap, then live messages."""
    channel = _channel("longloss")
    async with env.hub(history=2) as (hub, backend), hub.subscribe(channel) as sub:
        await hub.publish(channel, text="before")
        await env.take(sub, 1)
        await backend.lose_connection()
        for n in range(_TRIMMED):
            await hub.publish(channel, text=f"lost{n}")
        await env.until(lambda: hub.stats()["reconnects"] == 1, "the hub reconnected")
        first = await env.take(sub, 1)
        assert first[0].gap, f"expected a gap marker, got {first[0]!r}"
        await hub.publish(channel, text="after")
        rest = _texts(await env.take(sub, 1)) + _texts(sub.drain())
        assert rest[-1] == "after"
