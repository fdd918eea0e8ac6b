"""The ``WebSocket`` API as a responder uses it: handshake, close, send, receive, media.

Each responder records what it observed in plain lists, and the simulated
client checks what reached the wire.
"""

from __future__ import annotations

from typing import Any

import msgpack
import pytest

import lanner
from lanner import Request, WebSocket, WebSocketPayloadType
from lanner.media import (
    BinaryBaseHandlerWS,
    JSONHandlerWS,
    MessagePackHandlerWS,
    TextBaseHandlerWS,
)
from lanner.testing import ASGIConductor
from tests._ws_app import Resource
from tests._ws_app import ws_app as _app

TEXT = WebSocketPayloadType.TEXT
BINARY = WebSocketPayloadType.BINARY


# --- handshake -----------------------------------------------------------------------


async def test_accept_selects_subprotocol_and_sends_headers() -> None:
    offered: list[tuple[str, ...]] = []

    async def body(req: Request, ws: WebSocket) -> None:
        offered.append(ws.subprotocols)
        await ws.accept(subprotocol="wamp", headers={"X-Session": "s1", "X-Other": "o"})
        await ws.send_text("hi")

    async with (
        ASGIConductor(_app(body)) as c,
        c.simulate_ws("/ws", subprotocols=["mqtt", "wamp"]) as ws,
    ):
        assert ws.subprotocol == "wamp"
        assert ws.headers == {"x-session": "s1", "x-other": "o"}
        assert await ws.receive_text() == "hi"
    assert offered == [("mqtt", "wamp")]


async def test_accept_takes_headers_as_pairs_and_no_subprotocol() -> None:
    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept(headers=[("X-A", "1")])

    async with ASGIConductor(_app(body)) as c, c.simulate_ws("/ws") as ws:
        assert ws.subprotocol is None
        assert ws.headers == {"x-a": "1"}


async def test_subprotocols_is_empty_when_the_client_offers_none() -> None:
    offered: list[tuple[str, ...]] = []

    async def body(req: Request, ws: WebSocket) -> None:
        offered.append(ws.subprotocols)
        await ws.accept()

    async with ASGIConductor(_app(body)) as c, c.simulate_ws("/ws"):
        pass
    assert offered == [()]


async def test_accept_twice_raises_runtime_error() -> None:
    errors: list[str] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        try:
            await ws.accept()
        except RuntimeError as exc:
            errors.append(str(exc))
        await ws.send_text("still open")

    async with ASGIConductor(_app(body)) as c, c.simulate_ws("/ws") as ws:
        assert await ws.receive_text() == "still open"
    assert len(errors) == 1
    assert "accept() was already called" in errors[0]


async def test_send_or_receive_before_accept_raises_runtime_error() -> None:
    errors: list[str] = []

    async def body(req: Request, ws: WebSocket) -> None:
        for call in (ws.send_text("x"), ws.receive_text()):
            try:
                await call
            except RuntimeError as exc:
                errors.append(str(exc))
        await ws.accept()

    async with ASGIConductor(_app(body)) as c, c.simulate_ws("/ws"):
        pass
    assert len(errors) == 2
    assert all("accept()" in e for e in errors)


@pytest.mark.parametrize(("code", "expected"), [(None, 1000), (4003, 4003)])
async def test_close_before_accept_denies_the_handshake(code: int | None, expected: int) -> None:
    after: list[bool] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await (ws.close() if code is None else ws.close(code))
        after.append(ws.closed)
        with pytest.raises(lanner.WebSocketDisconnected):
            await ws.accept()

    async with ASGIConductor(_app(body)) as c:
        with pytest.raises(lanner.WebSocketDisconnected) as denied:
            async with c.simulate_ws("/ws"):
                pass
    assert denied.value.code == expected
    assert after == [True]


# --- closing -------------------------------------------------------------------------


