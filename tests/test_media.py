"""Tests for media: request bodies through handlers, and the handlers themselves."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgpack
import pytest

import lanner
from examples.demo import create_app
from lanner.media import (
    BaseHandler,
    Handlers,
    JSONHandler,
    JSONHandlerWS,
    MessagePackHandler,
    MessagePackHandlerWS,
)
from lanner.media.handlers import bare_media_type
from lanner.testing import ASGIConductor, SimulatedWebSocket
from lanner.testing._http import Result
from tests._ws_app import ws_app


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


@pytest.mark.parametrize(
    ("content_type", "media_type"),
    [
        ("application/json", "application/json"),
        ("Application/JSON; charset=UTF-8", "application/json"),
        ("  text/CSV ;header=present", "text/csv"),
        ("", ""),
    ],
)
def test_bare_media_type_drops_parameters_and_case(content_type: str, media_type: str) -> None:
    assert bare_media_type(content_type) == media_type


# --- malformed payloads: one documented error ------------------------------------------

JSON_DECODERS: list[tuple[str, Callable[[str], object]]] = [
    ("http", lambda text: JSONHandler().deserialize(text.encode(), "application/json")),
    ("ws", JSONHandlerWS().deserialize),
]
MSGPACK_DECODERS: list[tuple[str, Callable[[bytes], object]]] = [
    ("http", lambda data: MessagePackHandler().deserialize(data, "application/msgpack")),
    ("ws", MessagePackHandlerWS().deserialize),
]


@pytest.mark.parametrize(("where", "decode"), JSON_DECODERS, ids=[w for w, _ in JSON_DECODERS])
@pytest.mark.parametrize(
    ("payload", "found"),
    [
        ("[" * 1000 + "]" * 1000, "nests deeper than the server can decode"),
        ("[" * 100_000, "nests deeper than the server can decode"),
        ("1" * 100_000, "Exceeds the limit (4300 digits)"),
        ('{"a": 1} x', "Extra data"),
        ('{"a": [1, 2', "Expecting"),
        ('"\\ud800"', "lone surrogate escape (\\ud800)"),
        ('{"k": ["ok", "\\udfff"]}', "lone surrogate escape (\\udfff)"),
        ('{"\\udbff": 1}', "lone surrogate escape (\\udbff)"),
        ('"\\ude00\\ud83d"', "lone surrogate escape"),  # a pair in the wrong order
        ("nope", "Expecting value"),
    ],
    ids=[
        "deep",
        "deeper",
        "huge-int",
        "trailing",
        "truncated",
        "lone",
        "nested",
        "key",
        "swapped",
        "junk",
    ],
)
def test_malformed_json_raises_media_malformed_error(
    where: str, decode: Callable[[str], object], payload: str, found: str
) -> None:
    with pytest.raises(lanner.MediaMalformedError) as caught:
        decode(payload)
    error = caught.value
    assert isinstance(error, ValueError)
    assert isinstance(error, lanner.HTTPBadRequest)
    assert error.media_type == "application/json"
    noun = "request body" if where == "http" else "message"
    assert str(error).startswith(f"The {noun} could not be decoded as application/json: ")
    assert found in str(error)


def test_malformed_json_body_bytes_raise_media_malformed_error() -> None:
    with pytest.raises(lanner.MediaMalformedError, match="can't decode byte 0xff"):
        JSONHandler().deserialize(b'"\xff"', "application/json")
    with pytest.raises(lanner.MediaMalformedError, match="byte 0xed"):  # encoded surrogate
        JSONHandler().deserialize('"\ud800"'.encode("utf-8", "surrogatepass"), "")


@pytest.mark.parametrize(("where", "decode"), JSON_DECODERS, ids=[w for w, _ in JSON_DECODERS])
@pytest.mark.parametrize(
    ("payload", "value"),
    [
        ('"\\ud83d\\ude00"', "\U0001f600"),  # a surrogate pair is one character
        ('"\\\\ud800"', "\\ud800"),  # an escaped backslash, then plain letters
        ('{"\\u00e9": "\\u2713"}', {"é": "✓"}),
        ('"\U0001f600 raw"', "\U0001f600 raw"),
    ],
    ids=["pair", "escaped-backslash", "bmp-escapes", "raw"],
)
def test_json_without_lone_surrogates_decodes(
    where: str, decode: Callable[[str], object], payload: str, value: object
) -> None:
    assert decode(payload) == value


@pytest.mark.parametrize(
    ("where", "decode"), MSGPACK_DECODERS, ids=[w for w, _ in MSGPACK_DECODERS]
)
@pytest.mark.parametrize(
    ("payload", "found"),
    [
        (b"\x91" * 2000 + b"\x90", "nests deeper than 1024 levels"),
        (b"\xa2\xff\xfe", "can't decode byte 0xff"),
        (b"\xa3\xed\xa0\x80", "can't decode byte 0xed"),  # an encoded surrogate
        (b"\xdb\xff\xff\xff\xff", "incomplete input"),
        (b"\x92\x01", "incomplete input"),
        (msgpack.packb(1) + b"\x01", "extra data"),
        (b"\x81\x01\x02", "int is not allowed for map key"),
        (b"\xd4\xff\x00", "invalid timestamp"),
    ],
    ids=["deep", "bad-utf8", "surrogate", "huge-length", "truncated", "trailing", "key", "ext"],
)
def test_malformed_msgpack_raises_media_malformed_error(
    where: str, decode: Callable[[bytes], object], payload: bytes, found: str
) -> None:
    with pytest.raises(lanner.MediaMalformedError) as caught:
        decode(payload)
    assert isinstance(caught.value, ValueError)
    assert caught.value.media_type == "application/msgpack"
    assert found in str(caught.value)


@pytest.mark.parametrize(
    "body",
    [b'{"text": "\\ud800"}', b"[" * 1000, b"1" * 100_000],
    ids=["lone-surrogate", "deep", "huge-int"],
)
async def test_hostile_json_body_is_400_not_500(body: bytes) -> None:
    result = await post(body, "application/json")
    assert result.status_code == 400
    assert result.json["title"] == "Invalid body"


async def test_a_handlers_own_media_malformed_error_is_not_wrapped_again() -> None:
    class RaisingHTTP(BaseHandler):
        def serialize(self, media: object, content_type: str) -> bytes:
            raise NotImplementedError

        def deserialize(self, data: bytes, content_type: str) -> object:
            raise lanner.MediaMalformedError("application/x-test", "custom reason")

    app = lanner.App()
    app.req_options.media_handlers["application/x-test"] = RaisingHTTP()
    result = await post(b"x", "application/x-test", app=app)
    assert result.json["description"] == (
        "The request body could not be decoded as application/x-test: custom reason"
    )


# --- WebSocket: malformed messages and text UTF-8 cannot carry ------------------------------


async def _media_loop(req: lanner.Request, ws: lanner.WebSocket) -> None:
    """The media docs' loop: answer a ValueError, echo the rest."""
    await ws.accept()
    while True:
        try:
            media = await ws.receive_media()
        except lanner.WebSocketDisconnected:
            return
        except ValueError as exc:
            await ws.send_media({"error": type(exc).__name__})
            continue
        await ws.send_media({"echo": media})


