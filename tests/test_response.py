"""Tests for Response: status, headers, body kinds, media, streams and cookies."""

from __future__ import annotations

import http
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgpack
import pytest

import lanner
from lanner.media import BaseHandler
from lanner.options import ResponseOptions
from lanner.testing import ASGIConductor
from lanner.testing._http import Result

Fill = Callable[[lanner.Response], Any]


async def respond(fill: Fill, method: str = "GET", app: lanner.App | None = None) -> Result:
    """Serve one request whose responder calls ``fill(resp)``."""

    class Resource:
        async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
            fill(resp)

    app = app or lanner.App()
    app.add_route("/r", Resource())
    async with ASGIConductor(app) as conductor:
        return await conductor.simulate_request(method, "/r")


def new_response() -> lanner.Response:
    return lanner.Response(ResponseOptions())


# --- status ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code"),
    [(201, 201), (http.HTTPStatus.ACCEPTED, 202), (http.HTTPStatus.IM_A_TEAPOT, 418), (299, 299)],
)
async def test_status_as_int_or_http_status(status: int | http.HTTPStatus, code: int) -> None:
    result = await respond(lambda resp: setattr(resp, "status", status))
    assert result.status_code == code


async def test_default_status_is_200_with_an_empty_body() -> None:
    result = await respond(lambda resp: None)
    assert result.status_code == 200
    assert result.content == b""
    assert result.headers["content-length"] == "0"
    assert "content-type" not in result.headers


# --- headers ----------------------------------------------------------------------


def test_set_append_delete_get_header() -> None:
    resp = new_response()
    resp.set_header("X-One", "1")
    resp.set_header("x-one", "2")  # replaces, whatever the case
    resp.append_header("Vary", "Accept")
    resp.append_header("vary", "Origin")
    resp.set_header("X-Gone", "soon")
    resp.delete_header("X-GONE")
    resp.delete_header("X-Never-Set")
    assert resp.get_header("X-ONE") == "2"
    assert resp.get_header("vary") == "Accept, Origin"
    assert resp.get_header("x-gone") is None
    assert resp.get_header("x-gone", "d") == "d"
    assert resp.headers == {"x-one": "2", "vary": "Accept, Origin"}


def test_content_type_header_is_the_content_type_attribute() -> None:
    resp = new_response()
    resp.set_header("Content-Type", "text/csv")
    assert resp.content_type == "text/csv"
    assert resp.get_header("content-type") == "text/csv"
    resp.delete_header("Content-Type")
    assert resp.content_type is None
    assert resp.get_header("content-type", "none") == "none"


async def test_headers_reach_the_client_with_repeats_as_separate_lines() -> None:
    def fill(resp: lanner.Response) -> None:
        resp.set_header("X-Id", "7")
        resp.append_header("Link", "</a>; rel=a")
        resp.append_header("Link", "</b>; rel=b")
        resp.text = "ok"

    result = await respond(fill)
    assert result.headers["x-id"] == "7"
    assert [v for n, v in result.header_list if n == "link"] == ["</a>; rel=a", "</b>; rel=b"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-Evil", "a\r\nSet-Cookie: owned=1"),
        ("X-Evil", "a\nb"),
        ("X-Evil", "a\rb"),
        ("X-Evil\r\nX-Other", "v"),
        ("X-Evil: v\nX", "v"),
        ("X:Colon", "v"),
    ],
)
@pytest.mark.parametrize("method", ["set_header", "append_header"])
def test_header_injection_is_refused(name: str, value: str, method: str) -> None:
    resp = new_response()
    with pytest.raises(ValueError, match="RFC 9110"):
        getattr(resp, method)(name, value)
    assert resp.headers == {}


@pytest.mark.parametrize(("name", "value"), [("X-Price", "10 \u20ac"), ("X-Ünïcode", "v")])
def test_header_the_wire_cannot_carry_is_refused(name: str, value: str) -> None:
    resp = new_response()
    with pytest.raises(ValueError, match=r"beyond Latin-1|RFC 9110 §5\.1"):
        resp.set_header(name, value)


async def test_latin1_header_value_is_sent() -> None:
    def fill(resp: lanner.Response) -> None:
        resp.set_header("X-Name", "café")

    result = await respond(fill)
    assert result.headers["x-name"] == "café"


