"""ASGI versions in the scope: one parser, tuples of any length, unsupported majors refused.

``scope["asgi"]["spec_version"]`` must be 2.x for HTTP and WebSocket scopes and
1.x or 2.x for lifespan; ``scope["asgi"]["version"]`` (the interface) must be
3.x. Anything else raises ``lanner.UnsupportedScopeError`` before the app
receives or sends a message. (WebSocket scopes through the conductor are in
``tests/ws/test_conformance.py``.)
"""

from __future__ import annotations

from typing import Any

import pytest

import lanner
from lanner._spec_version import parse_version
from lanner.testing import ASGIConductor

Message = dict[str, Any]


class Hello:
    """Answers GET and accepts WebSocket handshakes."""

    async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
        resp.text = "hello"

    async def on_websocket(self, req: lanner.Request, ws: lanner.WebSocket) -> None:
        await ws.accept()


def _app() -> lanner.App:
    app = lanner.App()
    app.add_route("/", Hello())
    return app


class Recorder:
    """An ASGI receive/send pair that records what the app did."""

    def __init__(self, first: Message) -> None:
        self.first = first
        self.received = 0
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        self.received += 1
        if self.received == 1:
            return self.first
        raise AssertionError("the app asked for a second message")

    async def send(self, message: Message) -> None:
        self.sent.append(message)


def _scope(kind: str, asgi: dict[str, str] | None) -> dict[str, Any]:
    scope: dict[str, Any] = {"type": kind}
    if asgi is not None:
        scope["asgi"] = asgi
    if kind != "lifespan":
        scope.update(path="/", query_string=b"", headers=[], scheme="http")
    if kind == "http":
        scope["method"] = "GET"
    return scope


_FIRST = {
    "http": {"type": "http.request", "body": b"", "more_body": False},
    "websocket": {"type": "websocket.connect"},
    "lifespan": {"type": "lifespan.startup"},
}


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [("2", (2,)), ("2.4", (2, 4)), ("2.4.1", (2, 4, 1)), ("2.10.3", (2, 10, 3)), (" 3.0 ", (3, 0))],
)
def test_versions_parse_to_tuples_of_any_length(raw: str, parsed: tuple[int, ...]) -> None:
    assert parse_version(raw) == parsed


def test_versions_compare_as_tuples() -> None:
    assert parse_version("2.4.1") > parse_version("2.4") > parse_version("2.3.9")
    assert parse_version("2.10") > parse_version("2.4")


@pytest.mark.parametrize("raw", ["", "2.", ".4", "2.x", "v2", "2..4", "²"])
def test_malformed_versions_raise_value_error(raw: str) -> None:
    with pytest.raises(ValueError, match="not a version"):
        parse_version(raw)


@pytest.mark.parametrize("kind", ["http", "websocket"])
@pytest.mark.parametrize("spec", ["1.0", "3.0", "3.1.2", "0.9", "x"])
async def test_http_and_websocket_scopes_of_another_major_are_refused(kind: str, spec: str) -> None:
    peer = Recorder(_FIRST[kind])
    scope = _scope(kind, {"version": "3.0", "spec_version": spec})
    with pytest.raises(lanner.UnsupportedScopeError, match=rf"{spec!r} of the ASGI '{kind}'"):
        await _app()(scope, peer.receive, peer.send)
    assert (peer.received, peer.sent) == (0, [])


@pytest.mark.parametrize("kind", ["http", "websocket"])
@pytest.mark.parametrize("spec", ["2.0", "2.3", "2.4.1", "2.10.3", None])
async def test_http_and_websocket_scopes_of_major_2_are_served(kind: str, spec: str | None) -> None:
    peer = Recorder(_FIRST[kind])
    asgi = {"version": "3.0"} if spec is None else {"version": "3.0", "spec_version": spec}
    await _app()(_scope(kind, asgi), peer.receive, peer.send)
    expected = "http.response.start" if kind == "http" else "websocket.accept"
    assert peer.sent[0]["type"] == expected


async def test_a_scope_without_asgi_key_is_served() -> None:
    peer = Recorder(_FIRST["http"])
    await _app()(_scope("http", None), peer.receive, peer.send)
    assert peer.sent[0]["status"] == 200


@pytest.mark.parametrize("spec", ["3.0", "0.1"])
async def test_a_lifespan_scope_of_another_major_is_refused(spec: str) -> None:
    peer = Recorder(_FIRST["lifespan"])
    scope = _scope("lifespan", {"version": "3.0", "spec_version": spec})
    with pytest.raises(lanner.UnsupportedScopeError, match=r"1\.x or 2\.x"):
        await _app()(scope, peer.receive, peer.send)
    assert (peer.received, peer.sent) == (0, [])


@pytest.mark.parametrize("interface", ["2.0", "4.0", "30.0"])
async def test_a_lifespan_scope_of_another_asgi_interface_is_refused(interface: str) -> None:
    peer = Recorder(_FIRST["lifespan"])
    scope = _scope("lifespan", {"version": interface, "spec_version": "2.0"})
    with pytest.raises(lanner.UnsupportedScopeError, match="ASGI 3 application"):
        await _app()(scope, peer.receive, peer.send)
    assert peer.sent == []


@pytest.mark.parametrize("spec", ["1.0", "2.0", "2.0.1", None])
async def test_lifespan_1_and_2_start_up(spec: str | None) -> None:
    asgi = {"version": "3.1"} if spec is None else {"version": "3.1", "spec_version": spec}
    peer = Recorder(_FIRST["lifespan"])
    with pytest.raises(AssertionError, match="second message"):
        await _app()(_scope("lifespan", asgi), peer.receive, peer.send)
    assert peer.sent == [{"type": "lifespan.startup.complete"}]


async def test_the_conductor_lifespan_and_http_are_served() -> None:
    async with ASGIConductor(_app()) as c:
        result = await c.simulate_get("/")
    assert result.text == "hello"
