"""Plugins checked as the docs promise: middleware, error handlers, names, hooks, order, state.

Each test is a mistake a plugin author or app author made while writing
plugins from the docs alone (issue 16), and what lanner now says about it.
"""

from __future__ import annotations

import types
from typing import Any

import pytest
from plugins_support import MIDDLEWARE_PLUGIN, FakeDists

import lanner
from lanner import App, PluginConflictError, PluginLoadError, hookimpl
from lanner.plugins import UnknownPluginWarning
from lanner.testing import TestClient
from lanner.testing.plugin_app import plugin_app


class Provides:
    """An in-process plugin returning ``middleware`` and ``errors`` from their hooks."""

    def __init__(self, name: str, middleware: Any = None, errors: Any = None) -> None:
        self.name = name
        self.middleware = middleware
        self.errors = errors

    @hookimpl
    def lanner_middleware(self, app: App) -> Any:
        return self.middleware

    @hookimpl
    def lanner_error_handlers(self, app: App) -> Any:
        return self.errors


class SyncRequest:
    def process_request(self, req: lanner.Request, resp: lanner.Response) -> None:
        pass


class Misspelt:
    async def process_requests(self, req: lanner.Request, resp: lanner.Response) -> None:
        pass


class Fine:
    async def process_request(self, req: lanner.Request, resp: lanner.Response) -> None:
        req.context.fine = True


class Hello:
    async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
        resp.media = {"hello": "world"}


# -- 1. plugin middleware is checked like the app's own ---------------------------------------


