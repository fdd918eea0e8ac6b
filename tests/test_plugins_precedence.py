"""Tests for plugin precedence: layers, conflicts, app overrides, slot types, report.

Precedence, highest first: the app author > in-process plugins > installed
plugins > default plugins. Two plugins of one layer giving the same key are a
conflict at freeze, unless the app author set that key.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from plugins_support import FakeDists

from lanner import PluginConflictError, WebSocketPayloadType, hookimpl
from lanner.app import App
from lanner.media import (
    BaseHandler,
    BinaryBaseHandlerWS,
    JSONHandlerWS,
    MessagePackHandlerWS,
    TextBaseHandlerWS,
)
from lanner.testing import ASGIConductor

TEXT = WebSocketPayloadType.TEXT
BINARY = WebSocketPayloadType.BINARY


class EchoBinary(BinaryBaseHandlerWS):
    """A BINARY handler that passes bytes through (identity is what tests check)."""

    def serialize(self, media: object) -> bytes:
        return repr(media).encode()

    def deserialize(self, payload: bytes) -> object:
        return payload


class ShoutText(TextBaseHandlerWS):
    """A TEXT handler that upper-cases."""

    def serialize(self, media: object) -> str:
        return str(media).upper()

    def deserialize(self, payload: str) -> object:
        return payload.lower()


class PlainText(BaseHandler):
    """An HTTP handler for text/x-plain bodies."""

    def serialize(self, media: object, content_type: str) -> bytes:
        return f"plain:{media}".encode()

    def deserialize(self, data: bytes, content_type: str) -> object:
        return data.decode()


class Provider:
    """An in-process plugin that returns whatever it was given, hook by hook."""

    def __init__(self, name: str, **results: Any) -> None:
        self.name = name
        self.results = results

    @hookimpl
    def lanner_http_media_handlers(self, app: App) -> Any:
        return self.results.get("http")

    @hookimpl
    def lanner_ws_media_handlers(self, app: App) -> Any:
        return self.results.get("ws")

    @hookimpl
    def lanner_error_handlers(self, app: App) -> Any:
        return self.results.get("errors")

    @hookimpl
    def lanner_sinks(self, app: App) -> Any:
        return self.results.get("sinks")

    @hookimpl
    def lanner_middleware(self, app: App) -> Any:
        return self.results.get("middleware")

    @hookimpl
    def lanner_lifespan(self, app: App) -> Any:
        return self.results.get("lifespan")


INSTALLED_BINARY = """
from lanner import WebSocketPayloadType
from lanner.media import BinaryBaseHandlerWS, MessagePackHandler

class Installed(BinaryBaseHandlerWS):
    def serialize(self, media):
        return b""
    def deserialize(self, payload):
        return payload

@hookimpl
def lanner_ws_media_handlers(app):
    return {WebSocketPayloadType.BINARY: Installed()}

@hookimpl
def lanner_http_media_handlers(app):
    return {"Application/MsgPack; charset=x": MessagePackHandler()}
