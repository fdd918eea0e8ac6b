"""The spec's WebSocket behaviour that an external conformance suite found missing (issue 12).

Reading the body of a WebSocket request, ``close(None)``, spec versions with
three parts, the simulated client's close state and payload types,
``Request.is_websocket``, ``supports_accept_headers`` and headers on accept,
send-only media handlers and ``error_close_code`` checks.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import lanner
from lanner import Request, WebSocket, WebSocketPayloadType
from lanner.media import BinaryBaseHandlerWS, TextBaseHandlerWS
from lanner.testing import ASGIConductor, SimulatedWebSocket
from tests._ws_app import ws_app

TEXT = WebSocketPayloadType.TEXT
BINARY = WebSocketPayloadType.BINARY

BodyReader = Callable[[Request], Awaitable[object]]


async def _read_body(req: Request) -> object:
    return await req.get_body()


async def _read_media(req: Request) -> object:
    return await req.get_media()


async def _read_stream(req: Request) -> object:
    return [chunk async for chunk in req.stream]


BODY_READERS = [
    pytest.param(_read_body, id="get_body"),
    pytest.param(_read_media, id="get_media"),
    pytest.param(_read_stream, id="stream"),
]


# --- 2. the body of a WebSocket request --------------------------------------------------


@pytest.mark.parametrize("read", BODY_READERS)
@pytest.mark.parametrize("accept_first", [True, False], ids=["after-accept", "before-accept"])
async def test_reading_the_body_of_a_ws_request_raises_and_consumes_nothing(
    read: BodyReader, accept_first: bool
) -> None:
    errors: list[BaseException] = []

    async def body(req: Request, ws: WebSocket) -> None:
        if accept_first:
            await ws.accept()
        try:
            await read(req)
        except Exception as ex:
            errors.append(ex)
        if not accept_first:
            await ws.accept()
        first = await ws.receive_text()
        await ws.send_text(f"got {first}")

    async with ASGIConductor(ws_app(body)) as c, c.simulate_ws("/ws") as ws:
        await ws.send_text("one")
        await ws.send_text("two")
        assert await ws.receive_text() == "got one"
    [error] = errors
    assert isinstance(error, lanner.UnsupportedError)
    assert isinstance(error, RuntimeError)
    assert "receive_text()" in str(error)


async def test_an_uncaught_body_read_closes_with_the_error_code() -> None:
    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await req.get_body()

    async with ASGIConductor(ws_app(body)) as c, c.simulate_ws("/ws") as ws:
        with pytest.raises(lanner.WebSocketServerError) as closed:
            await ws.receive_text()
    assert closed.value.code == 1011


# --- 3. close(None) ------------------------------------------------------------------------


@pytest.mark.parametrize("call", ["positional", "keyword"])
async def test_close_none_means_normal_closure(call: str) -> None:
    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        if call == "positional":
            await ws.close(None)
        else:
            await ws.close(code=None)

    async with ASGIConductor(ws_app(body)) as c, c.simulate_ws("/ws") as ws:
        with pytest.raises(lanner.WebSocketDisconnected) as closed:
            await ws.receive_text()
    assert closed.value.code == 1000
    assert ws.close_reason == "Normal Closure"


async def test_close_none_before_accept_denies_with_1000() -> None:
    async def body(req: Request, ws: WebSocket) -> None:
        await ws.close(None)

    async with ASGIConductor(ws_app(body)) as c:
        with pytest.raises(lanner.WebSocketDisconnected) as closed:
            async with c.simulate_ws("/ws"):
                pass
    assert closed.value.code == 1000


# --- 4. spec versions as tuples ------------------------------------------------------------


@pytest.mark.parametrize("version", ["2.3", "2.4", "2.4.1", "2.10", "2.10.3"])
async def test_close_reasons_go_out_from_spec_2_3_in_any_number_of_parts(version: str) -> None:
    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.close(4000, "bye")

    async with (
        ASGIConductor(ws_app(body)) as c,
        c.simulate_ws("/ws", spec_version=version) as ws,
    ):
        with pytest.raises(lanner.WebSocketDisconnected) as closed:
            await ws.receive_text()
    assert (closed.value.code, closed.value.reason) == (4000, "bye")


@pytest.mark.parametrize("version", ["2.0", "2.2", "2.2.9"])
async def test_close_reasons_are_left_out_before_spec_2_3(version: str) -> None:
    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.close(4000, "bye")

    async with (
        ASGIConductor(ws_app(body)) as c,
        c.simulate_ws("/ws", spec_version=version) as ws,
    ):
        with pytest.raises(lanner.WebSocketDisconnected) as closed:
            await ws.receive_text()
    assert (closed.value.code, closed.value.reason) == (4000, None)


@pytest.mark.parametrize(
    ("version", "raises"), [("2.4.1", True), ("2.10.3", True), ("2.3.9", False)]
)
async def test_sends_after_the_client_left_follow_the_tuple_version(
    version: str, raises: bool
) -> None:
    outcome: list[str] = []
    clients: list[SimulatedWebSocket] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("hello")
        # The app does not receive, so it cannot know the client left; it polls
        # the test's client, whose close() waits for this handler to return.
        while not (clients and clients[0].closed):  # noqa: ASYNC110
            await asyncio.sleep(0)
        try:
            await ws.send_text("after")
        except lanner.WebSocketDisconnected:
            outcome.append("raised")
        else:
            outcome.append("dropped")

    app = ws_app(body, max_receive_queue=0)
    async with ASGIConductor(app) as c, c.simulate_ws("/ws", spec_version=version) as ws:
        clients.append(ws)
        await ws.receive_text()
    assert outcome == ["raised" if raises else "dropped"]
    assert ws.sent_after_close >= 1


@pytest.mark.parametrize("version", ["1.0", "3.0", "3.1.2", "20.0", "junk"])
async def test_a_ws_scope_of_another_major_version_is_refused(version: str) -> None:
    reached: list[str] = []

    async def body(req: Request, ws: WebSocket) -> None:
        reached.append("responder")

    async with ASGIConductor(ws_app(body)) as c:
        if version == "junk":
            with pytest.raises(ValueError, match="'junk' is not a version"):
                c.simulate_ws("/ws", spec_version=version)
            return
        with pytest.raises(lanner.UnsupportedScopeError, match=rf"{version!r}.*2\.x"):
            async with c.simulate_ws("/ws", spec_version=version):
                pass
    assert reached == []


# --- 5. the simulated client -------------------------------------------------------------


async def test_client_close_code_is_set_as_soon_as_the_app_closes() -> None:
    app_closed = asyncio.Event()

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("last words")
        await ws.close(4001, "gone")
        app_closed.set()

    async with ASGIConductor(ws_app(body)) as c, c.simulate_ws("/ws") as ws:
        await asyncio.wait_for(app_closed.wait(), 5)
        # The close is queued behind the message, and nothing has read either yet.
        assert ws.closed is True
        assert (ws.close_code, ws.close_reason) == (4001, "gone")
        assert ws.ready is False
        assert await ws.receive_text() == "last words"


async def test_client_closed_and_close_code_agree_at_every_step() -> None:
    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        for i in range(3):
            await ws.send_text(str(i))
        await ws.close(4002)

    async with ASGIConductor(ws_app(body)) as c, c.simulate_ws("/ws") as ws:
        for _ in range(3):
            assert ws.closed is (ws.close_code is not None)
            await ws.receive_text()
        assert ws.closed is (ws.close_code is not None)
        with pytest.raises(lanner.WebSocketDisconnected):
            await ws.receive_text()
        assert ws.closed is True
        assert ws.close_code == 4002


async def test_client_close_records_its_code_and_reason() -> None:
    seen: list[tuple[int, str | None]] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        try:
            await ws.receive_text()
        except lanner.WebSocketDisconnected as gone:
            seen.append((gone.code, gone.reason))

    async with ASGIConductor(ws_app(body)) as c, c.simulate_ws("/ws") as ws:
        await ws.close(4100, "see you")
        assert ws.closed is True
        assert (ws.close_code, ws.close_reason) == (4100, "see you")
    assert seen == [(4100, "see you")]


@pytest.mark.parametrize(
    ("method", "payload"),
    [("send_text", b""), ("send_text", b"x"), ("send_data", ""), ("send_data", "x")],
)
async def test_client_send_of_the_wrong_payload_type_raises_type_error(
    method: str, payload: object
) -> None:
    got: list[object] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        got.append(await ws.receive())

    async with ASGIConductor(ws_app(body)) as c, c.simulate_ws("/ws") as ws:
        with pytest.raises(TypeError, match=method):
            await getattr(ws, method)(payload)
        await ws.send_text("fine")
    assert got == ["fine"]


async def test_client_send_data_takes_bytearray_and_memoryview() -> None:
    got: list[bytes] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        got.append(await ws.receive_data())
        got.append(await ws.receive_data())

    async with ASGIConductor(ws_app(body)) as c, c.simulate_ws("/ws") as ws:
        await ws.send_data(bytearray(b"ab"))
        await ws.send_data(memoryview(b"cd"))
    assert got == [b"ab", b"cd"]


async def test_client_send_after_the_app_closed_raises_with_the_code() -> None:
    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.close(4003)

    async with ASGIConductor(ws_app(body)) as c, c.simulate_ws("/ws") as ws:
        with pytest.raises(lanner.WebSocketDisconnected) as closed:
            await ws.receive_text()
        with pytest.raises(lanner.WebSocketDisconnected) as again:
            await ws.send_text("too late")
    assert closed.value.code == again.value.code == 4003


# --- 6. is_websocket, supports_accept_headers, headers on accept --------------------------


async def test_request_is_websocket() -> None:
    seen: list[bool] = []

    class Both:
        async def on_get(self, req: Request, resp: lanner.Response) -> None:
            seen.append(req.is_websocket)

        async def on_websocket(self, req: Request, ws: WebSocket) -> None:
            seen.append(req.is_websocket)
            await ws.accept()

    app = lanner.App()
    app.add_route("/", Both())
    async with ASGIConductor(app) as c:
        await c.simulate_get("/")
        async with c.simulate_ws("/"):
            pass
    assert seen == [False, True]


@pytest.mark.parametrize(
    ("version", "supported"), [("2.0", False), ("2.1", True), ("2.4", True), ("2.1.1", True)]
)
async def test_supports_accept_headers_follows_the_spec_version(
    version: str, supported: bool
) -> None:
    seen: list[bool] = []

    async def body(req: Request, ws: WebSocket) -> None:
        seen.append(ws.supports_accept_headers)
        await ws.accept()

    async with ASGIConductor(ws_app(body)) as c, c.simulate_ws("/ws", spec_version=version):
        pass
    assert seen == [supported]


async def test_headers_on_accept_where_the_server_cannot_send_them_raise() -> None:
    errors: list[BaseException] = []

    async def body(req: Request, ws: WebSocket) -> None:
        try:
            await ws.accept(headers={"X-Session": "s1"})
        except lanner.UnsupportedError as ex:
            errors.append(ex)
            await ws.accept()  # without headers the handshake still works
        await ws.send_text("in")

    async with ASGIConductor(ws_app(body)) as c, c.simulate_ws("/ws", spec_version="2.0") as ws:
        assert await ws.receive_text() == "in"
        assert ws.headers == {}
    [error] = errors
    assert "'2.0'" in str(error)
    assert "2.1" in str(error)


async def test_empty_headers_on_accept_are_fine_on_any_server() -> None:
    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept(headers={})
        await ws.send_text("in")

    async with ASGIConductor(ws_app(body)) as c, c.simulate_ws("/ws", spec_version="2.0") as ws:
        assert await ws.receive_text() == "in"


@pytest.mark.parametrize(
    "headers",
    [{"Sec-WebSocket-Protocol": "wamp"}, [("sec-websocket-protocol", "wamp"), ("x-a", "1")]],
)
async def test_accept_refuses_a_subprotocol_header(headers: Any) -> None:
    errors: list[BaseException] = []

    async def body(req: Request, ws: WebSocket) -> None:
        try:
            await ws.accept(headers=headers)
        except ValueError as ex:
            errors.append(ex)
            await ws.accept(subprotocol="wamp")

    async with (
        ASGIConductor(ws_app(body)) as c,
        c.simulate_ws("/ws", subprotocols=["wamp"]) as ws,
    ):
        assert ws.subprotocol == "wamp"
    [error] = errors
    assert "subprotocol=" in str(error)


async def test_accept_headers_reach_the_client_on_a_current_server() -> None:
    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept(headers=[("X-Session", "s1")])

    async with ASGIConductor(ws_app(body)) as c, c.simulate_ws("/ws") as ws:
        assert ws.headers == {"x-session": "s1"}


# --- 8. send-only media handlers, error_close_code -----------------------------------------


class SendOnlyText(TextBaseHandlerWS):
    """Implements only serialize, as a handler used only for send_media may."""

    def serialize(self, media: object) -> str:
        return json.dumps(media)


class SendOnlyBinary(BinaryBaseHandlerWS):
    """The BINARY counterpart of :class:`SendOnlyText`."""

    def serialize(self, media: object) -> bytes:
        return json.dumps(media).encode()


async def test_a_send_only_text_handler_can_be_instantiated_and_used() -> None:
    errors: list[BaseException] = []

    async def body(req: Request, ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_media({"a": 1})
        await ws.send_media([2], BINARY)
        try:
            await ws.receive_media()
        except NotImplementedError as ex:
            errors.append(ex)
        await ws.send_text("still open")

    app = ws_app(body)
    app.ws_options.media_handlers[TEXT] = SendOnlyText()
    app.ws_options.media_handlers[BINARY] = SendOnlyBinary()
    async with ASGIConductor(app) as c, c.simulate_ws("/ws") as ws:
        assert await ws.receive_json() == {"a": 1}
        assert await ws.receive_data() == b"[2]"
        await ws.send_text("{}")
        assert await ws.receive_text() == "still open"
    [error] = errors
    assert "SendOnlyText does not implement deserialize()" in str(error)


@pytest.mark.parametrize("base", [TextBaseHandlerWS, BinaryBaseHandlerWS])
def test_base_ws_handlers_name_the_missing_method(base: type[Any]) -> None:
    handler = base()
    with pytest.raises(NotImplementedError, match=rf"{base.__name__} does not implement serialize"):
        handler.serialize({})
    with pytest.raises(NotImplementedError, match=r"deserialize\(\).*receive_media"):
        handler.deserialize("x" if base is TextBaseHandlerWS else b"x")


@pytest.mark.parametrize("bad", ["NaN", "1011", 1011.0, True, None, 999, 5000, -1])
def test_error_close_code_outside_the_range_is_a_value_error_at_assignment(bad: object) -> None:
    options = lanner.WebSocketOptions()
    with pytest.raises(ValueError, match="1000 to 4999"):
        options.error_close_code = bad  # type: ignore[assignment]
    assert options.error_close_code == 1011


@pytest.mark.parametrize("good", [1000, 1011, 3011, 4000, 4999])
def test_error_close_code_in_range_is_kept(good: int) -> None:
    options = lanner.WebSocketOptions()
    options.error_close_code = good
    assert options.error_close_code == good