@pytest.mark.parametrize(
    "payload",
    ['{"text": "\\ud800"}', "[" * 1000, "1" * 100_000, b"\x92\x01"],
    ids=["lone-surrogate", "deep", "huge-int", "truncated-msgpack"],
)
async def test_malformed_message_is_a_value_error_and_the_connection_stays_usable(
    payload: str | bytes,
) -> None:
    async with (
        ASGIConductor(ws_app(_media_loop)) as conductor,
        conductor.simulate_ws("/ws") as ws,
    ):
        if isinstance(payload, str):
            await ws.send_text(payload)
        else:
            await ws.send_data(payload)
        assert await ws.receive_json() == {"error": "MediaMalformedError"}
        await ws.send_json({"text": "\U0001f600"})
        assert await ws.receive_json() == {"echo": {"text": "\U0001f600"}}
        assert ws.ready


async def test_an_uncaught_malformed_message_closes_with_3400_not_1011() -> None:
    async def careless(req: lanner.Request, ws: lanner.WebSocket) -> None:
        await ws.accept()
        await ws.receive_media()

    async with (
        ASGIConductor(ws_app(careless)) as conductor,
        conductor.simulate_ws("/ws") as ws,
    ):
        await ws.send_text("[" * 1000)
        with pytest.raises(lanner.WebSocketDisconnected) as closed:
            await ws.receive_text()
    assert closed.value.code == 3400