"""


async def _noop_handler(req: object, resp: object, ex: BaseException, params: object) -> None:
    """An error handler that does nothing."""


# -- layers ------------------------------------------------------------------------------


def test_a_higher_layer_overrides_a_lower_one_key_by_key(fake: FakeDists) -> None:
    fake.add("installed", INSTALLED_BINARY)
    mine = EchoBinary()
    app = App(plugins=[Provider("mine", ws={BINARY: mine})])
    ws = app.ws_options.media_handlers
    assert ws[BINARY] is mine
    assert ws.owners == {TEXT: "lanner.json", BINARY: "mine"}
    assert app.resp_options.media_handlers.owners["application/msgpack"] == "installed"
    assert app.req_options.media_handlers.owners["application/msgpack"] == "installed"
    assert not app.plugin_assembly.conflicts
    app.freeze()


def test_an_app_assignment_overrides_every_plugin_and_is_owned_by_the_app() -> None:
    app = App(plugins=[Provider("mine", ws={TEXT: ShoutText()})])
    own = JSONHandlerWS()
    app.ws_options.media_handlers[TEXT] = own
    assert app.ws_options.media_handlers[TEXT] is own
    assert app.ws_options.media_handlers.owners[TEXT] == "app"
    app.freeze()


# -- conflicts ------------------------------------------------------------------------------


def test_two_in_process_plugins_on_one_key_conflict_at_freeze_naming_both() -> None:
    first, second = EchoBinary(), EchoBinary()
    app = App(
        plugins=[Provider("first", ws={BINARY: first}), Provider("second", ws={BINARY: second})]
    )
    # Until freeze the plugin called first holds the key.
    assert app.ws_options.media_handlers[BINARY] is first
    with pytest.raises(PluginConflictError) as caught:
        app.freeze()
    message = str(caught.value)
    assert "'first' and 'second'" in message
    assert "both in-process plugins" in message
    assert "app.ws_options.media_handlers[BINARY]" in message
    assert "lanner_ws_media_handlers" in message


def test_two_installed_plugins_conflict_and_the_first_by_name_holds_the_key(
    fake: FakeDists,
) -> None:
    fake.add("b_later", INSTALLED_BINARY)
    fake.add("a_first", INSTALLED_BINARY)
    app = App()
    assert app.ws_options.media_handlers.owners[BINARY] == "a_first"
    with pytest.raises(PluginConflictError, match=r"'a_first' and 'b_later' \(both installed"):
        app.freeze()


def test_an_app_setting_settles_a_conflict() -> None:
    app = App(
        plugins=[Provider("a", ws={BINARY: EchoBinary()}), Provider("b", ws={BINARY: EchoBinary()})]
    )
    own = MessagePackHandlerWS()
    app.ws_options.media_handlers[BINARY] = own
    app.freeze()  # no PluginConflictError
    assert app.ws_options.media_handlers[BINARY] is own


def test_a_higher_layer_providing_the_key_settles_a_lower_layer_conflict(
    fake: FakeDists,
) -> None:
    fake.add("b_later", INSTALLED_BINARY)
    fake.add("a_first", INSTALLED_BINARY)
    mine = EchoBinary()
    app = App(
        plugins=[Provider("mine", ws={BINARY: mine}, http={"application/msgpack": PlainText()})]
    )
    assert len(app.plugin_assembly.conflicts) == 3  # BINARY, and msgpack in req and resp
    app.freeze()
    assert app.ws_options.media_handlers[BINARY] is mine


def test_an_http_media_conflict_is_settled_only_where_the_app_set_the_key() -> None:
    def make() -> App:
        return App(
            plugins=[
                Provider("a", http={"text/x-plain": PlainText()}),
                Provider("b", http={"TEXT/X-Plain; charset=utf-8": PlainText()}),
            ]
        )

    app = make()
    app.resp_options.media_handlers["text/x-plain"] = PlainText()
    with pytest.raises(PluginConflictError) as caught:
        app.freeze()
    assert "app.req_options.media_handlers[text/x-plain]" in str(caught.value)
    assert "resp_options" not in str(caught.value)
    settled = make()
    settled.resp_options.media_handlers["text/x-plain"] = PlainText()
    settled.req_options.media_handlers["text/x-plain"] = PlainText()
    settled.freeze()


def test_an_error_handler_conflict_is_settled_by_add_error_handler() -> None:
    plugins = [Provider(n, errors={KeyError: _noop_handler}) for n in ("x", "y")]
    with pytest.raises(PluginConflictError, match=r"error_handlers\[KeyError\]"):
        App(plugins=plugins).freeze()
    app = App(plugins=plugins)

    async def own(req: object, resp: object, ex: BaseException, params: object) -> None:
        """The app's own handler."""

    app.add_error_handler(KeyError, own)
    app.freeze()  # no PluginConflictError
    assert app.error_handlers[KeyError] is own


def test_the_same_key_in_different_layers_is_not_a_conflict(fake: FakeDists) -> None:
    fake.add("installed", INSTALLED_BINARY)
    app = App(plugins=[Provider("mine", ws={BINARY: EchoBinary()})])
    assert app.plugin_assembly.conflicts == []


