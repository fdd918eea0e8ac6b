"""Header names and values are checked against RFC 9110 wherever the app sets them."""

from __future__ import annotations

import logging

import pytest

import lanner
from lanner.options import ResponseOptions
from lanner.testing import ASGIConductor
from tests._ws_app import ws_app

BAD_VALUES = [
    ("a\x00b", "the control character '\\x00' (U+0000) at index 1"),
    ("a\x0bb", "the control character '\\x0b' (U+000B) at index 1"),
    ("a\x7fb", "the control character '\\x7f' (U+007F) at index 1"),
    ("a\rb", "the control character '\\r' (U+000D) at index 1"),
    ("a\nb", "the control character '\\n' (U+000A) at index 1"),
    ("x\r\nSet-Cookie: owned=1", "'\\r' (U+000D) at index 1"),
    ("10 \u20ac", "the character '€' (U+20AC EURO SIGN), beyond Latin-1"),
    ("\ud800", "U+D800"),
    (" padded", "starts or ends with whitespace"),
    ("padded\t", "starts or ends with whitespace"),
]
GOOD_VALUES = ["", "plain", "a\tb c", "caf\xe9", "\x80\xff", "!~"]
BAD_NAMES = [
    ("", "is empty"),
    ("X Y", "has the character ' '"),
    ("X:Y", "has the character ':'"),
    ("X\x00", "has the control character '\\x00'"),
    ("Ünïcode", "has the character 'Ü'"),
    ("(x)", "has the character '('"),
]


def _response() -> lanner.Response:
    return lanner.Response(ResponseOptions())


@pytest.mark.parametrize("method", ["set_header", "append_header"])
@pytest.mark.parametrize(("value", "found"), BAD_VALUES, ids=[v for v, _ in BAD_VALUES])
def test_a_bad_value_is_refused_naming_the_header_and_the_character(
    method: str, value: str, found: str
) -> None:
    resp = _response()
    with pytest.raises(ValueError, match="Header 'X-Test'") as refused:
        getattr(resp, method)("X-Test", value)
    assert found in str(refused.value)
    assert resp.headers == {}


@pytest.mark.parametrize("value", GOOD_VALUES)
def test_a_field_value_is_accepted(value: str) -> None:
    resp = _response()
    resp.set_header("X-Test", value)
    assert resp.get_header("X-Test") == value


@pytest.mark.parametrize(("name", "found"), BAD_NAMES, ids=[n for n, _ in BAD_NAMES])
def test_a_name_that_is_not_a_token_is_refused(name: str, found: str) -> None:
    with pytest.raises(ValueError, match="is a token") as refused:
        _response().set_header(name, "v")
    assert found in str(refused.value)


def test_a_value_that_is_not_a_str_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="convert it with str"):
        _response().set_header("Content-Length", 5)  # type: ignore[arg-type]


@pytest.mark.parametrize("option", ["path", "domain"])
def test_cookie_attributes_are_checked_too(option: str) -> None:
    resp = _response()
    with pytest.raises(ValueError, match="Header 'set-cookie'"):
        resp.set_cookie("id", "1", **{option: "/a\x00b"})  # type: ignore[arg-type]
    assert resp.headers == {}


async def test_a_bad_header_in_a_responder_is_a_500_and_the_log_names_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Resource:
        async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
            resp.set_header("X-Echo", "a\x00b")

    app = lanner.App()
    app.add_route("/", Resource())
    with caplog.at_level(logging.ERROR, logger="lanner"):
        async with ASGIConductor(app) as conductor:
            result = await conductor.simulate_get("/")
    assert result.status_code == 500
    assert result.json == {"title": "Internal Server Error"}
    assert "Header 'X-Echo': the value 'a\\x00b'" in caplog.text


@pytest.mark.parametrize(
    "fill",
    [
        lambda resp: setattr(resp, "content_type", "text/plain\x0b"),
        lambda resp: setattr(resp, "content_type", "text/plain; name=\u2713"),
    ],
    ids=["control", "beyond-latin-1"],
)
async def test_a_bad_content_type_is_a_500_not_a_broken_reply(
    fill: object, caplog: pytest.LogCaptureFixture
) -> None:
    class Resource:
        async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
            fill(resp)  # type: ignore[operator]
            resp.text = "body"

    app = lanner.App()
    app.add_route("/", Resource())
    with caplog.at_level(logging.ERROR, logger="lanner"):
        async with ASGIConductor(app) as conductor:
            result = await conductor.simulate_get("/")
    assert result.status_code == 500
    assert result.headers["content-type"] == "application/json"
    assert "Header 'Content-Type'" in caplog.text


async def test_a_bad_header_on_an_http_error_is_a_500() -> None:
    class Resource:
        async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
            raise lanner.HTTPForbidden(headers={"X-Reason": "no\nway"})

    app = lanner.App()
    app.add_route("/", Resource())
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_get("/")
    assert result.status_code == 500
    assert "x-reason" not in result.headers


async def test_accept_headers_are_checked_and_the_handshake_can_go_on() -> None:
    refusals: list[str] = []

    async def body(req: lanner.Request, ws: lanner.WebSocket) -> None:
        try:
            await ws.accept(headers={"X-Bad": "a\x7fb"})
        except ValueError as exc:
            refusals.append(str(exc))
        await ws.accept(headers=[("X-Good", "caf\xe9")])
        await ws.send_text("open")

    async with (
        ASGIConductor(ws_app(body)) as conductor,
        conductor.simulate_ws("/ws") as ws,
    ):
        assert await ws.receive_text() == "open"
        assert ws.headers == {"x-good": "caf\xe9"}
    assert len(refusals) == 1
    assert refusals[0].startswith("Header 'X-Bad': the value 'a\\x7fb' has the control character")
