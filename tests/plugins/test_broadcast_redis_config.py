"""broadcast_redis settings: the URL, the config section, and the password kept secret."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

import lanner
from lanner import BroadcastUnavailable
from lanner_broadcast_redis import (
    DEFAULT_KEY_PREFIX,
    RedisBackend,
    make_backend,
    parse_settings,
    redact_url,
)
from lanner_broadcast_redis._config import check_section
from tests.plugins._redis import running_redis

SECRET = "S3CRET-pw-7f2c"


def test_url_defaults() -> None:
    settings = parse_settings("redis://cache.internal", {})
    assert (settings.host, settings.port, settings.db, settings.tls) == (
        "cache.internal",
        6379,
        0,
        False,
    )
    assert (settings.history, settings.publish_timeout) == (1000, 2.0)
    assert (settings.key_prefix, settings.pool_size) == (DEFAULT_KEY_PREFIX, 4)
    assert settings.password is None


def test_url_options_and_tls() -> None:
    settings = parse_settings(
        "rediss://app@cache:6380/3?history=0&publish_timeout=0.5&key_prefix=x:&pool_size=2"
        "&ssl_ca_certs=/ca.pem&ssl_cert_reqs=required&max_message_size=100",
        {},
    )
    assert (settings.host, settings.port, settings.db, settings.tls) == ("cache", 6380, 3, True)
    assert (settings.history, settings.publish_timeout) == (0, 0.5)
    assert (settings.key_prefix, settings.pool_size, settings.username) == ("x:", 2, "app")
    assert settings.ssl == {"ssl_ca_certs": "/ca.pem", "ssl_cert_reqs": "required"}
    assert settings.connection_kwargs()["ssl"] is True


def test_section_options_and_the_url_wins() -> None:
    section = {"history": 50, "publish_timeout": 1, "key_prefix": "s:", "pool_size": 8}
    settings = parse_settings("redis://h?history=7", section)
    assert (settings.history, settings.publish_timeout) == (7, 1.0)
    assert (settings.key_prefix, settings.pool_size) == ("s:", 8)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://h?histroy=5", "unknown option 'histroy'"),
        ("redis://h?history=5&history=6", "given twice"),
        ("redis://h?history=-1", "history='-1' must be a whole number >= 0"),
        ("redis://h?pool_size=0", "pool_size='0' must be a whole number >= 1"),
        ("redis://h?publish_timeout=0", "publish_timeout='0' must be a positive number"),
        ("redis://h?publish_timeout=inf", "publish_timeout='inf' must be a positive number"),
        ("redis://h?key_prefix=a%20b", "key_prefix='a b' must be at most 200"),
        ("redis://h/zero", "the path names the database number"),
        ("redis://h:99999", "the port is not a number"),
        ("http://h", "expected the scheme redis:// or rediss://"),
        ("redis://h?ssl_ca_certs=/ca.pem", "need the rediss:// scheme"),
        ("rediss://h?ssl_cert_reqs=maybe", "ssl_cert_reqs='maybe' must be one of"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, expected: str) -> None:
    with pytest.raises(ValueError, match=expected.replace("?", r"\?")):
        parse_settings(url, {})


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({"histroy": 5}, "unknown option 'histroy'"),
        ({"max_message_size": 5}, "unknown option 'max_message_size'"),
        ({"history": True}, "history=True must be a whole number"),
        ({"history": "many"}, "history='many' must be a whole number"),
        ({"publish_timeout": "soon"}, "publish_timeout='soon' must be a positive number"),
        ({"key_prefix": 5}, "key_prefix"),
        ({"username": ["a"]}, "must be a string"),
    ],
)
def test_bad_sections_say_what_is_wrong(section: dict[str, object], expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        check_section(section)


# -- the password -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"redis://:{SECRET}@h:1/0?history=1", "redis://:***@h:1/0?history=1"),
        (f"rediss://bob:{SECRET}@h", "rediss://bob:***@h"),
        (f"redis://bob:{SECRET}@[::1]:7", "redis://bob:***@[::1]:7"),
        ("redis://h:1", "redis://h:1"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_the_password_comes_from_the_url_or_an_env_reference(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert parse_settings(f"redis://:{SECRET}@h", {}).password == SECRET
    monkeypatch.setenv("REDIS_PASSWORD", SECRET)
    app = lanner.App(plugin_config={"broadcast_redis": {"password": {"$env": "REDIS_PASSWORD"}}})
    backend = make_backend("redis://h", app)
    assert isinstance(backend, RedisBackend)
    assert backend.settings.password == SECRET


def test_a_password_in_both_places_is_an_error_that_shows_neither() -> None:
    with pytest.raises(ValueError, match="both give a password") as info:
        parse_settings(f"redis://:{SECRET}@h", {"password": "other-" + SECRET})
    assert SECRET not in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        f"redis://:{SECRET}@h?bogus=1",
        f"redis://:{SECRET}@h?history=x",
        f"redis://:{SECRET}@h/x",
        f"redis://:{SECRET}@h:99999",
        f"redis://:{SECRET}@h?ssl_ca_certs=/x",
    ],
)
def test_url_errors_never_show_the_password(url: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_settings(url, {})
    assert SECRET not in str(info.value)
    assert "***" in str(info.value) or "malformed" in str(info.value)


def test_a_bad_password_value_type_is_not_echoed() -> None:
    with pytest.raises(ValueError, match="must be a string") as info:
        check_section({"password": 123456789})
    assert "123456789" not in str(info.value)


def test_repr_hides_the_password() -> None:
    backend = make_backend(f"redis://:{SECRET}@h:1/0", lanner.App())
    settings = parse_settings(f"redis://:{SECRET}@h:1/0", {})
    for shown in (repr(backend), str(backend), repr(settings)):
        assert SECRET not in shown
    assert "redis://:***@h:1/0" in repr(backend)


async def test_the_password_never_reaches_a_log_or_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Connect, fail to authenticate, publish, lose the server: nothing shows the password."""
    caplog.set_level(logging.DEBUG)
    with running_redis(password=SECRET) as server:
        seen: list[str] = []
        good = make_backend(f"{server.url}?publish_timeout=1", lanner.App())
        await good.connect()
        await good.subscribe("c")
        messages = good.messages()
        await good.publish("c", "hello", None)
        seen.append(repr(await anext(messages)))
        seen.append(repr(good))
        server.stop()
        with pytest.raises(BroadcastUnavailable) as lost:
            await good.publish("c", "gone", None)
        seen.append(str(lost.value))
        with pytest.raises(BroadcastUnavailable) as read:
            await anext(messages)
        seen.append(str(read.value))
        await good.close()
        server.start()
        wrong = make_backend(
            f"redis://:wrong-{SECRET}@127.0.0.1:{server.port}?publish_timeout=1", lanner.App()
        )
        with pytest.raises(BroadcastUnavailable) as refused:
            await wrong.connect()
        seen.append(str(refused.value))
    seen += [record.getMessage() for record in caplog.records]
    assert any("redis://:***@127.0.0.1" in line for line in seen)
    for line in seen:
        assert SECRET not in line