async def test_returning_without_close_closes_with_1000() -> None:
    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("bye")

    async with ASGIConductor(_app(body)) as c, c.simulate_ws("/ws") as ws:
        assert await ws.receive_text() == "bye"
        with pytest.raises(lanner.WebSocketDisconnected) as closed:
            await ws.receive_text()
        assert ws.closed
        assert not ws.ready
    assert closed.value.code == 1000
    assert type(closed.value) is lanner.WebSocketDisconnected
    assert ws.close_code == 1000
    assert ws.close_reason == "Normal Closure"


async def test_close_code_and_reason_reach_the_client() -> None:
    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.close(4100, "game over")

    async with ASGIConductor(_app(body)) as c, c.simulate_ws("/ws") as ws:
        with pytest.raises(lanner.WebSocketDisconnected) as closed:
            await ws.receive_text()
    assert (closed.value.code, closed.value.reason) == (4100, "game over")
    assert (ws.close_code, ws.close_reason) == (4100, "game over")


async def test_default_close_reasons_fill_in_a_missing_reason() -> None:
    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        code = int(await ws.receive_text())
        await ws.close(code, "explicit" if code == 4201 else None)

    app = _app(body)
    app.ws_options.default_close_reasons[4200] = "Room closed"
    app.ws_options.default_close_reasons[4201] = "Not used: explicit wins"
    async with ASGIConductor(app) as c:
        for code, reason in [(4200, "Room closed"), (4201, "explicit"), (4202, None)]:
            async with c.simulate_ws("/ws") as ws:
                await ws.send_text(str(code))
                with pytest.raises(lanner.WebSocketDisconnected):
                    await ws.receive_text()
            assert (ws.close_code, ws.close_reason) == (code, reason)


async def test_no_close_reason_is_sent_to_servers_before_spec_2_3() -> None:
    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.close(4100, "not supported")

    async with ASGIConductor(_app(body)) as c, c.simulate_ws("/ws", spec_version="2.2") as ws:
        with pytest.raises(lanner.WebSocketDisconnected):
            await ws.receive_text()
    assert (ws.close_code, ws.close_reason) == (4100, None)


async def test_closing_twice_is_a_no_op() -> None:
    second: list[int | None] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.close(4001)
        await ws.close(4002)
        await ws.close()
        second.append(ws.close_code)

    async with ASGIConductor(_app(body)) as c, c.simulate_ws("/ws") as ws:
        with pytest.raises(lanner.WebSocketDisconnected) as closed:
            await ws.receive_text()
        await ws.close()
    assert closed.value.code == 4001
    assert second == [4001]
    # Nothing more went out after the first close frame.
    assert ws.sent_after_close == 0


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000])
async def test_close_with_an_unsendable_code_raises_value_error(code: int) -> None:
    errors: list[str] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        try:
            await ws.close(code)
        except ValueError as exc:
            errors.append(str(exc))
        await ws.send_text("still open")

    async with ASGIConductor(_app(body)) as c, c.simulate_ws("/ws") as ws:
        assert await ws.receive_text() == "still open"
    assert len(errors) == 1
    assert str(code) in errors[0]
    assert "3000-4999" in errors[0]


