"""The hub at app.broadcast: wiring into App, options, checks, publish and subscribe."""

from __future__ import annotations

import asyncio
import logging

import pytest

import lanner
from lanner.broadcast import BroadcastOptions, MemoryBackend, parse_broadcast_url
from lanner.testing import ASGIConductor
from tests._broadcast_helpers import until


def _app(**kwargs: object) -> lanner.App:
    return lanner.App(autoload_plugins=False, **kwargs)  # type: ignore[arg-type]


# -- wiring -----------------------------------------------------------------------


def test_the_flat_namespace_exports_the_broadcast_names() -> None:
    for name in (
        "Broadcast",
        "BroadcastMessage",
        "BroadcastBackend",
        "BroadcastUnavailable",
        "SubscriberTooSlow",
    ):
        assert name in lanner.__all__
        assert getattr(lanner, name).__doc__


def test_app_makes_a_memory_hub_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LANNER_BROADCAST_URL", raising=False)
    app = _app()
    assert isinstance(app.broadcast, lanner.Broadcast)
    assert isinstance(app.broadcast.backend, MemoryBackend)
    assert app.broadcast.options.url == "memory://"
    assert not app.broadcast.connected


def test_the_environment_chooses_the_url_unless_the_app_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LANNER_BROADCAST_URL", "memory://?history=7")
    assert _app().broadcast.options.history == 7
    assert _app(broadcast="memory://?history=3").broadcast.options.history == 3


def test_url_options_are_read() -> None:
    options = _app(
        broadcast="memory://?history=0&publish_timeout=0.5&max_message_size=10"
    ).broadcast.options
    assert (options.history, options.publish_timeout, options.max_message_size) == (0, 0.5, 10)
    assert BroadcastOptions("memory://", "memory").history == 1000


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("memory://?histroy=5", "unknown option 'histroy'"),
        ("memory://?history=-1", "history='-1' must be a whole number >= 0"),
        ("memory://?history=5&history=6", "'history' is given twice"),
        ("memory://?publish_timeout=soon", "publish_timeout='soon' must be a positive"),
        ("memory://?publish_timeout=0", "publish_timeout='0' must be a positive"),
        ("memory://?max_message_size=0", "max_message_size='0' must be a whole number >= 1"),
        ("memory://somehost", "takes no host or path"),
        ("localhost:6379", "has no scheme"),
    ],
)
def test_bad_urls_are_value_errors_from_app(url: str, expected: str) -> None:
    with pytest.raises(ValueError, match="Broadcast URL") as info:
        _app(broadcast=url)
    assert expected in str(info.value)


def test_an_unknown_scheme_lists_the_installed_ones() -> None:
    with pytest.raises(ValueError) as info:
        _app(broadcast="nats://localhost")
    assert "No broadcast backend for nats://" in str(info.value)
    assert "installed: memory://" in str(info.value)


def test_redis_names_the_distribution_and_hides_the_password() -> None:
    with pytest.raises(ValueError) as info:
        _app(broadcast="redis://user:s3cret@localhost:6379/0")
    message = str(info.value)
    assert "lanner-broadcast-redis" in message
    assert "s3cret" not in message


def test_option_errors_hide_the_password() -> None:
    with pytest.raises(ValueError) as info:
        parse_broadcast_url("redis://:s3cret@host/0?nope=1")
    assert "s3cret" not in str(info.value)
    assert "redis://:***@host/0" in str(info.value)


def test_a_backend_may_accept_options_of_its_own() -> None:
    options = parse_broadcast_url("x://h?prefix=a&history=2", backend_options={"prefix"})
    assert options.extra == {"prefix": "a"}
    assert options.history == 2


async def test_using_the_hub_before_startup_is_a_clear_error() -> None:
    hub = _app().broadcast
    with pytest.raises(RuntimeError, match=r"not connected yet.*ASGIConductor"):
        await hub.publish("chat", text="hi")
    with pytest.raises(RuntimeError, match="not connected yet"):
        hub.subscribe("chat")
    with pytest.raises(RuntimeError, match="not connected yet"):
        hub.sse("chat")