async def test_the_conductor_raises_the_original_conflict_error() -> None:
    app = App(
        plugins=[Provider("a", ws={TEXT: ShoutText()}), Provider("b", ws={TEXT: ShoutText()})]
    )
    with pytest.raises(PluginConflictError, match="'a' and 'b'"):
        async with ASGIConductor(app):
            pass


# -- slot types ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        ({"ws": {BINARY: JSONHandlerWS()}}, "the BINARY slot takes a BinaryBaseHandlerWS"),
        ({"ws": {TEXT: MessagePackHandlerWS()}}, "the TEXT slot takes a TextBaseHandlerWS"),
        ({"ws": {"TEXT": JSONHandlerWS()}}, "the key must be WebSocketPayloadType"),
        ({"http": {"text/x": JSONHandlerWS()}}, "must be a lanner.media.BaseHandler"),
        ({"http": {b"text/x": PlainText()}}, "the key must be a media type string"),
        ({"errors": {"KeyError": _noop_handler}}, "the key must be an exception class"),
        ({"errors": {KeyError: "handler"}}, "an error handler must be a coroutine function"),
    ],
)
def test_a_plugin_value_of_the_wrong_type_for_its_slot_fails_at_assembly(
    results: dict[str, Any], expected: str
) -> None:
    with pytest.raises(TypeError) as caught:
        App(plugins=[Provider("wrong", **results)])
    message = str(caught.value)
    assert "Plugin 'wrong' put a wrong value in app." in message
    assert expected in message
    assert 'disable_plugins=["wrong"]' in message


def test_an_app_value_of_the_wrong_type_fails_at_freeze_naming_the_app() -> None:
    app = App()
    app.ws_options.media_handlers[TEXT] = MessagePackHandlerWS()  # type: ignore[assignment]
    with pytest.raises(TypeError) as caught:
        app.freeze()
    message = str(caught.value)
    assert "app.ws_options.media_handlers[WebSocketPayloadType.TEXT] was set by the app" in message
    assert "the TEXT slot takes a TextBaseHandlerWS" in message


# -- lists: middleware, lifespans, sinks ------------------------------------------------------


def test_sinks_are_listed_highest_layer_first(fake: FakeDists) -> None:
    fake.add(
        "installed",
        """
        async def sink(req, resp):
            pass

        @hookimpl
        def lanner_sinks(app):
            return [("/shared", sink)]
        """,
    )
    app = App(
        plugins=[
            Provider("one", sinks=[("/one", _sink)]),
            Provider("two", sinks=[(re.compile("/two"), _sink)]),
        ]
    )
    owners = [
        (prefix if isinstance(prefix, str) else prefix.pattern, owner)
        for prefix, _, owner in app.plugin_assembly.sinks
    ]
    assert owners == [("/one", "one"), ("/two", "two"), ("/shared", "installed")]


def test_equal_sink_prefixes_in_one_layer_conflict_and_an_app_sink_settles_it() -> None:
    app = App(
        plugins=[Provider("p", sinks=[("/same", _sink)]), Provider("q", sinks=[("/same", _sink)])]
    )
    with pytest.raises(PluginConflictError, match=r"'p' and 'q'.*sinks\[/same\]"):
        app.plugin_assembly.check()
    app.plugin_assembly.check(app_sink_prefixes=["/same"])
    assert [owner for _, _, owner in app.plugin_assembly.sinks] == ["p"]


SAME_SINK = """
async def sink(req, resp):
    pass

@hookimpl
def lanner_sinks(app):
    return [("/same", sink)]
"""


def test_a_sink_conflict_is_settled_by_a_higher_layer_with_the_same_prefix(
    fake: FakeDists,
) -> None:
    for name in ("x", "y"):
        fake.add(name, SAME_SINK)
    app = App(plugins=[Provider("mine", sinks=[("/same", _sink)])])
    assert [owner for _, _, owner in app.plugin_assembly.sinks] == ["mine", "x"]
    app.freeze()
    with pytest.raises(PluginConflictError, match="'x' and 'y' \\(both installed"):
        App().freeze()


