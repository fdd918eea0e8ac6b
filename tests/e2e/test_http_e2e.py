"""End-to-end HTTP tests: ``http_app`` under a real uvicorn, driven with httpx."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import msgpack
import pytest

from tests.e2e._server import RunningServer, serve

pytestmark = pytest.mark.e2e

TIMEOUT = httpx.Timeout(5.0)
ENV = {"LANNER_DISABLE_PLUGIN_AUTOLOAD": "1"}


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with serve("http_app:app", env=ENV) as running:
        yield running


@pytest.fixture
def client(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.http_url, timeout=TIMEOUT) as http_client:
        yield http_client


def test_route_with_converter(client: httpx.Client) -> None:
    response = client.get("/items/42")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"id": 42, "type": "int"}


def test_text_route(client: httpx.Client) -> None:
    response = client.get("/hello")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == "Hello, world!"


def test_query_params(client: httpx.Client) -> None:
    response = client.get(
        "/search", params={"q": "lanner", "limit": "5", "exact": "yes", "tags": "a,b"}
    )
    assert response.json() == {"q": "lanner", "limit": 5, "exact": True, "tags": ["a", "b"]}


@pytest.mark.parametrize(
    ("params", "name"), [({"q": "x", "limit": "0"}, "'limit'"), ({"limit": "5"}, "'q'")]
)
def test_bad_query_param_is_400_naming_it(
    client: httpx.Client, params: dict[str, str], name: str
) -> None:
    response = client.get("/search", params=params)
    assert response.status_code == 400
    assert name in response.json()["description"]


def test_unknown_path_is_404_json(client: httpx.Client) -> None:
    response = client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"title": "Not Found"}


def test_unconvertible_field_is_404(client: httpx.Client) -> None:
    assert client.get("/items/abc").status_code == 404


def test_wrong_method_is_405_with_allow(client: httpx.Client) -> None:
    response = client.post("/hello", json={})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"
    assert response.json() == {"title": "Method Not Allowed"}


def test_default_options(client: httpx.Client) -> None:
    response = client.options("/items/1")
    assert response.status_code == 200
    assert response.headers["allow"] == "GET, HEAD, DELETE, OPTIONS"


def test_http_error_from_a_responder(client: httpx.Client) -> None:
    response = client.delete("/items/7")
    assert response.status_code == 409
    assert response.json() == {"title": "Conflict", "description": "Item 7 is in use."}


def test_crash_is_500_without_internals_and_logged_once(
    client: httpx.Client, server: RunningServer
) -> None:
    response = client.get("/crash")
    assert response.status_code == 500
    assert response.json() == {"title": "Internal Server Error"}
    assert "e2e-secret-detail" not in response.text
    log = server.log()
    assert log.count("Unhandled RuntimeError in GET /crash") == 1
    assert "e2e-secret-detail" in log  # the traceback went to the log


def test_head_has_content_length_and_no_body(client: httpx.Client) -> None:
    response = client.head("/hello")
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len("Hello, world!"))
    assert response.content == b""


def test_middleware_order(client: httpx.Client) -> None:
    response = client.get("/hello")
    assert response.headers["x-trace"] == (
        "a.request,b.request,a.resource,b.resource,responder,b.response,a.response"
    )


def test_middleware_on_404_skips_process_resource(client: httpx.Client) -> None:
    response = client.get("/missing")
    assert response.headers["x-trace"] == "a.request,b.request,b.response,a.response"


def test_json_media_round_trip(client: httpx.Client) -> None:
    response = client.post("/echo", json={"a": [1, "é"]})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"echo": {"a": [1, "é"]}}


def test_msgpack_media_round_trip(client: httpx.Client) -> None:
    response = client.post(
        "/echo",
        content=msgpack.packb({"b": b"\x00\xff", "n": [1, 2]}),
        headers={"Content-Type": "application/msgpack"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/msgpack"
    assert msgpack.unpackb(response.content) == {"echo": {"b": b"\x00\xff", "n": [1, 2]}}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"{not json", "application/json"), (b"\xc1", "application/msgpack")],
)
def test_malformed_body_is_400_naming_the_media_type(
    client: httpx.Client, body: bytes, content_type: str
) -> None:
    response = client.post("/echo", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 400
    assert f"could not be decoded as {content_type}" in response.json()["description"]


def test_unsupported_media_type_is_415(client: httpx.Client) -> None:
    response = client.post("/echo", content=b"a,b", headers={"Content-Type": "text/csv"})
    assert response.status_code == 415
    assert "'text/csv'" in response.json()["description"]


def test_sink_with_named_group(client: httpx.Client) -> None:
    response = client.get("/files/docs/readme.md")
    assert response.json() == {"sink": "files", "rest": "docs/readme.md"}


def test_lifespan_startup_ran(client: httpx.Client) -> None:
    assert client.get("/lifespan").json() == {"events": ["startup"]}


def test_request_url_parts(client: httpx.Client, server: RunningServer) -> None:
    response = client.get("/where?x=1")
    assert response.json() == {
        "path": "/where",
        "root_path": "",
        "url": f"{server.http_url}/where?x=1",
        "client": "127.0.0.1",
        "host": "127.0.0.1",
    }


def test_root_path() -> None:
    with (
        serve("http_app:app", env=ENV, args=["--root-path", "/api"]) as running,
        httpx.Client(base_url=running.http_url, timeout=TIMEOUT) as client,
    ):
        response = client.get("/where")
    assert response.status_code == 200
    assert response.json()["path"] == "/where"
    assert response.json()["root_path"] == "/api"
    assert response.json()["url"] == f"{running.http_url}/api/where"


def test_lanner_serve_cli() -> None:
    with (
        serve("http_app:app", env=ENV, cli=True) as running,
        httpx.Client(base_url=running.http_url, timeout=TIMEOUT) as client,
    ):
        response = client.get("/items/5")
        lifespan = client.get("/lifespan")
    assert response.json() == {"id": 5, "type": "int"}
    assert lifespan.json() == {"events": ["startup"]}