async def test_the_lifespan_connects_and_closes_the_hub() -> None:
    app = _app()
    async with ASGIConductor(app):
        assert app.broadcast.connected
        await app.broadcast.publish("chat", text="hi")
    assert not app.broadcast.connected
    with pytest.raises(RuntimeError, match="closed at the app's shutdown"):
        await app.broadcast.publish("chat", text="hi")
    async with ASGIConductor(app):  # a second startup connects again
        assert app.broadcast.connected


async def test_a_plugin_lifespan_can_publish_at_startup_and_shutdown() -> None:
    seen: list[str] = []

    class Plugin:
        name = "announcer"

        @lanner.hookimpl
        def lanner_lifespan(self, app: lanner.App) -> object:
            import contextlib

            @contextlib.asynccontextmanager
            async def span():  # type: ignore[no-untyped-def]
                seen.append(await app.broadcast.publish("log", text="up"))
                yield
                seen.append(await app.broadcast.publish("log", text="down"))

            return span()

    app = lanner.App(autoload_plugins=False, plugins=[Plugin()])
    async with ASGIConductor(app):
        pass
    assert len(seen) == 2


async def test_startup_fails_when_the_backend_is_unreachable() -> None:
    app = _app()

    async def refuse() -> None:
        raise OSError("connection refused")

    app.broadcast.backend.connect = refuse  # type: ignore[method-assign]
    with pytest.raises(lanner.BroadcastUnavailable, match="cannot be reached"):
        async with ASGIConductor(app):
            pass


# -- publish ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        ("", "must not be empty"),
        ("a" * 257, "has 257 characters; use 1 to 256"),
        ("two words", "contains ' '"),
        ("tab\there", "contains '\\t'"),
        ("nul\x00", "contains '\\x00'"),
    ],
)
async def test_bad_channel_names_are_value_errors(channel: str, expected: str) -> None:
    app = _app()
    async with ASGIConductor(app):
        with pytest.raises(ValueError) as info:
            await app.broadcast.publish(channel, text="x")
        assert expected in str(info.value)
        with pytest.raises(ValueError):
            app.broadcast.subscribe(channel)


async def test_a_channel_name_of_256_characters_is_fine() -> None:
    app = _app()
    async with ASGIConductor(app), app.broadcast.subscribe("c" * 256) as sub:
        await app.broadcast.publish("c" * 256, text="x")
        assert (await sub.next()).text == "x"


async def test_the_message_size_is_checked() -> None:
    app = _app(broadcast="memory://?max_message_size=8")
    async with ASGIConductor(app):
        await app.broadcast.publish("c", text="12345678")
        with pytest.raises(ValueError, match="9 bytes on 'c' is over the broadcast limit of 8"):
            await app.broadcast.publish("c", text="123456789")
        with pytest.raises(ValueError, match="over the broadcast limit"):
            await app.broadcast.publish("c", text="ééééé")  # 10 bytes in UTF-8
        with pytest.raises(ValueError, match="over the broadcast limit"):
            await app.broadcast.publish("c", data=b"123456789")


async def test_the_default_size_limit_is_one_mebibyte() -> None:
    app = _app()
    async with ASGIConductor(app):
        await app.broadcast.publish("c", data=b"x" * 1024 * 1024)
        with pytest.raises(ValueError, match="1048577 bytes"):
            await app.broadcast.publish("c", data=b"x" * (1024 * 1024 + 1))


async def test_publish_checks_payload_and_event_types() -> None:
    app = _app()
    async with ASGIConductor(app):
        hub = app.broadcast
        with pytest.raises(TypeError, match=r"data=\.\.\.\) takes bytes"):
            await hub.publish("c", data="text")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"text=\.\.\.\) takes a str"):
            await hub.publish("c", text=b"bytes")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="must not contain CR, LF or NUL"):
            await hub.publish("c", text="x", event="a\nb")
        with pytest.raises(TypeError, match=r"event=\.\.\.\) takes a str"):
            await hub.publish("c", text="x", event=3)  # type: ignore[arg-type]
        assert hub.stats()["published"] == 0