async def _sink(req: Any, resp: Any, **params: Any) -> None:
    resp.media = {"sink": req.path}


class Trace:
    """Middleware that records the order requests pass through it."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    async def process_request(self, req: Any, resp: Any) -> None:
        self.log.append(self.name)


class Route:
    async def on_get(self, req: Any, resp: Any) -> None:
        resp.media = {"route": True}


class Boom(Exception):
    """Raised by a responder to exercise a plugin error handler."""


class Explodes:
    async def on_get(self, req: Any, resp: Any) -> None:
        raise Boom


async def test_every_hook_takes_effect_in_a_running_app() -> None:
    log: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(name: str) -> AsyncIterator[None]:
        log.append(f"enter {name}")
        yield
        log.append(f"exit {name}")

    async def handle_boom(req: Any, resp: Any, ex: BaseException, params: Any) -> None:
        resp.status = 418
        resp.media = {"handled": type(ex).__name__}

    plugins = [
        Provider(
            "a",
            middleware=[Trace("plugin a", log)],
            lifespan=lifespan("a"),
            sinks=[("/sunk", _sink)],
            http={"text/x-plain": PlainText()},
            errors={Boom: handle_boom},
        ),
        Provider("b", middleware=[Trace("plugin b", log)], lifespan=lifespan("b")),
    ]
    app = App(plugins=plugins, middleware=Trace("app", log))
    app.add_route("/sunk/route", Route())
    app.add_route("/boom", Explodes())
    async with ASGIConductor(app) as conductor:
        assert log == ["enter a", "enter b"]
        sunk = await conductor.simulate_get("/sunk/here")
        assert sunk.json == {"sink": "/sunk/here"}
        assert log[2:] == ["plugin a", "plugin b", "app"]
        assert (await conductor.simulate_get("/sunk/route")).json == {"route": True}
        boom = await conductor.simulate_get("/boom")
        assert (boom.status_code, boom.json) == (418, {"handled": "Boom"})
        posted = await conductor.simulate_post("/sunk/x", body="hi", content_type="text/x-plain")
        assert posted.status_code == 200
    assert log[-2:] == ["exit b", "exit a"]


# -- report ------------------------------------------------------------------------------------


def test_the_report_shows_what_each_plugin_provides_and_who_overrode_it(fake: FakeDists) -> None:
    module = fake.add("installed", INSTALLED_BINARY, dist="lanner-installed", version="1.2")
    app = App(
        plugins=[Provider("mine", ws={BINARY: EchoBinary()}, middleware=[Trace("t", [])])],
        plugin_config={"mine": {"token": "s3cret", "level": 2}},
    )
    app.resp_options.media_handlers["application/json"] = PlainText()
    report = {entry["name"]: entry for entry in app.plugin_assembly.report(app)}
    assert report["installed"]["distribution"] == "lanner-installed"
    assert report["installed"]["provides"]["lanner_ws_media_handlers"] == {
        "BINARY": f"{module}.Installed"
    }
    assert {
        "hook": "lanner_ws_media_handlers",
        "target": "ws_options.media_handlers",
        "key": "BINARY",
        "by": "mine",
    } in report["installed"]["overridden"]
    assert {
        "hook": "lanner_http_media_handlers",
        "target": "resp_options.media_handlers",
        "key": "application/json",
        "by": "app",
    } in report["lanner.json"]["overridden"]
    assert {
        "hook": "lanner_ws_media_handlers",
        "target": "ws_options.media_handlers",
        "key": "BINARY",
        "by": "mine",
    } in report["lanner.msgpack"]["overridden"]
    assert report["mine"]["overridden"] == []
    assert report["mine"]["provides"]["lanner_middleware"] == [f"{__name__}.Trace"]
    assert report["mine"]["provides"]["lanner_ws_media_handlers"] == {
        "BINARY": f"{__name__}.EchoBinary"
    }
    assert report["mine"]["config"] == {"token": "***", "level": 2}
    assert report["installed"]["config"] is None