@pytest.mark.parametrize(
    ("middleware", "expected"),
    [
        ([SyncRequest()], "SyncRequest.process_request must be a coroutine function"),
        ([Misspelt()], "unknown method(s) process_requests"),
        ([Fine], "Middleware Fine is a class"),
        ([object()], "none of the middleware methods"),
    ],
    ids=["sync", "misspelt", "class", "not-middleware"],
)
def test_plugin_middleware_gets_the_check_app_middleware_gets(
    middleware: list[object], expected: str
) -> None:
    with pytest.raises(TypeError) as as_plugin:
        plugin_app(Provides("mw", middleware=middleware))
    message = str(as_plugin.value)
    assert "Plugin 'mw' (in-process plugin)" in message
    assert "lanner_middleware" in message
    assert expected in message
    assert 'disable_plugins=["mw"]' in message
    with pytest.raises(TypeError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        App(middleware=middleware, autoload_plugins=False)  # the same check, for the app


def test_a_middleware_class_is_refused_for_the_app_too() -> None:
    with pytest.raises(TypeError, match=r"pass Fine\(...\) instead"):
        App(middleware=Fine, autoload_plugins=False)


def test_checked_plugin_middleware_still_runs() -> None:
    app = plugin_app(Provides("mw", middleware=[Fine()]))
    app.add_route("/", Hello())
    with TestClient(app) as client:
        assert client.simulate_get("/").status_code == 200


# -- 2. plugin error handlers are checked like add_error_handler checks them -----------------


def test_a_sync_plugin_error_handler_is_refused_naming_the_plugin() -> None:
    def sync_handler(req: object, resp: object, ex: BaseException, params: object) -> None:
        pass

    with pytest.raises(TypeError) as caught:
        plugin_app(Provides("errs", errors={KeyError: sync_handler}))
    message = str(caught.value)
    assert "Plugin 'errs' put a wrong value in app.error_handlers[KeyError]" in message
    assert "must be a coroutine function (async def handler(" in message
    app = App(autoload_plugins=False)
    with pytest.raises(TypeError, match="must be a coroutine function"):
        app.add_error_handler(KeyError, sync_handler)  # type: ignore[arg-type]


def test_a_sync_error_handler_set_directly_is_refused_at_freeze() -> None:
    app = App(autoload_plugins=False)
    app.error_handlers[KeyError] = lambda *args: None  # type: ignore[assignment,return-value]
    with pytest.raises(TypeError, match=r"app.error_handlers\[KeyError\] was set by the app"):
        app.freeze()


# -- 3. typos in allow-lists, disable lists and plugin_config names --------------------------


def test_a_typo_in_lanner_plugins_is_an_error_not_a_missing_auth_plugin(
    fake: FakeDists, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.add("auth_mw", MIDDLEWARE_PLUGIN)
    fake.add("media_cbor", MIDDLEWARE_PLUGIN)
    monkeypatch.setenv("LANNER_PLUGINS", "auth_mv,media_cbor")
    with pytest.raises(PluginLoadError) as caught:
        App()
    message = str(caught.value)
    assert "LANNER_PLUGINS names 'auth_mv', which is not installed" in message
    assert "installed plugins: auth_mw, media_cbor" in message


def test_lanner_plugins_is_not_checked_when_autoload_is_off(
    fake: FakeDists, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANNER_PLUGINS", "auth_mv")
    monkeypatch.setenv("LANNER_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert App().plugin_assembly.plugins[-1].layer == "default"


@pytest.mark.parametrize("how", ["code", "environment"])
def test_a_disable_list_naming_no_plugin_warns_naming_it(
    fake: FakeDists, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    module = fake.add("auth_mw", MIDDLEWARE_PLUGIN)
    kwargs: dict[str, Any] = {}
    if how == "code":
        kwargs["disable_plugins"] = ["auth_mv"]
    else:
        monkeypatch.setenv("LANNER_DISABLE_PLUGINS", "auth_mv")
    with pytest.warns(UnknownPluginWarning) as caught:
        app = App(**kwargs)
    message = str(caught[0].message)
    assert "'auth_mv'" in message
    assert "auth_mw" in message  # the known plugins are listed
    assert [getattr(m, "name", None) for m in app.plugin_assembly.middleware] == [module]


def test_disabling_a_known_plugin_does_not_warn(fake: FakeDists) -> None:
    fake.add("auth_mw", MIDDLEWARE_PLUGIN)
    App(disable_plugins=["auth_mw", "lanner.msgpack"])
    plugin_app(Provides("mine"), disable_plugins=["mine"])


def test_plugin_config_for_a_name_no_plugin_has_raises_naming_the_loaded_ones() -> None:
    app = plugin_app(Provides("mine"), config={"mine": {"level": 1}})
    assert app.plugin_config("mine") == {"level": 1}
    with pytest.raises(ValueError) as caught:
        app.plugin_config("oopz")
    message = str(caught.value)
    assert "no loaded plugin is named 'oopz'" in message
    assert "lanner.json, lanner.msgpack, lanner.errors, lanner.memory, mine" in message


def test_plugin_config_is_checked_inside_hooks_too() -> None:
    class Reader:
        name = "reader"

        @hookimpl
        def lanner_configure(self, app: App) -> None:
            app.plugin_config("raeder")

    with pytest.raises(ValueError, match="no loaded plugin is named 'raeder'"):
        plugin_app(Reader())


# -- 4. the reserved-name rule -----------------------------------------------------------------


def _module(name: str, **attrs: object) -> types.ModuleType:
    module = types.ModuleType(name)
    module.name = name  # type: ignore[attr-defined]
    vars(module).update(attrs)
    return module


def test_lanner_constants_imported_modules_and_unrelated_helpers_are_not_hooks() -> None:
    def lanner_helper(app: App) -> None:
        raise AssertionError("not a hook: never called")

    plugin = _module(
        "yaml_plugin",
        lanner_min_version="0.1",
        lanner_media_yaml=types.ModuleType("lanner_media_yaml"),
        lanner_helper=lanner_helper,
    )
    app = plugin_app(plugin)
    assert app.plugin_assembly.plugins[-1].hooks == ()


def test_an_unmarked_function_close_to_a_hook_is_an_error_with_a_suggestion() -> None:
    def lanner_midleware(app: App) -> list[object]:
        return []

    with pytest.raises(PluginLoadError, match="Did you mean lanner_middleware"):
        plugin_app(_module("typo", lanner_midleware=lanner_midleware))


def test_a_marked_unknown_hook_is_an_error_suggesting_only_a_close_name() -> None:
    class Helper:
        name = "helper"

        @hookimpl
        def lanner_helper(self, app: App) -> None:
            pass

    with pytest.raises(PluginLoadError) as caught:
        plugin_app(Helper())
    message = str(caught.value)
    assert "defines lanner_helper, which is not a lanner hook" in message
    assert "Did you mean" not in message


# -- 5. lanner plugins --app: see tests/test_cli.py and below ---------------------------------


class TextSlot:
    def __init__(self, name: str) -> None:
        self.name = name

    @hookimpl
    def lanner_ws_media_handlers(self, app: App) -> dict[object, object]:
        return {lanner.WebSocketPayloadType.TEXT: lanner.media.JSONHandlerWS()}


def test_the_report_calls_a_conflict_a_conflict() -> None:
    app = plugin_app(TextSlot("media_yaml"), TextSlot("media_rot13"))
    report = {e["name"]: e for e in app.plugin_assembly.report(app)}
    for name, other in (("media_yaml", "media_rot13"), ("media_rot13", "media_yaml")):
        assert report[name]["overridden"] == []
        assert report[name]["conflicts"] == [
            {
                "hook": "lanner_ws_media_handlers",
                "target": "ws_options.media_handlers",
                "key": "TEXT",
                "with": other,
            }
        ]
    with pytest.raises(PluginConflictError) as caught:
        app.freeze()
    message = str(caught.value)
    assert "LANNER_DISABLE_PLUGINS=media_rot13" in message
    assert "--disable-plugin media_rot13" in message


def test_a_settled_conflict_is_an_override_in_the_report() -> None:
    app = plugin_app(TextSlot("media_yaml"), TextSlot("media_rot13"))
    app.ws_options.media_handlers[lanner.WebSocketPayloadType.TEXT] = lanner.media.JSONHandlerWS()
    report = {e["name"]: e for e in app.plugin_assembly.report(app)}
    assert report["media_rot13"]["conflicts"] == []
    assert report["media_rot13"]["overridden"][0]["by"] == "app"
    app.freeze()


# -- 6. the app author chooses the order of installed plugins ----------------------------------


def _installed_order(app: App) -> list[str]:
    return [p.name for p in app.plugin_assembly.plugins if p.layer == "installed"]


def test_installed_plugins_run_in_name_order_by_default(fake: FakeDists) -> None:
    for name in ("c", "a", "b"):
        fake.add(name, MIDDLEWARE_PLUGIN)
    assert _installed_order(App()) == ["a", "b", "c"]


def test_autoload_plugins_order_is_the_call_order(fake: FakeDists) -> None:
    modules = {name: fake.add(name, MIDDLEWARE_PLUGIN) for name in ("c", "a", "b")}
    app = App(autoload_plugins=["c", "a", "b"])
    assert _installed_order(app) == ["c", "a", "b"]
    tags = [getattr(m, "name", None) for m in app.plugin_assembly.middleware]
    assert tags == [modules["c"], modules["a"], modules["b"]]


def test_lanner_plugins_sets_the_order_when_both_are_given(
    fake: FakeDists, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("c", "a", "b"):
        fake.add(name, MIDDLEWARE_PLUGIN)
    monkeypatch.setenv("LANNER_PLUGINS", "b, c, a")
    assert _installed_order(App()) == ["b", "c", "a"]
    assert _installed_order(App(autoload_plugins=["a", "c"])) == ["c", "a"]  # intersected


RATE_LIMIT = """
import lanner

class Throttle:
    '''Allow `per_client` requests per client address, then answer 429.'''

    def __init__(self, per_client):
        self.per_client = per_client
        self.seen = {}

    async def process_request(self, req, resp):
        client = req.remote_addr
        self.seen[client] = self.seen.get(client, 0) + 1
        if self.seen[client] > self.per_client:
            raise lanner.HTTPTooManyRequests(description="slow down")

@hookimpl
def lanner_middleware(app):
    return [Throttle(app.plugin_config("ratelimit").get("per_client", 3))]
"""


@pytest.mark.parametrize("order", ["autoload_plugins", "LANNER_PLUGINS"])
def test_a_rate_limiter_listed_before_auth_throttles_unauthenticated_requests(
    fake: FakeDists, monkeypatch: pytest.MonkeyPatch, order: str
) -> None:
    fake.add("ratelimit", RATE_LIMIT)
    fake.add_entry_point("auth_mw", "lanner_auth_mw", dist="lanner-auth-mw")
    config = {"auth_mw": {"tokens": {"ci": "tok-0123456789"}}, "ratelimit": {"per_client": 3}}
    kwargs: dict[str, Any] = {"plugin_config": config}
    if order == "autoload_plugins":
        kwargs["autoload_plugins"] = ["ratelimit", "auth_mw"]
    else:
        monkeypatch.setenv("LANNER_PLUGINS", "ratelimit,auth_mw")
    app = App(**kwargs)
    app.add_route("/", Hello())
    with TestClient(app) as client:
        guesses = [client.simulate_get("/", headers={"Authorization": "Bearer nope"})]
        guesses += [client.simulate_get("/") for _ in range(3)]
    assert [r.status_code for r in guesses] == [401, 401, 401, 429]


def test_auth_first_never_spends_a_rate_limit_token(fake: FakeDists) -> None:
    fake.add("ratelimit", RATE_LIMIT)
    fake.add_entry_point("auth_mw", "lanner_auth_mw", dist="lanner-auth-mw")
    config = {"auth_mw": {"tokens": {"ci": "tok-0123456789"}}, "ratelimit": {"per_client": 3}}
    app = App(autoload_plugins=["auth_mw", "ratelimit"], plugin_config=config)
    app.add_route("/", Hello())
    with TestClient(app) as client:
        statuses = [client.simulate_get("/").status_code for _ in range(5)]
    assert statuses == [401] * 5  # why the order matters


# -- 8. smaller: plugin state, async hooks, classes, media-handler places -------------------


def test_plugin_state_is_one_namespace_per_plugin_and_app() -> None:
    class Pool:
        name = "pool"

        @hookimpl
        def lanner_configure(self, app: App) -> None:
            app.plugin_state("pool").connections = ["c1"]

        @hookimpl
        def lanner_middleware(self, app: App) -> list[object]:
            assert app.plugin_state("pool").connections == ["c1"]
            return []

    first, second = plugin_app(Pool()), plugin_app(Pool())
    assert first.plugin_state("pool").connections == ["c1"]
    assert first.plugin_state("pool") is first.plugin_state("pool")
    assert first.plugin_state("pool") is not second.plugin_state("pool")
    with pytest.raises(ValueError, match="no loaded plugin is named 'pooll'"):
        first.plugin_state("pooll")


def test_an_async_hook_is_told_hooks_are_plain_functions() -> None:
    class Async:
        name = "async_plugin"

        @hookimpl
        async def lanner_middleware(self, app: App) -> list[object]:
            return []

    with pytest.raises(PluginLoadError) as caught:
        plugin_app(Async())
    message = str(caught.value)
    assert "hooks are plain functions called once at startup; return the object instead" in (
        message
    )
    assert "coroutine" not in message


def test_a_plugin_class_is_told_to_pass_an_instance() -> None:
    with pytest.raises(TypeError) as caught:
        plugin_app(Provides)
    message = str(caught.value)
    assert "pass an instance: App(plugins=[Provides()])" in message
    assert "missing" not in message


def test_media_handler_messages_name_the_real_mappings() -> None:
    class Wrong:
        name = "wrong"

        @hookimpl
        def lanner_http_media_handlers(self, app: App) -> dict[str, object]:
            return {"text/plain": lanner.media.JSONHandlerWS()}

    with pytest.raises(TypeError) as caught:
        plugin_app(Wrong())
    message = str(caught.value)
    assert "app.req_options.media_handlers['text/plain']" in message
    assert "app.resp_options.media_handlers['text/plain']" in message
    assert "app.media_handlers" not in message
    assert "--disable-plugin wrong" in message
