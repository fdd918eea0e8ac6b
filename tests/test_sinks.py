"""Tests for sinks: prefixes, named groups, precedence and checks."""

from __future__ import annotations

import re
from typing import Any

import pytest

import lanner
from lanner.testing import ASGIConductor


def named_sink(name: str) -> Any:
    async def sink(req: lanner.Request, resp: lanner.Response, **groups: Any) -> None:
        resp.media = {"sink": name, "path": req.path, "groups": groups}

    return sink


class Route:
    async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
        resp.media = {"route": req.path}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/foo", 200),
        ("/foobar", 200),  # a string prefix is a regex matched at the start
        ("/foo/deep/path", 200),
        ("/bar/foo", 404),
        ("/", 404),
    ],
)
async def test_string_prefix_matches_at_the_start(path: str, expected: int) -> None:
    app = lanner.App()
    app.add_sink(named_sink("foo"), "/foo")
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_get(path)
    assert result.status_code == expected
    if expected == 200:
        assert result.json == {"sink": "foo", "path": path, "groups": {}}


async def test_default_prefix_takes_everything_routes_do_not() -> None:
    app = lanner.App()
    app.add_sink(named_sink("all"))
    app.add_route("/known", Route())
    async with ASGIConductor(app) as conductor:
        known = await conductor.simulate_get("/known")
        other = await conductor.simulate_post("/any/thing?x=1")
    assert known.json == {"route": "/known"}
    assert other.json == {"sink": "all", "path": "/any/thing", "groups": {}}


async def test_string_prefix_is_a_regular_expression_with_named_groups() -> None:
    app = lanner.App()
    app.add_sink(named_sink("proxy"), r"/proxy/(?P<service>[a-z]+)/v(?P<version>\d)")
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_get("/proxy/users/v2/list")
    assert result.json == {
        "sink": "proxy",
        "path": "/proxy/users/v2/list",
        "groups": {"service": "users", "version": "2"},
    }


async def test_compiled_regex_named_groups_become_keyword_arguments() -> None:
    seen: list[dict[str, Any]] = []

    async def sink(req: lanner.Request, resp: lanner.Response, kind: str, id: str) -> None:
        seen.append({"kind": kind, "id": id})
        resp.status = 204

    app = lanner.App()
    app.add_sink(sink, re.compile(r"/(?P<kind>users|teams)/(?P<id>\d+)$"))
    async with ASGIConductor(app) as conductor:
        hit = await conductor.simulate_delete("/teams/42")
        miss = await conductor.simulate_delete("/teams/42/x")
    assert hit.status_code == 204
    assert miss.status_code == 404
    assert seen == [{"kind": "teams", "id": "42"}]


async def test_routes_beat_sinks_even_when_the_sink_is_added_later() -> None:
    app = lanner.App()
    app.add_route("/api/items", Route())
    app.add_sink(named_sink("api"), "/api")
    async with ASGIConductor(app) as conductor:
        routed = await conductor.simulate_get("/api/items")
        sunk = await conductor.simulate_get("/api/other")
    assert routed.json == {"route": "/api/items"}
    assert sunk.json["sink"] == "api"


async def test_a_route_without_the_method_is_405_not_the_sink() -> None:
    app = lanner.App()
    app.add_route("/api/items", Route())
    app.add_sink(named_sink("api"), "/api")
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_post("/api/items")
    assert result.status_code == 405


async def test_the_sink_added_last_is_preferred() -> None:
    app = lanner.App()
    app.add_sink(named_sink("first"), "/a")
    app.add_sink(named_sink("second"), "/a/b")
    app.add_sink(named_sink("third"), "/a")
    async with ASGIConductor(app) as conductor:
        both = await conductor.simulate_get("/a/b/c")
        only_first_prefix = await conductor.simulate_get("/a/x")
    assert both.json["sink"] == "third"
    assert only_first_prefix.json["sink"] == "third"

    app = lanner.App()
    app.add_sink(named_sink("broad"), "/")
    app.add_sink(named_sink("narrow"), "/static")
    async with ASGIConductor(app) as conductor:
        narrow = await conductor.simulate_get("/static/app.js")
        broad = await conductor.simulate_get("/index.html")
    assert narrow.json["sink"] == "narrow"
    assert broad.json["sink"] == "broad"


async def test_sink_errors_go_through_error_handlers() -> None:
    async def failing(req: lanner.Request, resp: lanner.Response) -> None:
        raise lanner.HTTPForbidden(description="Not here.")

    app = lanner.App()
    app.add_sink(failing, "/private")
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_get("/private/x")
    assert result.status_code == 403
    assert result.json == {"title": "Forbidden", "description": "Not here."}


async def test_a_callable_object_with_async_call_is_a_sink() -> None:
    class Sink:
        async def __call__(self, req: lanner.Request, resp: lanner.Response) -> None:
            resp.text = "object sink"

    app = lanner.App()
    app.add_sink(Sink(), "/obj")
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_get("/obj")
    assert result.text == "object sink"


def test_sync_sink_is_refused() -> None:
    def sync(req: lanner.Request, resp: lanner.Response) -> None:
        pass

    app = lanner.App()
    with pytest.raises(TypeError, match=r"must be a coroutine function \(async def sink"):
        app.add_sink(sync, "/x")  # type: ignore[arg-type]


def test_bad_prefix_regex_is_refused_at_add_sink() -> None:
    app = lanner.App()
    with pytest.raises(ValueError, match=r"Sink prefix '/\(unclosed' from the app is not a valid"):
        app.add_sink(named_sink("x"), "/(unclosed")