async def test_the_hub_on_a_password_redis_never_logs_it(caplog: pytest.LogCaptureFixture) -> None:
    """The hub's own log lines (lost, retrying, reconnected) show the URL redacted."""
    from lanner.testing import ASGIConductor
    from tests.plugins._redis import broadcast_app

    caplog.set_level(logging.DEBUG)
    with running_redis(password=SECRET) as server:
        app = broadcast_app(f"{server.url}?publish_timeout=1")
        async with ASGIConductor(app), app.broadcast.subscribe("c") as sub:
            server.stop()
            with pytest.raises(BroadcastUnavailable) as refused:
                await app.broadcast.publish("c", text="x")
            server.start()
            sent = None
            for _ in range(200):  # until the hub has reconnected and delivers again
                with contextlib.suppress(BroadcastUnavailable, asyncio.TimeoutError):
                    sent = await app.broadcast.publish("c", text="back")
                    got = await asyncio.wait_for(anext(sub), 0.2)
                    while got.text != "back":
                        got = await asyncio.wait_for(anext(sub), 0.2)
                    break
            assert sent is not None
            assert got.id == sent
    lines = [record.getMessage() for record in caplog.records] + [str(refused.value)]
    assert any("Lost the broadcast backend" in line for line in lines)
    assert any(":***@127.0.0.1" in line for line in lines)
    assert not any(SECRET in line for line in lines)