# --- body kinds --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attribute", "value", "content_type", "body"),
    [
        ("text", "héllo", "text/plain; charset=utf-8", "héllo".encode()),
        ("data", b"\x00\x01", "application/octet-stream", b"\x00\x01"),
        ("media", {"a": [1, "é"]}, "application/json", '{"a":[1,"é"]}'.encode()),
        ("media", None, "application/json", b"null"),
    ],
)
async def test_default_content_type_per_body_kind(
    attribute: str, value: object, content_type: str, body: bytes
) -> None:
    result = await respond(lambda resp: setattr(resp, attribute, value))
    assert result.headers["content-type"] == content_type
    assert result.content == body
    assert result.headers["content-length"] == str(len(body))


async def test_explicit_content_type_is_kept() -> None:
    def fill(resp: lanner.Response) -> None:
        resp.content_type = "text/html; charset=utf-8"
        resp.text = "<p>hi</p>"

    result = await respond(fill)
    assert result.headers["content-type"] == "text/html; charset=utf-8"
    assert result.text == "<p>hi</p>"


async def test_data_wins_over_text_wins_over_media() -> None:
    def all_three(resp: lanner.Response) -> None:
        resp.media = {"m": 1}
        resp.text = "text"
        resp.data = b"data"

    def two(resp: lanner.Response) -> None:
        resp.media = {"m": 1}
        resp.text = "text"

    assert (await respond(all_three)).content == b"data"
    assert (await respond(two)).content == b"text"


async def test_media_as_msgpack_by_content_type() -> None:
    def fill(resp: lanner.Response) -> None:
        resp.content_type = "application/msgpack"
        resp.media = {"n": 1, "b": b"\xff"}

    result = await respond(fill)
    assert result.headers["content-type"] == "application/msgpack"
    assert msgpack.unpackb(result.content) == {"n": 1, "b": b"\xff"}


class Reversed(BaseHandler):
    """A toy media type: the repr of the object, reversed."""

    def serialize(self, media: object, content_type: str) -> bytes:
        return repr(media)[::-1].encode()

    def deserialize(self, data: bytes, content_type: str) -> object:
        return data.decode()[::-1]


async def test_media_with_a_custom_content_type_and_handler() -> None:
    app = lanner.App()
    app.resp_options.media_handlers["application/x-reversed"] = Reversed()

    def fill(resp: lanner.Response) -> None:
        resp.content_type = "application/x-reversed; charset=utf-8"
        resp.media = [1, 2]

    result = await respond(fill, app=app)
    assert result.headers["content-type"] == "application/x-reversed; charset=utf-8"
    assert result.content == b"]2 ,1["


async def test_custom_default_media_type() -> None:
    app = lanner.App()
    app.resp_options.default_media_type = "application/msgpack"
    result = await respond(lambda resp: setattr(resp, "media", [1]), app=app)
    assert result.headers["content-type"] == "application/msgpack"
    assert msgpack.unpackb(result.content) == [1]


async def test_media_with_no_handler_is_500_with_one_error_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def fill(resp: lanner.Response) -> None:
        resp.content_type = "application/x-unknown"
        resp.media = {"secret": "do-not-leak"}

    with caplog.at_level(logging.DEBUG, logger="lanner"):
        result = await respond(fill)
    assert result.status_code == 500
    assert result.json == {"title": "Internal Server Error"}
    assert "do-not-leak" not in result.text
    records = [r for r in caplog.records if r.name == "lanner"]
    assert len(records) == 1
    assert records[0].levelno == logging.ERROR
    assert records[0].exc_info is not None
    assert "application/x-unknown" in str(records[0].exc_info[1])


def test_media_property() -> None:
    resp = new_response()
    assert resp.media is None
    assert not resp.has_media
    resp.media = None
    assert resp.has_media
    assert resp.media is None


# --- streams -----------------------------------------------------------------------------


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_stream_sends_each_chunk() -> None:
    def fill(resp: lanner.Response) -> None:
        resp.stream = chunks(b"one,", b"two,", b"three")

    result = await respond(fill)
    assert result.status_code == 200
    assert result.content == b"one,two,three"
    assert result.headers["content-type"] == "application/octet-stream"
    assert "content-length" not in result.headers


