"""Tests for Request: URL parts, parameters, headers, cookies, body and media."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgpack
import pytest

import lanner
from lanner.testing import ASGIConductor
from lanner.testing._http import Result

Probe = Callable[[lanner.Request], Any]

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def probe_app(probe: Probe, seen: list[Any]) -> lanner.App:
    """An app whose /probe route records ``probe(req)`` (awaited if need be) in ``seen``."""

    async def responder(req: lanner.Request, resp: lanner.Response) -> None:
        value = probe(req)
        if isinstance(value, Awaitable):
            value = await value
        seen.append(value)
        resp.text = repr(value)

    resource = type("Probe", (), {f"on_{m.lower()}": staticmethod(responder) for m in METHODS})
    app = lanner.App()
    app.add_route("/probe", resource())
    return app


async def run(
    probe: Probe, method: str = "GET", path: str = "/probe", **kwargs: Any
) -> tuple[Result, Any]:
    """Send one request to a probe app; return the result and what the probe saw."""
    seen: list[Any] = []
    async with ASGIConductor(probe_app(probe, seen)) as conductor:
        result = await conductor.simulate_request(method, path, **kwargs)
    return result, (seen[0] if seen else None)


# --- method, path, URL -----------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
async def test_method(method: str) -> None:
    _result, seen = await run(lambda req: req.method, method)
    assert seen == method


async def test_path_and_scope() -> None:
    result, seen = await run(lambda req: (req.path, req.scope["type"], req.root_path))
    assert result.status_code == 200
    assert seen == ("/probe", "http", "")


async def test_path_is_without_root_path() -> None:
    result, seen = await run(
        lambda req: (req.path, req.root_path, req.url), root_path="/api", params={"q": "1"}
    )
    assert result.status_code == 200
    assert seen == ("/probe", "/api", "http://testserver/api/probe?q=1")


def _scope(path: str, root_path: str) -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": path, "root_path": root_path, "headers": []}


async def _no_receive() -> dict[str, Any]:
    raise AssertionError("receive must not be called")


@pytest.mark.parametrize(
    ("path", "root_path", "expected"),
    [
        ("/api/probe", "/api", "/probe"),
        ("/api", "/api", "/"),
        ("/api/", "/api", "/"),
        # A server that leaves root_path out of path (older ASGI servers).
        ("/probe", "/api", "/probe"),
        # Only a whole leading segment is the root path.
        ("/apiary", "/api", "/apiary"),
    ],
)
def test_root_path_is_stripped_only_as_a_whole_prefix(
    path: str, root_path: str, expected: str
) -> None:
    req = lanner.Request(_scope(path, root_path), _no_receive, lanner.App().req_options)
    assert req.path == expected


async def test_setting_path_in_process_request_reroutes() -> None:
    class Rewrite:
        async def process_request(self, req: lanner.Request, resp: lanner.Response) -> None:
            if req.path.startswith("/old/"):
                req.path = "/new/" + req.path.removeprefix("/old/")

    class New:
        async def on_get(self, req: lanner.Request, resp: lanner.Response, name: str) -> None:
            resp.media = {"new": name, "path": req.path}

    app = lanner.App(middleware=Rewrite())
    app.add_route("/new/{name}", New())
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_get("/old/page")
    assert result.status_code == 200
    assert result.json == {"new": "page", "path": "/new/page"}


async def test_scheme_host_url_and_client() -> None:
    result, seen = await run(
        lambda req: (req.scheme, req.host, req.url, req.client, req.remote_addr),
        params={"a": "1"},
    )
    assert result.status_code == 200
    assert seen == (
        "http",
        "testserver",
        "http://testserver/probe?a=1",
        ("127.0.0.1", 50000),
        "127.0.0.1",
    )


@pytest.mark.parametrize(
    ("host_header", "host"),
    [
        ("example.com", "example.com"),
        ("example.com:8080", "example.com"),
        ("[::1]:8000", "[::1]"),
        ("[::1]", "[::1]"),
    ],
)
async def test_host_drops_the_port(host_header: str, host: str) -> None:
    _result, seen = await run(lambda req: (req.host, req.url), headers={"Host": host_header})
    assert seen == (host, f"http://{host_header}/probe")


def test_host_without_a_host_header_comes_from_the_server() -> None:
    scope = {**_scope("/", ""), "server": ("10.0.0.1", 9000)}
    req = lanner.Request(scope, _no_receive, lanner.App().req_options)
    assert req.host == "10.0.0.1"
    assert req.client is None
    assert req.remote_addr is None


# --- query parameters -------------------------------------------------------------


async def test_get_param_first_value_default_and_params() -> None:
    result, seen = await run(
        lambda req: (
            req.get_param("a"),
            req.get_param("missing"),
            req.get_param("missing", default="d"),
            req.get_param("blank"),
            req.params,
            req.query_string,
        ),
        path="/probe?a=1&a=2&b=x%20y&blank=",
    )
    assert result.status_code == 200
    assert seen == (
        "1",
        None,
        "d",
        None,
        {"a": ["1", "2"], "b": ["x y"]},
        "a=1&a=2&b=x%20y&blank=",
    )


async def test_required_param_missing_is_400_naming_it() -> None:
    result, _seen = await run(lambda req: req.get_param("token", required=True))
    assert result.status_code == 400
    assert result.json == {
        "title": "Missing parameter",
        "description": "The 'token' query parameter is required.",
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [("n=5", 5), ("n=1", 1), ("n=10", 10), ("n=-0", 0), ("", 7)],
)
async def test_get_param_as_int(query: str, expected: int) -> None:
    result, seen = await run(
        lambda req: req.get_param_as_int("n", default=7, min_value=0, max_value=10),
        path=f"/probe?{query}",
    )
    assert result.status_code == 200
    assert seen == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("n=x", "an integer; got 'x'"),
        ("n=1.5", "an integer; got '1.5'"),
        ("n=0", "an integer >= 1; got '0'"),
        ("n=11", "an integer <= 10; got '11'"),
    ],
)
async def test_get_param_as_int_bad_value_is_400_naming_the_parameter(
    query: str, expected: str
) -> None:
    result, _seen = await run(
        lambda req: req.get_param_as_int("n", min_value=1, max_value=10), path=f"/probe?{query}"
    )
    assert result.status_code == 400
    assert result.json == {
        "title": "Invalid parameter",
        "description": f"The 'n' query parameter must be {expected}.",
    }


async def test_get_param_as_int_required() -> None:
    result, _seen = await run(lambda req: req.get_param_as_int("n", required=True))
    assert result.status_code == 400
    assert "'n'" in result.json["description"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *((word, True) for word in ("true", "True", "1", "yes", "y", "on", "t")),
        *((word, False) for word in ("false", "FALSE", "0", "no", "n", "off", "f")),
    ],
)
async def test_get_param_as_bool(value: str, expected: bool) -> None:
    _result, seen = await run(lambda req: req.get_param_as_bool("flag"), params={"flag": value})
    assert seen is expected


async def test_get_param_as_bool_default_and_bad_value() -> None:
    _result, seen = await run(lambda req: req.get_param_as_bool("flag", default=True))
    assert seen is True
    result, _seen = await run(lambda req: req.get_param_as_bool("flag"), params={"flag": "maybe"})
    assert result.status_code == 400
    assert "'flag'" in result.json["description"]
    assert "'maybe'" in result.json["description"]


async def test_get_param_as_list_splits_commas_and_repeats() -> None:
    _result, seen = await run(lambda req: req.get_param_as_list("tag"), path="/probe?tag=a,b&tag=c")
    assert seen == ["a", "b", "c"]


async def test_get_param_as_list_with_transform() -> None:
    _result, seen = await run(
        lambda req: req.get_param_as_list("id", transform=int), path="/probe?id=1,2&id=3"
    )
    assert seen == [1, 2, 3]


async def test_get_param_as_list_transform_failure_is_400_naming_the_parameter() -> None:
    result, _seen = await run(
        lambda req: req.get_param_as_list("id", transform=int), path="/probe?id=1,x"
    )
    assert result.status_code == 400
    assert result.json["description"] == (
        "The 'id' query parameter must be a list of int; got '1,x'."
    )


async def test_get_param_as_list_required_and_default() -> None:
    _result, seen = await run(lambda req: req.get_param_as_list("id", default=["z"]))
    assert seen == ["z"]
    result, _seen = await run(lambda req: req.get_param_as_list("id", required=True))
    assert result.status_code == 400
    assert "'id'" in result.json["description"]


async def test_blank_values_are_kept_when_asked() -> None:
    seen: list[Any] = []
    app = probe_app(lambda req: req.params, seen)
    app.req_options.keep_blank_qs_values = True
    async with ASGIConductor(app) as conductor:
        await conductor.simulate_get("/probe?a=&b=1")
    assert seen == [{"a": [""], "b": ["1"]}]


# --- headers, cookies ---------------------------------------------------------------


async def test_get_header_is_case_insensitive_with_default() -> None:
    _result, seen = await run(
        lambda req: (
            req.get_header("X-Token"),
            req.get_header("x-token"),
            req.get_header("X-TOKEN"),
            req.get_header("X-Missing"),
            req.get_header("X-Missing", default="d"),
        ),
        headers={"X-Token": "abc"},
    )
    assert seen == ("abc", "abc", "abc", None, "d")


async def test_required_header_missing_is_400_naming_it() -> None:
    result, _seen = await run(lambda req: req.get_header("X-Token", required=True))
    assert result.status_code == 400
    assert result.json == {
        "title": "Missing header",
        "description": "The X-Token header is required.",
    }


def test_headers_lower_cased_and_repeats_joined() -> None:
    scope = {
        **_scope("/", ""),
        "headers": [
            (b"X-One", b"1"),
            (b"accept", b"text/html"),
            (b"Accept", b"application/json"),
            (b"cookie", b"a=1"),
            (b"cookie", b"b=2"),
        ],
    }
    req = lanner.Request(scope, _no_receive, lanner.App().req_options)
    assert req.headers == {
        "x-one": "1",
        "accept": "text/html, application/json",
        "cookie": "a=1; b=2",
    }
    assert req.cookies == {"a": "1", "b": "2"}


async def test_cookies() -> None:
    _result, seen = await run(
        lambda req: req.cookies,
        headers={"Cookie": 'session=abc123; theme="dark"; junk; first=1; first=2'},
    )
    assert seen == {"session": "abc123", "theme": "dark", "first": "1"}


async def test_no_cookie_header_means_no_cookies() -> None:
    _result, seen = await run(lambda req: req.cookies)
    assert seen == {}


async def test_content_type_and_last_event_id() -> None:
    _result, seen = await run(
        lambda req: (req.content_type, req.last_event_id),
        headers={"Content-Type": "text/plain; charset=utf-8", "Last-Event-ID": "41"},
    )
    assert seen == ("text/plain; charset=utf-8", "41")
    _result, seen = await run(lambda req: (req.content_type, req.last_event_id))
    assert seen == (None, None)


async def test_context_is_shared_by_middleware_and_responder() -> None:
    class Auth:
        async def process_request(self, req: lanner.Request, resp: lanner.Response) -> None:
            req.context.user = "ada"

    class Who:
        async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
            resp.media = {"user": req.context.user}

    app = lanner.App(middleware=[Auth()])
    app.add_route("/who", Who())
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_get("/who")
    assert result.json == {"user": "ada"}


# --- body and media ------------------------------------------------------------------


async def test_get_media_json() -> None:
    result, seen = await run(lambda req: req.get_media(), "POST", json={"a": [1, 2], "b": None})
    assert result.status_code == 200
    assert seen == {"a": [1, 2], "b": None}


async def test_get_media_msgpack() -> None:
    result, seen = await run(
        lambda req: req.get_media(),
        "POST",
        body=msgpack.packb({"a": [1, 2], "bin": b"\x00"}),
        content_type="application/msgpack",
    )
    assert result.status_code == 200
    assert seen == {"a": [1, 2], "bin": b"\x00"}


async def test_get_media_without_content_type_assumes_json() -> None:
    _result, seen = await run(lambda req: req.get_media(), "POST", body=b'{"x": 1}')
    assert seen == {"x": 1}


async def test_get_media_is_cached() -> None:
    async def twice(req: lanner.Request) -> bool:
        return (await req.get_media()) is (await req.get_media())

    _result, seen = await run(twice, "POST", json={"a": 1})
    assert seen is True


async def test_get_body_is_cached_and_stream_reads_once() -> None:
    async def read(req: lanner.Request) -> Any:
        first = await req.get_body()
        second = await req.get_body()
        try:
            req.stream  # noqa: B018 - the property marks the body as read
        except RuntimeError as exc:
            return [first.decode(), second.decode(), str(exc)]
        return None

    _result, seen = await run(read, "POST", body=b"raw bytes")
    assert seen[:2] == ["raw bytes", "raw bytes"]
    assert "already read" in seen[2]


async def test_stream_yields_the_body() -> None:
    async def read(req: lanner.Request) -> str:
        return b"".join([chunk async for chunk in req.stream]).decode()

    _result, seen = await run(read, "PUT", body="streamed")
    assert seen == "streamed"


async def test_body_within_the_limit_is_read() -> None:
    seen: list[Any] = []
    app = probe_app(lambda req: req.get_body(), seen)
    app.req_options.max_body_size = 10
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_post("/probe", body=b"x" * 10)
    assert result.status_code == 200
    assert seen == [b"x" * 10]


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Length": "11"},  # declared too large
        {"Content-Length": "3"},  # declared small, sent more
        {},  # nothing declared, sent more
    ],
)
async def test_body_over_max_body_size_is_413(headers: dict[str, str]) -> None:
    seen: list[Any] = []
    app = probe_app(lambda req: req.get_body(), seen)
    app.req_options.max_body_size = 10
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_post("/probe", body=b"x" * 11, headers=headers)
    assert result.status_code == 413
    assert seen == []
    assert result.json == {
        "title": "Content Too Large",
        "description": (
            "The request body exceeds the limit of 10 bytes (req_options.max_body_size)."
        ),
    }


async def test_declared_too_large_body_is_refused_before_receiving() -> None:
    app = probe_app(lambda req: req.get_body(), [])
    app.req_options.max_body_size = 10
    scope = {**_scope("/probe", ""), "method": "POST", "headers": [(b"content-length", b"999")]}
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, _no_receive, send)
    assert sent[0]["status"] == 413


async def test_streamed_body_over_the_limit_is_413_after_several_chunks() -> None:
    app = probe_app(lambda req: req.get_body(), [])
    app.req_options.max_body_size = 10
    chunks = [b"abcd", b"efgh", b"ijkl", b"mnop"]
    received = 0

    async def receive() -> dict[str, Any]:
        nonlocal received
        received += 1
        return {"type": "http.request", "body": chunks[received - 1], "more_body": True}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({**_scope("/probe", ""), "method": "POST"}, receive, send)
    assert sent[0]["status"] == 413
    assert received == 3  # stopped reading as soon as the bound was passed


async def test_chunked_body_is_joined() -> None:
    seen: list[Any] = []
    app = probe_app(lambda req: req.get_body(), seen)
    messages = [
        {"type": "http.request", "body": b"one ", "more_body": True},
        {"type": "http.request", "body": b"", "more_body": True},
        {"type": "http.request", "body": b"two", "more_body": False},
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        pass

    await app({**_scope("/probe", ""), "method": "POST"}, receive, send)
    assert seen == [b"one two"]
    assert messages == []


async def test_invalid_content_length_is_400() -> None:
    result, _seen = await run(
        lambda req: req.get_body(), "POST", body=b"x", headers={"Content-Length": "lots"}
    )
    assert result.status_code == 400
    assert "Content-Length" in result.json["description"]


@pytest.mark.parametrize("reads_body", [False, True])
async def test_receive_is_only_called_when_the_body_is_read(reads_body: bool) -> None:
    class Resource:
        async def on_post(self, req: lanner.Request, resp: lanner.Response) -> None:
            if reads_body:
                resp.data = await req.get_body()
            else:
                resp.text = f"{req.method} {req.path} {req.get_param('a')} {req.headers}"

    app = lanner.App()
    app.add_route("/r", Resource())
    calls = 0

    async def receive() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        return {"type": "http.request", "body": b"payload", "more_body": False}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {**_scope("/r", ""), "method": "POST", "query_string": b"a=1"}
    await app(scope, receive, send)
    assert sent[0]["status"] == 200
    assert calls == (1 if reads_body else 0)


def test_nothing_is_parsed_until_asked() -> None:
    # Headers, params and cookies are parsed on first access only.
    scope = {**_scope("/", ""), "headers": [(b"cookie", b"a=1")], "query_string": b"x=1"}
    req = lanner.Request(scope, _no_receive, lanner.App().req_options)
    parsed = ("_headers", "_params", "_cookies")
    assert [name for name in parsed if hasattr(req, name)] == []
    assert req.get_param("x") == "1"
    assert not hasattr(req, "_headers")
    assert req.cookies == {"a": "1"}


async def test_a_client_leaving_mid_body_is_not_mistaken_for_the_whole_body() -> None:
    """get_body() raises instead of returning the part that arrived."""
    messages = iter(
        [
            {"type": "http.request", "body": b'{"partial": ', "more_body": True},
            {"type": "http.disconnect"},
        ]
    )

    async def receive() -> dict[str, Any]:
        return next(messages)

    req = lanner.Request({**_scope("/", ""), "method": "POST"}, receive, lanner.App().req_options)
    with pytest.raises(lanner.HTTPBadRequest) as info:
        await req.get_body()
    assert "after 12 bytes" in str(info.value.description)