async def test_send_text_of_a_lone_surrogate_is_a_clear_value_error_and_nothing_breaks() -> None:
    errors: list[ValueError] = []

    async def unescape(req: lanner.Request, ws: lanner.WebSocket) -> None:
        await ws.accept()
        while True:
            try:
                text = json.loads(await ws.receive_text())  # stdlib json lets "\ud800" through
            except lanner.WebSocketDisconnected:
                return
            for send in (ws.send_text, ws.send_media):
                try:
                    await send(text)
                except ValueError as exc:
                    errors.append(exc)
            await ws.send_text("next")

    async with (
        ASGIConductor(ws_app(unescape)) as conductor,
        conductor.simulate_ws("/ws") as ws,
    ):
        await ws.send_text('"\\ud800"')
        assert await ws.receive_text() == "next"
        await ws.send_text('"fine"')
        assert [await ws.receive_text() for _ in range(3)] == ["fine", '"fine"', "next"]
        assert ws.ready
    assert [str(e).split(":")[0] for e in errors] == ["send_text()", "send_media()"]
    assert "'\\ud800' at index 0 is a lone surrogate" in str(errors[0])
    assert "text.encode('utf-8', 'replace')" in str(errors[0])
    assert "'\\ud800' at index 1 is a lone surrogate" in str(errors[1])


async def test_the_simulated_client_cannot_send_a_lone_surrogate_either() -> None:
    async with (
        ASGIConductor(ws_app(_media_loop)) as conductor,
        conductor.simulate_ws("/ws") as ws,
    ):
        with pytest.raises(UnicodeEncodeError):
            await ws.send_text("\ud800")
        await ws.send_json("\ud800")  # json.dumps escapes it: the app refuses that
        assert await ws.receive_json() == {"error": "MediaMalformedError"}


# --- the demo: one bad message must not stop the room ------------------------------------


async def test_a_lone_surrogate_in_the_demo_chat_stops_nobody(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LANNER_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    token = "media-test-token"
    auth = {"Authorization": f"Bearer {token}"}
    protocols = ["lanner-chat", f"bearer.{token}"]
    demo = create_app(token=token)

    async def next_of(ws: SimulatedWebSocket, kind: str) -> dict[str, Any]:
        for _ in range(20):
            payload: dict[str, Any] = await ws.receive_json()
            if payload["type"] == kind:
                return payload
        raise AssertionError(f"no {kind!r} payload among the next 20 messages")

    async with ASGIConductor(demo) as conductor:
        async with (
            conductor.simulate_ws("/ws/chat?name=ada", subprotocols=protocols) as ada,
            conductor.simulate_ws("/ws/chat?name=mal", subprotocols=protocols) as mal,
        ):
            await mal.send_text('{"text": "\\ud800"}')
            await next_of(mal, "error")
            await mal.send_text("[" * 1000)
            await next_of(mal, "error")
            await mal.send_json({"text": "after the bad ones"})
            for member in (ada, mal):
                assert (await next_of(member, "message"))["text"] == "after the bad ones"
        posted = await conductor.simulate_post(
            "/api/messages",
            body=b'{"name": "mal", "text": "\\udfff"}',
            content_type="application/json",
            headers=auth,
        )
        assert posted.status_code == 400
        recent = await conductor.simulate_get("/api/messages", headers=auth)
        assert recent.status_code == 200
        assert [m["text"] for m in recent.json["messages"]] == ["after the bad ones"]


async def test_a_message_no_handler_decodes_is_both_payload_type_and_media_malformed() -> None:
    caught: list[ValueError] = []

    async def text_only(req: lanner.Request, ws: lanner.WebSocket) -> None:
        await ws.accept()
        try:
            await ws.receive_media()
        except ValueError as exc:
            caught.append(exc)
            await ws.send_text(str(exc))
        await ws.send_media(await ws.receive_media())

    app = ws_app(text_only)
    del app.ws_options.media_handlers[lanner.WebSocketPayloadType.BINARY]
    async with ASGIConductor(app) as conductor, conductor.simulate_ws("/ws") as ws:
        await ws.send_data(b"\x90")
        assert await ws.receive_text() == (
            "No media handler is set for BINARY WebSocket messages, and one arrived: send "
            "TEXT messages, or set ws_options.media_handlers[WebSocketPayloadType.BINARY]."
        )
        await ws.send_json([1])
        assert await ws.receive_json() == [1]
    assert isinstance(caught[0], lanner.PayloadTypeError)
    assert isinstance(caught[0], lanner.MediaMalformedError)


async def test_app_made_lone_surrogate_in_resp_media_is_a_500_naming_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Made:
        async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
            resp.media = {"name": b"caf\xe9".decode("utf-8", "surrogateescape")}

    app = lanner.App()
    app.add_route("/", Made())
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_get("/")
    assert result.status_code == 500
    assert "'\\udce9' at index 12 of the JSON text is a lone surrogate" in caplog.text