async def test_stream_keeps_status_headers_and_content_type() -> None:
    def fill(resp: lanner.Response) -> None:
        resp.status = 206
        resp.content_type = "text/csv"
        resp.set_header("X-Rows", "2")
        resp.stream = chunks(b"a,b\n", b"c,d\n")

    result = await respond(fill)
    assert result.status_code == 206
    assert result.headers["content-type"] == "text/csv"
    assert result.headers["x-rows"] == "2"
    assert result.text == "a,b\nc,d\n"


async def test_stream_is_closed_after_sending() -> None:
    closed: list[bool] = []

    async def generator() -> AsyncIterator[bytes]:
        try:
            yield b"x"
            yield b"y"
        finally:
            closed.append(True)

    result = await respond(lambda resp: setattr(resp, "stream", generator()))
    assert result.content == b"xy"
    assert closed == [True]


async def test_head_of_a_stream_sends_no_body_and_does_not_run_it() -> None:
    started: list[bool] = []

    async def generator() -> AsyncIterator[bytes]:
        started.append(True)
        yield b"never"

    result = await respond(lambda resp: setattr(resp, "stream", generator()), method="HEAD")
    assert result.status_code == 200
    assert result.content == b""
    assert started == []


async def test_stream_failing_midway_ends_the_body_and_logs_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def failing() -> AsyncIterator[bytes]:
        yield b"partial"
        raise RuntimeError("stream broke")

    with caplog.at_level(logging.DEBUG, logger="lanner"):
        result = await respond(lambda resp: setattr(resp, "stream", failing()))
    assert result.status_code == 200
    assert result.content == b"partial"
    records = [r for r in caplog.records if r.name == "lanner"]
    assert len(records) == 1
    assert records[0].levelno == logging.ERROR
    assert records[0].exc_info is not None


# --- cookies -------------------------------------------------------------------------------


def set_cookie_lines(resp: lanner.Response) -> list[str]:
    return [v for n, v in resp.extra_headers() if n == "set-cookie"]


def test_set_cookie_is_secure_http_only_and_lax_by_default() -> None:
    resp = new_response()
    resp.set_cookie("session", "abc123")
    assert set_cookie_lines(resp) == ["session=abc123; Path=/; Secure; HttpOnly; SameSite=Lax"]


def test_set_cookie_with_every_option() -> None:
    resp = new_response()
    resp.set_cookie(
        "theme",
        "dark",
        max_age=3600,
        path="/app",
        domain="example.com",
        secure=False,
        http_only=False,
        same_site="strict",
    )
    assert set_cookie_lines(resp) == [
        "theme=dark; Max-Age=3600; Path=/app; Domain=example.com; SameSite=Strict"
    ]


def test_same_site_none() -> None:
    resp = new_response()
    resp.set_cookie("x", "1", same_site="None", path=None)
    assert set_cookie_lines(resp) == ["x=1; Secure; HttpOnly; SameSite=None"]


def test_unset_cookie_expires_it() -> None:
    resp = new_response()
    resp.unset_cookie("session")
    assert set_cookie_lines(resp) == ["session=; Max-Age=0; Path=/; Secure; HttpOnly"]


async def test_cookies_reach_the_client_as_separate_headers() -> None:
    def fill(resp: lanner.Response) -> None:
        resp.set_cookie("a", "1")
        resp.set_cookie("b", "2", secure=False)

    result = await respond(fill)
    assert result.cookies == {"a": "1", "b": "2"}
    lines = [v for n, v in result.header_list if n == "set-cookie"]
    assert len(lines) == 2
    assert "Secure" in lines[0]
    assert "Secure" not in lines[1]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("bad name", "v"),
        ("name", "a;b"),
        ("name", "a,b"),
        ("name", 'say "hi"'),
        ("name", "line\r\nSet-Cookie: x=1"),
        ("na\x00me", "v"),
        ("", "v"),
        ("a=b", "v"),
    ],
)
def test_bad_cookie_is_refused(name: str, value: str) -> None:
    resp = new_response()
    with pytest.raises(ValueError, match=r"[Cc]ookie"):
        resp.set_cookie(name, value)
    assert set_cookie_lines(resp) == []


def test_bad_same_site_is_refused() -> None:
    resp = new_response()
    with pytest.raises(ValueError, match="same_site must be Lax, Strict or None; got 'loose'"):
        resp.set_cookie("a", "1", same_site="loose")
    assert set_cookie_lines(resp) == []