async def test_media_goes_through_the_apps_text_handler_once() -> None:
    calls: list[object] = []

    class Counting(lanner.media.JSONHandlerWS):
        def serialize(self, media: object) -> str:
            calls.append(media)
            return super().serialize(media)

    app = _app()
    app.ws_options.media_handlers[lanner.WebSocketPayloadType.TEXT] = Counting()
    async with ASGIConductor(app):
        hub = app.broadcast
        subs = [hub.subscribe("room") for _ in range(50)]
        entered = [await cm.__aenter__() for cm in subs]
        await hub.publish("room", {"hello": "world"})
        messages = [await sub.next() for sub in entered]
        for cm in subs:
            await cm.__aexit__(None, None, None)
    assert calls == [{"hello": "world"}]
    assert {m.text for m in messages} == {'{"hello":"world"}'}
    assert len({id(m) for m in messages}) == 1  # one object shared by every subscriber
    assert messages[0].media == {"hello": "world"}
    assert messages[0].media is messages[1].media  # decoded once


async def test_binary_media_is_decoded_with_the_binary_handler() -> None:
    import msgpack

    app = _app()
    async with ASGIConductor(app), app.broadcast.subscribe("bin") as sub:
        await app.broadcast.publish("bin", data=msgpack.packb({"n": 1}))
        assert (await sub.next()).media == {"n": 1}


async def test_an_unreachable_backend_makes_publish_fail_in_bounded_time() -> None:
    app = _app(broadcast="memory://?publish_timeout=0.1")

    async def hang(channel: str, payload: str | bytes, event: str | None) -> str:
        await asyncio.Event().wait()
        return ""

    async with ASGIConductor(app):
        app.broadcast.backend.publish = hang  # type: ignore[method-assign]
        with pytest.raises(lanner.BroadcastUnavailable, match=r"within 0\.1 s"):
            await asyncio.wait_for(app.broadcast.publish("c", text="x"), 5)

        async def broken(channel: str, payload: str | bytes, event: str | None) -> str:
            raise ConnectionResetError("reset by peer")

        app.broadcast.backend.publish = broken  # type: ignore[method-assign]
        with pytest.raises(lanner.BroadcastUnavailable, match="reset by peer"):
            await app.broadcast.publish("c", text="x")


# -- subscribe --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "error"),
    [
        ((), {}, "Name at least one channel"),
        (("a", "a"), {}, "name one channel twice"),
        (("a",), {"backlog": 0}, "backlog must be a whole number >= 1"),
        (("a",), {"overflow": "block"}, "overflow must be one of 'close', 'drop-oldest'"),
    ],
)
async def test_bad_subscribe_arguments_are_value_errors(
    args: tuple[str, ...], kwargs: dict[str, object], error: str
) -> None:
    app = _app()
    async with ASGIConductor(app):
        with pytest.raises(ValueError, match=error):
            app.broadcast.subscribe(*args, **kwargs)  # type: ignore[arg-type]


async def test_stats_count_what_happened() -> None:
    app = _app()
    async with ASGIConductor(app):
        hub = app.broadcast
        async with hub.subscribe("a", "b") as s1, hub.subscribe("a") as s2:
            assert hub.stats()["channels"] == 2
            assert hub.stats()["subscribers"] == 2
            await hub.publish("a", text="1")
            await hub.publish("b", text="2")
            await s1.next()
            await s1.next()
            await s2.next()
            stats = hub.stats()
        assert stats == {
            "channels": 2,
            "subscribers": 2,
            "published": 2,
            "delivered": 3,
            "dropped": 0,
            "closed_slow": 0,
            "reconnects": 0,
        }
        assert hub.stats()["subscribers"] == 0
        assert hub.stats()["channels"] == 0


