"""Tests for the HTTP test helpers: ASGIConductor results and the sync TestClient."""

from __future__ import annotations

import http
import json
from typing import Any

import pytest

import lanner
from lanner.testing import ASGIConductor, Result, TestClient

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class Echo:
    """Answers every method with what it received."""

    async def _echo(self, req: lanner.Request, resp: lanner.Response) -> None:
        body = await req.get_body()
        resp.set_header("X-Method", req.method)
        resp.media = {
            "method": req.method,
            "path": req.path,
            "params": req.params,
            "headers": {k: v for k, v in req.headers.items() if k.startswith("x-")},
            "content_type": req.content_type,
            "body": body.decode(),
        }

    on_get = on_head = on_post = on_put = on_patch = on_delete = on_options = _echo


class Lifecycle:
    """Middleware recording startup and shutdown."""

    def __init__(self) -> None:
        self.events: list[str] = []

    async def process_startup(self, scope: dict[str, Any], event: dict[str, Any]) -> None:
        self.events.append("startup")

    async def process_shutdown(self, scope: dict[str, Any], event: dict[str, Any]) -> None:
        self.events.append("shutdown")


def echo_app(*middleware: object) -> lanner.App:
    app = lanner.App(middleware=list(middleware))
    app.add_route("/echo", Echo())
    return app


# --- ASGIConductor --------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
async def test_conductor_simulate_method(method: str) -> None:
    async with ASGIConductor(echo_app()) as conductor:
        result = await getattr(conductor, f"simulate_{method.lower()}")("/echo")
    assert result.status_code == 200
    assert result.headers["x-method"] == method
    if method != "HEAD":
        assert result.json["method"] == method


async def test_simulate_request_arguments_reach_the_app() -> None:
    async with ASGIConductor(echo_app()) as conductor:
        result = await conductor.simulate_request(
            "patch",
            "/echo?a=1",
            params={"b": "2", "c": ["3", "4"]},
            headers={"X-Token": "t"},
            body="raw text",
            content_type="text/plain",
        )
    assert result.json == {
        "method": "PATCH",
        "path": "/echo",
        "params": {"a": ["1"], "b": ["2"], "c": ["3", "4"]},
        "headers": {"x-token": "t"},
        "content_type": "text/plain",
        "body": "raw text",
    }


async def test_simulate_request_json_sets_the_content_type() -> None:
    async with ASGIConductor(echo_app()) as conductor:
        plain = await conductor.simulate_post("/echo", json={"a": [1]})
        custom = await conductor.simulate_post(
            "/echo", json=[1], content_type="application/vnd.api+json"
        )
        raw = await conductor.simulate_post("/echo", body=b"\x00\x01")
    assert plain.json["content_type"] == "application/json"
    assert json.loads(plain.json["body"]) == {"a": [1]}
    assert custom.json["content_type"] == "application/vnd.api+json"
    assert raw.json["content_type"] is None
    assert raw.json["body"] == "\x00\x01"


async def test_result_fields() -> None:
    class Resource:
        async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
            resp.status = http.HTTPStatus.CREATED
            resp.append_header("X-Multi", "a")
            resp.append_header("X-Multi", "b")
            resp.set_cookie("sid", "s1")
            resp.media = {"héllo": "wörld"}

    app = lanner.App()
    app.add_route("/", Resource())
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_get("/")
    assert isinstance(result, Result)
    assert result.status_code == 201
    assert result.status is http.HTTPStatus.CREATED
    assert result.headers["content-type"] == "application/json"
    assert result.headers["x-multi"] == "a, b"
    assert ("x-multi", "a") in result.header_list
    assert ("x-multi", "b") in result.header_list
    assert result.content == '{"héllo":"wörld"}'.encode()
    assert result.text == '{"héllo":"wörld"}'
    assert result.json == {"héllo": "wörld"}
    assert result.cookies == {"sid": "s1"}


async def test_result_of_an_empty_body_and_a_non_standard_status() -> None:
    class Resource:
        async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
            resp.status = 299

    app = lanner.App()
    app.add_route("/", Resource())
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_get("/")
    assert result.status_code == 299
    assert result.status == 299
    assert result.content == b""
    assert result.text == ""
    assert result.json is None


async def test_conductor_runs_lifespan() -> None:
    lifecycle = Lifecycle()
    async with ASGIConductor(echo_app(lifecycle)) as conductor:
        assert lifecycle.events == ["startup"]
        await conductor.simulate_get("/echo")
    assert lifecycle.events == ["startup", "shutdown"]


# --- TestClient ------------------------------------------------------------------------------


def test_test_client_from_a_plain_test_runs_lifespan() -> None:
    lifecycle = Lifecycle()
    with TestClient(echo_app(lifecycle)) as client:
        assert lifecycle.events == ["startup"]
        result = client.simulate_get("/echo", params={"q": "x"})
        assert result.status_code == 200
        assert result.json["params"] == {"q": ["x"]}
    assert lifecycle.events == ["startup", "shutdown"]


def test_test_client_starts_on_first_request_and_stops_on_close() -> None:
    lifecycle = Lifecycle()
    client = TestClient(echo_app(lifecycle))
    assert lifecycle.events == []
    assert client.simulate_post("/echo", json={"a": 1}).json["body"] == '{"a": 1}'
    assert client.simulate_get("/echo").status_code == 200
    assert lifecycle.events == ["startup"]
    client.close()
    client.close()  # a second close does nothing
    assert lifecycle.events == ["startup", "shutdown"]


@pytest.mark.parametrize("method", METHODS)
def test_test_client_simulate_method(method: str) -> None:
    with TestClient(echo_app()) as client:
        result = getattr(client, f"simulate_{method.lower()}")("/echo", headers={"X-A": "1"})
    assert result.status_code == 200
    assert result.headers["x-method"] == method


def test_test_client_raises_the_original_startup_error() -> None:
    class Failing:
        async def process_startup(self, scope: dict[str, Any], event: dict[str, Any]) -> None:
            raise ConnectionError("cache down")

    client = TestClient(echo_app(Failing()))
    with pytest.raises(ConnectionError, match="cache down"):
        client.simulate_get("/echo")
    client.close()


async def test_test_client_refuses_to_run_inside_a_running_loop() -> None:
    client = TestClient(echo_app())
    with pytest.raises(RuntimeError, match="TestClient cannot run inside a running event loop"):
        client.simulate_get("/echo")
    client.close()
