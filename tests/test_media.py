"""Tests for media: request bodies through handlers, and the handlers themselves."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import msgpack
import pytest

import lanner
from lanner.media import (
    BaseHandler,
    Handlers,
    JSONHandler,
    JSONHandlerWS,
    MessagePackHandler,
    MessagePackHandlerWS,
)
from lanner.testing import ASGIConductor
from lanner.testing._http import Result


class Echo:
    """Decodes the body with ``get_media`` and sends it back as JSON."""

    def __init__(self, **media_kwargs: Any) -> None:
        self.media_kwargs = media_kwargs

    async def on_post(self, req: lanner.Request, resp: lanner.Response) -> None:
        resp.media = {"got": await req.get_media(**self.media_kwargs)}


async def post(
    body: bytes,
    content_type: str | None,
    *,
    app: lanner.App | None = None,
    **media_kwargs: Any,
) -> Result:
    app = app or lanner.App()
    app.add_route("/echo", Echo(**media_kwargs))
    async with ASGIConductor(app) as conductor:
        return await conductor.simulate_post("/echo", body=body, content_type=content_type)


# --- request bodies ------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"]
)
async def test_json_body(content_type: str) -> None:
    result = await post('{"a": [1, "é"]}'.encode(), content_type)
    assert result.status_code == 200
    assert result.json == {"got": {"a": [1, "é"]}}


async def test_msgpack_body() -> None:
    result = await post(msgpack.packb({"a": [1, 2]}), "application/msgpack")
    assert result.status_code == 200
    assert result.json == {"got": {"a": [1, 2]}}


@pytest.mark.parametrize(
    "body", [b"{not json", b'{"a": 1', b"\xff\xfe", b"[1, 2,]", b"{'single': 1}"]
)
async def test_malformed_json_is_400_naming_the_media_type(body: bytes) -> None:
    result = await post(body, "application/json")
    assert result.status_code == 400
    assert result.json["title"] == "Invalid body"
    assert result.json["description"].startswith(
        "The request body could not be decoded as application/json: "
    )


@pytest.mark.parametrize(
    "body",
    [
        b"\xc1",  # a byte MessagePack never uses
        b"\x92\x01",  # an array of two with one item
        msgpack.packb({1: "int key"}),  # non-string map keys are refused
        msgpack.packb([1]) + b"\x00",  # trailing data
    ],
)
async def test_malformed_msgpack_is_400_naming_the_media_type(body: bytes) -> None:
    result = await post(body, "application/msgpack; charset=binary")
    assert result.status_code == 400
    assert result.json["description"].startswith(
        "The request body could not be decoded as application/msgpack: "
    )


@pytest.mark.parametrize("content_type", ["text/csv", "application/xml; charset=utf-8"])
async def test_unsupported_content_type_is_415_naming_it(content_type: str) -> None:
    result = await post(b"a,b", content_type)
    assert result.status_code == 415
    assert result.json["title"] == "Unsupported Media Type"
    description = result.json["description"]
    assert f"{content_type!r}" in description
    assert "application/json, application/msgpack" in description


async def test_missing_content_type_is_read_as_json() -> None:
    result = await post(b"[1]", None)
    assert result.json == {"got": [1]}


@pytest.mark.parametrize("content_type", ["application/json", "application/msgpack"])
async def test_empty_body_is_400(content_type: str) -> None:
    result = await post(b"", content_type)
    assert result.status_code == 400
    assert result.json["description"] == (
        f"The request body could not be decoded as {content_type}: the body is empty"
    )


@pytest.mark.parametrize("default", [None, {}, "fallback"])
async def test_empty_body_gives_default_when_empty(default: Any) -> None:
    result = await post(b"", "application/json", default_when_empty=default)
    assert result.status_code == 200
    assert result.json == {"got": default}


async def test_default_when_empty_does_not_hide_malformed_bodies() -> None:
    result = await post(b"{", "application/json", default_when_empty=None)
    assert result.status_code == 400


class Exploding(BaseHandler):
    def serialize(self, media: object, content_type: str) -> bytes:
        raise NotImplementedError

    def deserialize(self, data: bytes, content_type: str) -> object:
        raise KeyError("whatever the decoder raises")


async def test_any_decoder_error_is_400_never_500() -> None:
    app = lanner.App()
    app.req_options.media_handlers["application/x-explode"] = Exploding()
    result = await post(b"x", "application/x-explode", app=app)
    assert result.status_code == 400
    assert "application/x-explode" in result.json["description"]


async def test_custom_request_media_handler() -> None:
    class Lines(BaseHandler):
        def serialize(self, media: object, content_type: str) -> bytes:
            raise NotImplementedError

        def deserialize(self, data: bytes, content_type: str) -> object:
            return data.decode().splitlines()

    app = lanner.App()
    app.req_options.media_handlers["text/x-lines"] = Lines()
    result = await post(b"a\nb", "text/x-lines; charset=utf-8", app=app)
    assert result.json == {"got": ["a", "b"]}


async def test_removing_a_handler_makes_its_type_unsupported() -> None:
    app = lanner.App()
    del app.req_options.media_handlers["application/msgpack"]
    result = await post(msgpack.packb(1), "application/msgpack", app=app)
    assert result.status_code == 415


# --- the handlers ------------------------------------------------------------------------


def test_json_handler_round_trip_is_compact_utf8() -> None:
    handler = JSONHandler()
    body = handler.serialize({"a": [1, "é"], "b": None}, "application/json")
    assert body == '{"a":[1,"é"],"b":null}'.encode()
    assert handler.deserialize(body, "application/json") == {"a": [1, "é"], "b": None}
    assert handler.dumps([1]) == "[1]"


def test_json_handler_with_custom_dumps_and_loads() -> None:
    def dumps(obj: Any) -> str:
        return json.dumps(obj, default=str, sort_keys=True)

    def loads(text: str) -> Any:
        return json.loads(text, parse_float=Decimal)

    handler = JSONHandler(dumps=dumps, loads=loads)
    assert handler.serialize({"b": Decimal("1.10"), "a": 1}, "") == b'{"a": 1, "b": "1.10"}'
    assert handler.deserialize(b'{"x": 1.10}', "") == {"x": Decimal("1.10")}
    assert handler.dumps({"d": Decimal("2")}) == '{"d": "2"}'


def test_json_ws_handler_with_custom_dumps_and_loads() -> None:
    handler = JSONHandlerWS(dumps=lambda obj: json.dumps(obj, indent=1), loads=str.upper)
    assert handler.serialize([1]) == "[\n 1\n]"
    assert handler.deserialize("abc") == "ABC"
    default = JSONHandlerWS()
    assert default.serialize({"a": "é"}) == '{"a":"é"}'
    assert default.deserialize('{"a": 1}') == {"a": 1}
    with pytest.raises(lanner.MediaMalformedError):
        default.deserialize("{")


async def test_custom_json_handler_serves_responses() -> None:
    class Now:
        async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
            resp.media = {"price": Decimal("9.99")}

    app = lanner.App()
    app.resp_options.media_handlers["application/json"] = JSONHandler(
        dumps=lambda obj: json.dumps(obj, default=str)
    )
    app.add_route("/", Now())
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_get("/")
    assert result.json == {"price": "9.99"}


@pytest.mark.parametrize(
    "value", [{"a": [1, 2.5, None, True]}, b"\x00\xffbytes", "text", [], 2**40, {"n": {"e": {}}}]
)
def test_msgpack_handler_round_trip(value: object) -> None:
    handler = MessagePackHandler()
    packed = handler.serialize(value, "application/msgpack")
    assert packed == msgpack.packb(value, use_bin_type=True)
    assert handler.deserialize(packed, "application/msgpack") == value
    ws = MessagePackHandlerWS()
    assert ws.deserialize(ws.serialize(value)) == value


def test_msgpack_handler_keeps_bytes_and_str_apart() -> None:
    handler = MessagePackHandler()
    decoded = handler.deserialize(handler.serialize([b"b", "s"], ""), "")
    assert decoded == [b"b", "s"]


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "APPLICATION/JSON",
        "application/json; charset=utf-8",
        "Application/Json ;charset=UTF-8",
        " application/json ",
    ],
)
def test_handlers_find_ignores_parameters_and_case(content_type: str) -> None:
    handlers = Handlers()
    json_handler = JSONHandler()
    handlers["Application/JSON"] = json_handler
    assert handlers.find(content_type) == ("application/json", json_handler)
    assert list(handlers) == ["application/json"]


def test_handlers_find_unknown_and_after_changes() -> None:
    handlers = Handlers()
    assert handlers.find("application/json") is None
    handler = JSONHandler()
    handlers["application/json"] = handler
    assert handlers.find("application/json; charset=utf-8") == ("application/json", handler)
    del handlers["APPLICATION/json"]
    assert handlers.find("application/json; charset=utf-8") is None
    assert handlers.find("text/plain") is None
