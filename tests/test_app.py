"""Tests for the App: routing through it, resources, responders and freezing."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

import lanner
from lanner.media import JSONHandler, JSONHandlerWS
from lanner.routing import RouteConflictError
from lanner.testing import ASGIConductor, TestClient


class Fields:
    """Echoes its URI fields with their Python types."""

    async def on_get(self, req: lanner.Request, resp: lanner.Response, **fields: Any) -> None:
        resp.media = {name: [str(value), type(value).__name__] for name, value in fields.items()}


class Thing:
    """A GET/PUT resource whose GET body is known."""

    async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
        resp.set_header("X-Thing", "yes")
        resp.text = "hello, thing"

    async def on_put(self, req: lanner.Request, resp: lanner.Response) -> None:
        resp.status = 204


def make_app() -> lanner.App:
    app = lanner.App()
    app.add_route("/users/{name}", Fields())
    app.add_route("/items/{id:int}", Fields())
    app.add_route("/positive/{n:int(min=1)}", Fields())
    app.add_route("/ids/{u:uuid}", Fields())
    app.add_route("/scale/{x:float}", Fields())
    app.add_route("/files/{rest:path}", Fields())
    app.add_route("/orgs/{org}/repos/{repo}", Fields())
    app.add_route("/thing", Thing())
    return app


# --- routing -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/users/ada", {"name": ["ada", "str"]}),
        ("/items/42", {"id": ["42", "int"]}),
        ("/positive/3", {"n": ["3", "int"]}),
        (
            "/ids/6f1c2f4e-6a34-4b8e-9a57-0e1b8f1d2c3a",
            {"u": ["6f1c2f4e-6a34-4b8e-9a57-0e1b8f1d2c3a", "UUID"]},
        ),
        ("/scale/1.5", {"x": ["1.5", "float"]}),
        ("/files/a/b/c.txt", {"rest": ["a/b/c.txt", "str"]}),
        ("/orgs/acme/repos/web", {"org": ["acme", "str"], "repo": ["web", "str"]}),
    ],
)
async def test_fields_and_converters_become_typed_keyword_arguments(
    path: str, expected: dict[str, list[str]]
) -> None:
    async with ASGIConductor(make_app()) as conductor:
        result = await conductor.simulate_get(path)
    assert result.status_code == 200
    assert result.json == expected


@pytest.mark.parametrize(
    "path", ["/items/abc", "/positive/0", "/ids/not-a-uuid", "/scale/x", "/nowhere", "/users"]
)
async def test_unknown_or_unconvertible_path_is_404_json(path: str) -> None:
    async with ASGIConductor(make_app()) as conductor:
        result = await conductor.simulate_get(path)
    assert result.status_code == 404
    assert result.headers["content-type"] == "application/json"
    assert result.json == {"title": "Not Found"}


async def test_converted_uuid_is_a_uuid_instance() -> None:
    seen: list[object] = []

    class Resource:
        async def on_get(self, req: lanner.Request, resp: lanner.Response, u: uuid.UUID) -> None:
            seen.append(u)

    app = lanner.App()
    app.add_route("/{u:uuid}", Resource())
    value = uuid.uuid4()
    async with ASGIConductor(app) as conductor:
        await conductor.simulate_get(f"/{value}")
    assert seen == [value]


async def test_missing_method_is_405_with_allow() -> None:
    async with ASGIConductor(make_app()) as conductor:
        result = await conductor.simulate_post("/thing")
    assert result.status_code == 405
    assert result.json == {"title": "Method Not Allowed"}
    assert result.headers["allow"] == "GET, HEAD, PUT, OPTIONS"


async def test_options_is_answered_by_default_with_allow() -> None:
    async with ASGIConductor(make_app()) as conductor:
        result = await conductor.simulate_options("/thing")
    assert result.status_code == 200
    assert result.headers["allow"] == "GET, HEAD, PUT, OPTIONS"
    assert result.content == b""


async def test_own_on_options_replaces_the_default() -> None:
    class Resource:
        async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
            resp.text = "get"

        async def on_options(self, req: lanner.Request, resp: lanner.Response) -> None:
            resp.status = 204
            resp.set_header("Allow", "GET")

    app = lanner.App()
    app.add_route("/", Resource())
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_options("/")
    assert result.status_code == 204
    assert result.headers["allow"] == "GET"


async def test_head_falls_back_to_get_without_body_but_with_content_length() -> None:
    async with ASGIConductor(make_app()) as conductor:
        got = await conductor.simulate_get("/thing")
        head = await conductor.simulate_head("/thing")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(b"hello, thing"))
    assert head.headers["content-length"] == got.headers["content-length"]
    assert head.headers["x-thing"] == "yes"
    assert head.headers["content-type"] == got.headers["content-type"]


async def test_own_on_head_is_used() -> None:
    class Resource:
        async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
            resp.text = "get"

        async def on_head(self, req: lanner.Request, resp: lanner.Response) -> None:
            resp.set_header("X-Head", "own")

    app = lanner.App()
    app.add_route("/", Resource())
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_head("/")
    assert result.headers["x-head"] == "own"


async def test_add_route_with_suffix_picks_the_suffixed_responders() -> None:
    class Items:
        async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
            resp.media = ["collection"]

        async def on_get_item(self, req: lanner.Request, resp: lanner.Response, id: int) -> None:
            resp.media = {"item": id}

        async def on_delete_item(self, req: lanner.Request, resp: lanner.Response, id: int) -> None:
            resp.status = 204

    app = lanner.App()
    items = Items()
    app.add_route("/items", items)
    app.add_route("/items/{id:int}", items, suffix="item")
    async with ASGIConductor(app) as conductor:
        collection = await conductor.simulate_get("/items")
        one = await conductor.simulate_get("/items/7")
        deleted = await conductor.simulate_delete("/items/7")
        not_allowed = await conductor.simulate_delete("/items")
    assert collection.json == ["collection"]
    assert one.json == {"item": 7}
    assert deleted.status_code == 204
    assert not_allowed.status_code == 405
    assert "DELETE" not in not_allowed.headers["allow"]


def test_conflicting_route_is_refused_naming_both_templates() -> None:
    app = lanner.App()
    app.add_route("/items/{id}", Thing())
    with pytest.raises(RouteConflictError) as info:
        app.add_route("/items/{name}", Thing())
    assert "'/items/{name}'" in str(info.value)
    assert "'/items/{id}'" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_malformed_template_is_refused_at_add_route() -> None:
    app = lanner.App()
    with pytest.raises(ValueError, match="items"):
        app.add_route("items/{id", Thing())


def test_sync_responder_is_refused_with_a_clear_message() -> None:
    class Sync:
        def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
            resp.text = "sync"

    app = lanner.App()
    with pytest.raises(TypeError, match=r"Sync\.on_get must be a coroutine function") as info:
        app.add_route("/", Sync())
    assert "async def on_get" in str(info.value)


def test_sync_suffixed_responder_is_refused() -> None:
    class Mixed:
        async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
            pass

        def on_post_x(self, req: lanner.Request, resp: lanner.Response) -> None:
            pass

    app = lanner.App()
    with pytest.raises(TypeError, match=r"Mixed\.on_post_x"):
        app.add_route("/", Mixed(), suffix="x")


def test_resource_with_no_responder_is_refused() -> None:
    class Empty:
        async def get(self, req: lanner.Request, resp: lanner.Response) -> None:
            pass

    app = lanner.App()
    with pytest.raises(TypeError, match="Empty has no responder") as info:
        app.add_route("/", Empty())
    assert "on_get" in str(info.value)


def test_resource_with_only_other_suffix_is_refused_naming_the_suffix() -> None:
    app = lanner.App()
    with pytest.raises(TypeError, match="on_get_item"):
        app.add_route("/", Thing(), suffix="item")


# --- freezing ------------------------------------------------------------------


class Passing:
    async def process_request(self, req: lanner.Request, resp: lanner.Response) -> None:
        pass


async def _noop(*args: Any, **kwargs: Any) -> None:
    pass


@pytest.mark.parametrize(
    ("change", "what"),
    [
        (lambda app: app.add_route("/late", Thing()), "add a route"),
        (lambda app: app.add_sink(_noop, "/late"), "add a sink"),
        (lambda app: app.add_error_handler(KeyError, _noop), "add an error handler"),
        (lambda app: app.add_middleware(Passing()), "add middleware"),
        (
            lambda app: app.ws_options.media_handlers.__setitem__(
                lanner.WebSocketPayloadType.TEXT, JSONHandlerWS()
            ),
            "change ws_options.media_handlers",
        ),
        (
            lambda app: app.req_options.media_handlers.__setitem__(
                "application/json", JSONHandler()
            ),
            "change req_options.media_handlers",
        ),
    ],
)
def test_changes_after_the_first_request_raise_runtime_error(change: Any, what: str) -> None:
    app = make_app()
    with TestClient(app) as client:
        assert client.simulate_get("/thing").status_code == 200
        with pytest.raises(RuntimeError, match=f"Cannot {re.escape(what)} after the app has"):
            change(app)
        # The app keeps serving as it was.
        assert client.simulate_get("/late").status_code == 404


async def test_first_request_freezes_the_app_without_lifespan() -> None:
    app = make_app()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/thing",
        "root_path": "",
        "query_string": b"",
        "headers": [],
    }
    await app(scope, receive, send)
    assert sent[0]["status"] == 200
    with pytest.raises(RuntimeError, match="Cannot add a route after the app has started"):
        app.add_route("/late", Thing())


async def test_unknown_scope_type_is_refused() -> None:
    app = make_app()

    async def receive() -> dict[str, Any]:
        raise AssertionError("not called")

    async def send(message: dict[str, Any]) -> None:
        raise AssertionError("not called")

    with pytest.raises(
        lanner.UnsupportedScopeError, match=r"'http', 'websocket' and 'lifespan'.*'webtransport'"
    ):
        await app({"type": "webtransport"}, receive, send)


def test_freeze_returns_the_same_server_each_time() -> None:
    app = make_app()
    assert app.freeze() is app.freeze()