@pytest.mark.parametrize("size", [124, 200])
async def test_close_reason_longer_than_a_close_frame_raises_value_error(size: int) -> None:
    errors: list[str] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        try:
            await ws.close(4000, "é" * (size // 2) + "x" * (size % 2))
        except ValueError as exc:
            errors.append(str(exc))
        await ws.send_text("still open")
        await ws.close(4000, "é" * 61 + "x")  # exactly 123 bytes fits

    async with ASGIConductor(_app(body)) as c, c.simulate_ws("/ws") as ws:
        assert await ws.receive_text() == "still open"
        with pytest.raises(lanner.WebSocketDisconnected):
            await ws.receive_text()
    assert ws.close_reason == "é" * 61 + "x"
    assert len(errors) == 1
    assert f"{size} bytes" in errors[0]
    assert "at most 123" in errors[0]


async def test_too_long_default_close_reason_fails_at_startup() -> None:
    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()

    app = _app(body)
    app.ws_options.default_close_reasons[4000] = "x" * 124
    with pytest.raises(ValueError, match=r"default_close_reasons\[4000\] is 124 bytes"):
        async with ASGIConductor(app):
            pass


async def test_send_after_close_raises_websocket_disconnected() -> None:
    raised: list[tuple[str, int]] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.close(4000)
        for send in (ws.send_text("x"), ws.send_data(b"x"), ws.send_media({"x": 1})):
            try:
                await send
            except lanner.WebSocketDisconnected as exc:
                raised.append(("send", exc.code))
        try:
            await ws.receive_text()
        except lanner.WebSocketDisconnected as exc:
            raised.append(("receive", exc.code))

    async with ASGIConductor(_app(body)) as c, c.simulate_ws("/ws") as ws:
        with pytest.raises(lanner.WebSocketDisconnected):
            await ws.receive_text()
    assert raised == [("send", 4000)] * 3 + [("receive", 4000)]
    assert ws.sent_after_close == 0


async def test_ready_and_closed_follow_the_connection_state() -> None:
    states: list[tuple[str, bool, bool]] = []

    async def body(req: Request, ws: WebSocket) -> None:
        states.append(("handshake", ws.ready, ws.closed))
        await ws.accept()
        states.append(("accepted", ws.ready, ws.closed))
        await ws.send_text("go")
        try:
            await ws.receive_text()
        except lanner.WebSocketDisconnected:
            states.append(("client left", ws.ready, ws.closed))

    async def closing(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.close()
        states.append(("app closed", ws.ready, ws.closed))

    app = _app(body)
    app.add_route("/closing", Resource(closing))
    async with ASGIConductor(app) as c:
        async with c.simulate_ws("/ws") as ws:
            assert (ws.ready, ws.closed) == (True, False)
            await ws.receive_text()
            await ws.close()
            assert (ws.ready, ws.closed) == (False, True)
        async with c.simulate_ws("/closing") as ws:
            with pytest.raises(lanner.WebSocketDisconnected):
                await ws.receive_text()
    assert states == [
        ("handshake", False, False),
        ("accepted", True, False),
        ("client left", False, True),
        ("app closed", False, True),
    ]


# --- sending and receiving ------------------------------------------------------------


async def test_send_text_data_and_media() -> None:
    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("héllo")
        await ws.send_data(b"\x00\x01")
        await ws.send_data(bytearray(b"ba"))
        await ws.send_data(memoryview(b"xmemoryx")[1:-1])
        await ws.send_media({"n": 1, "s": "é"})
        await ws.send_media({"n": 2}, payload_type=TEXT)
        await ws.send_media({"n": 3, "b": b"\xff"}, payload_type=BINARY)

    async with ASGIConductor(_app(body)) as c, c.simulate_ws("/ws") as ws:
        assert await ws.receive_text() == "héllo"
        assert await ws.receive_data() == b"\x00\x01"
        assert await ws.receive_data() == b"ba"
        assert await ws.receive_data() == b"memory"
        assert await ws.receive_json() == {"n": 1, "s": "é"}
        assert await ws.receive_text() == '{"n":2}'
        assert await ws.receive_msgpack() == {"n": 3, "b": b"\xff"}


async def test_receive_text_data_and_media() -> None:
    got: list[object] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        got.append(await ws.receive_text())
        got.append(await ws.receive_data())
        got.append(await ws.receive_media())
        got.append(await ws.receive_media())
        await ws.send_text("done")

    async with ASGIConductor(_app(body)) as c, c.simulate_ws("/ws") as ws:
        await ws.send_text("plain")
        await ws.send_data(bytearray(b"\x01raw"))
        await ws.send_json({"kind": "json", "list": [1, 2]})
        await ws.send_msgpack({"kind": "msgpack", "bin": b"\x00"})
        assert await ws.receive_text() == "done"
    assert got == [
        "plain",
        b"\x01raw",
        {"kind": "json", "list": [1, 2]},
        {"kind": "msgpack", "bin": b"\x00"},
    ]
    assert type(got[1]) is bytes


async def test_receive_returns_str_or_bytes_by_payload_type() -> None:
    got: list[object] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        while True:
            try:
                got.append(await ws.receive())
            except lanner.WebSocketDisconnected as exc:
                got.append(exc.code)
                return

    async with ASGIConductor(_app(body)) as c, c.simulate_ws("/ws") as ws:
        await ws.send_text("t")
        await ws.send_data(b"b")
        await ws.send_text("")
        await ws.close(4009)
    assert got == ["t", b"b", "", 4009]


@pytest.mark.parametrize("spec_version", ["2.4", "2.3"])
async def test_max_message_size_closes_with_1009(spec_version: str) -> None:
    got: list[object] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        while True:
            try:
                got.append(len(await ws.receive()))
            except lanner.WebSocketDisconnected as exc:
                got.append(exc.code)
                return

    app = _app(body)
    app.ws_options.max_message_size = 8
    async with ASGIConductor(app) as c:
        for too_big in ("123456789", "éééé" + "x", b"123456789"):
            async with c.simulate_ws("/ws", spec_version=spec_version) as ws:
                await ws.send_text("12345678")  # 8 bytes: fits
                await ws.send_data(b"12345678")
                await ws.send_text("éééé")  # 4 characters, 8 bytes: fits
                if isinstance(too_big, str):
                    await ws.send_text(too_big)
                else:
                    await ws.send_data(too_big)
                with pytest.raises(lanner.WebSocketDisconnected) as closed:
                    await ws.receive_text()
            assert closed.value.code == 1009
            assert got == [8, 8, 4, 1009]
            got.clear()


@pytest.mark.parametrize("limit", [0, -1, 1.5, "10"])
async def test_max_message_size_must_be_a_positive_int(limit: Any) -> None:
    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()

    app = _app(body)
    app.ws_options.max_message_size = limit
    with pytest.raises(ValueError, match="max_message_size"):
        async with ASGIConductor(app):
            pass


async def test_wrong_payload_type_raises_payload_type_error_and_the_connection_stays_usable() -> (
    None
):
    errors: list[BaseException] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        for receive in (ws.receive_text, ws.receive_data):
            try:
                await receive()
            except lanner.PayloadTypeError as exc:
                errors.append(exc)
        for send in (ws.send_text(b"bytes"), ws.send_data("str")):  # type: ignore[arg-type]
            try:
                await send
            except TypeError as exc:
                errors.append(exc)
        await ws.send_text("echo " + await ws.receive_text())

    async with ASGIConductor(_app(body)) as c, c.simulate_ws("/ws") as ws:
        await ws.send_data(b"binary where text is expected")
        await ws.send_text("text where binary is expected")
        await ws.send_text("fine")
        assert await ws.receive_text() == "echo fine"
    assert [type(e) for e in errors] == [lanner.PayloadTypeError] * 4
    assert all(isinstance(e, TypeError) for e in errors)
    assert "TEXT" in str(errors[0])
    assert "BINARY" in str(errors[1])
    assert "send_text() takes a str, got bytes" in str(errors[2])
    assert "got str" in str(errors[3])


async def test_malformed_json_frame_reaches_the_responder_and_the_connection_stays_usable() -> None:
    errors: list[BaseException] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        while True:
            try:
                media = await ws.receive_media()
            except lanner.MediaMalformedError as exc:
                errors.append(exc)
                await ws.send_text("bad json")
                continue
            except lanner.WebSocketDisconnected:
                return
            await ws.send_media({"echo": media})

    async with ASGIConductor(_app(body)) as c, c.simulate_ws("/ws") as ws:
        await ws.send_text("{not json")
        assert await ws.receive_text() == "bad json"
        await ws.send_json([1, 2])
        assert await ws.receive_json() == {"echo": [1, 2]}
    assert len(errors) == 1
    assert ws.close_code == 1000


@pytest.mark.parametrize("payload", [b"\xc1", b"\x92\x01", b"\x01\x02"], ids=repr)
async def test_malformed_msgpack_frame_raises_media_malformed_from_the_decoders_error(
    payload: bytes,
) -> None:
    with pytest.raises(Exception) as expected:  # the decoder's own type, whatever it is
        msgpack.unpackb(payload, raw=False, strict_map_key=True)
    errors: list[BaseException] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        try:
            await ws.receive_media()
        except ValueError as exc:
            errors.append(exc)
        await ws.send_media(await ws.receive_media(), payload_type=BINARY)

    async with ASGIConductor(_app(body)) as c, c.simulate_ws("/ws") as ws:
        await ws.send_data(payload)
        await ws.send_msgpack({"ok": True})
        assert await ws.receive_msgpack() == {"ok": True}
    assert [type(e) for e in errors] == [lanner.MediaMalformedError]
    assert [type(e.__cause__) for e in errors] == [type(expected.value)]


async def test_custom_media_handlers_in_ws_options() -> None:
    class Upper(TextBaseHandlerWS):
        def serialize(self, media: object) -> str:
            return str(media).upper()

        def deserialize(self, payload: str) -> object:
            return {"text": payload.lower()}

    class Reversed(BinaryBaseHandlerWS):
        def serialize(self, media: object) -> bytes:
            assert isinstance(media, bytes)
            return media[::-1]

        def deserialize(self, payload: bytes) -> object:
            return payload[::-1]

    got: list[object] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        got.append(await ws.receive_media())
        got.append(await ws.receive_media())
        await ws.send_media("shout")
        await ws.send_media(b"abc", payload_type=BINARY)

    app = _app(body)
    app.ws_options.media_handlers[TEXT] = Upper()
    app.ws_options.media_handlers[BINARY] = Reversed()
    async with ASGIConductor(app) as c, c.simulate_ws("/ws") as ws:
        await ws.send_text("HeLLo")
        await ws.send_data(b"123")
        assert await ws.receive_text() == "SHOUT"
        assert await ws.receive_data() == b"cba"
    assert got == [{"text": "hello"}, b"321"]


@pytest.mark.parametrize(
    ("slot", "handler", "expected"),
    [
        (TEXT, MessagePackHandlerWS(), "TextBaseHandlerWS"),
        (BINARY, JSONHandlerWS(), "BinaryBaseHandlerWS"),
        (TEXT, object(), "TextBaseHandlerWS"),
    ],
)
async def test_wrong_handler_type_in_a_slot_raises_type_error_at_freeze(
    slot: WebSocketPayloadType, handler: Any, expected: str
) -> None:
    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()

    app = _app(body)
    app.ws_options.media_handlers[slot] = handler
    with pytest.raises(TypeError) as failed:
        async with ASGIConductor(app):
            pass
    assert expected in str(failed.value)
    assert slot.name in str(failed.value)


async def test_accepting_a_subprotocol_the_client_did_not_offer_is_refused() -> None:
    """The error names both sides; the connection can still be accepted properly."""
    errors: list[str] = []

    class Picky:
        async def on_websocket(self, req: lanner.Request, ws: lanner.WebSocket) -> None:
            try:
                await ws.accept(subprotocol="graphql-ws")
            except ValueError as exc:
                errors.append(str(exc))
            await ws.accept(subprotocol="wamp")
            await ws.send_text("ok")

    app = lanner.App()
    app.add_route("/ws", Picky())
    conductor = ASGIConductor(app)
    async with conductor, conductor.simulate_ws("/ws", subprotocols=["wamp"]) as ws:
        assert await ws.receive_text() == "ok"
        assert ws.subprotocol == "wamp"
    assert len(errors) == 1
    assert "'graphql-ws'" in errors[0]
    assert "['wamp']" in errors[0]