async def test_shutdown_ends_subscriptions() -> None:
    app = _app()
    conductor = ASGIConductor(app)
    await conductor.__aenter__()
    ended = asyncio.Event()

    async def consume() -> None:
        async with app.broadcast.subscribe("c") as sub:
            async for _ in sub:
                pass
        ended.set()

    task = asyncio.ensure_future(consume())
    await asyncio.sleep(0.01)
    await conductor.__aexit__(None, None, None)
    await asyncio.wait_for(ended.wait(), 5)
    await task


async def test_a_subscription_left_early_stops_iterating() -> None:
    app = _app()
    async with ASGIConductor(app):
        async with app.broadcast.subscribe("c") as sub:
            await app.broadcast.publish("c", text="x")
            await until(lambda: app.broadcast.stats()["delivered"] == 1, "delivered")
        assert sub.ended
        assert [m.text async for m in sub] == ["x"]  # what was queued is still read
        assert "ended" in repr(sub)


async def test_gap_markers_carry_no_media() -> None:
    app = _app(broadcast="memory://?history=0")
    async with ASGIConductor(app):
        async with app.broadcast.subscribe("c", last_event_id="whatever") as sub:
            marker = await sub.next()
        assert marker.gap
        assert marker.id == "whatever"
        assert "gap on 'c'" in repr(marker)
        with pytest.raises(ValueError, match="carries no media"):
            _ = marker.media


def test_a_message_made_outside_a_hub_cannot_decode_media() -> None:
    message = lanner.BroadcastMessage("1", "c", "{}")
    assert message.payload == "{}"
    with pytest.raises(RuntimeError, match="needs the app's media handlers"):
        _ = message.media


async def test_a_failing_message_stream_is_logged_and_reconnected(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = _app()
    async with ASGIConductor(app), app.broadcast.subscribe("c") as sub:
        backend = app.broadcast.backend
        assert isinstance(backend, MemoryBackend)
        original = backend.messages
        failed = False

        async def flaky():  # type: ignore[no-untyped-def]
            nonlocal failed
            if not failed:
                failed = True
                raise KeyError("bug in the backend")
                yield
            async for message in original():
                yield message

        backend.messages = flaky  # type: ignore[method-assign]
        with caplog.at_level(logging.WARNING, logger="lanner.broadcast"):
            await backend.close()  # ends the running stream; the next one fails once
            await until(lambda: app.broadcast.stats()["reconnects"] >= 2, "reconnected twice")
        await app.broadcast.publish("c", text="after")
        assert (await asyncio.wait_for(sub.next(), 5)).text == "after"
    assert any("message stream failed" in r.getMessage() for r in caplog.records)
    assert any("reconnecting" in r.getMessage() for r in caplog.records)


async def test_subscribing_while_the_backend_is_down_fails_cleanly() -> None:
    app = _app(broadcast="memory://?publish_timeout=0.1")
    async with ASGIConductor(app):
        hub = app.broadcast

        async def down(channel: str) -> None:
            raise ConnectionRefusedError("backend down")

        hub.backend.subscribe = down  # type: ignore[method-assign]
        with pytest.raises(lanner.BroadcastUnavailable, match="backend down"):
            async with hub.subscribe("c"):
                pass
        assert hub.stats()["channels"] == 0
        assert hub.stats()["subscribers"] == 0


def test_a_message_as_a_server_sent_event() -> None:
    text = lanner.BroadcastMessage("7", "news", "hello", "story")
    event = text.to_sse()
    assert (event.text, event.event, event.event_id) == ("hello", "story", "7")
    assert text.to_sse() is event  # made once, shared by every stream
    assert text.to_sse("a=7&b=3").event_id == "a=7&b=3"
    binary = lanner.BroadcastMessage("8", "news", b"\x00\xff").to_sse()
    assert binary.text == "AP8="
    gap = lanner.BroadcastMessage.gap_marker("news", "3").to_sse()
    assert (gap.event, gap.text, gap.event_id) == ("gap", "news", "3")
