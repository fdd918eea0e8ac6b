"""WebSocket handshakes: middleware, routing, sinks, default responders and error handling.

Everything runs in-process through ``ASGIConductor.simulate_ws``. A denied
handshake (before accept) surfaces as the close code the conductor reports; a
close after accept is what the simulated client receives.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

import lanner
from lanner import Request, WebSocket
from lanner.testing import ASGIConductor


def _app(**routes: object) -> lanner.App:
    """An app with ``routes`` given as ``path=resource`` (``_`` stands for ``/``)."""
    app = lanner.App()
    for name, resource in routes.items():
        app.add_route("/" + name.replace("_", "/"), resource)
    return app


def _errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


class Hello:
    """Accepts, sends one greeting naming its params, then returns (close 1000)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def on_websocket(self, req: Request, ws: WebSocket, **params: Any) -> None:
        self.calls.append(params)
        await ws.accept()
        await ws.send_media({"path": req.path, "params": params})


class HttpOnly:
    async def on_get(self, req: Request, resp: lanner.Response) -> None:
        resp.media = {"ok": True}


class Raises:
    """Raises ``exc`` before or after accepting."""

    def __init__(self, exc: Exception, *, after_accept: bool) -> None:
        self.exc = exc
        self.after_accept = after_accept

    async def on_websocket(self, req: Request, ws: WebSocket, **params: Any) -> None:
        if self.after_accept:
            await ws.accept()
            await ws.send_text("accepted")
        raise self.exc


# --- middleware and routing ---------------------------------------------------------


async def test_process_request_ws_runs_before_routing_with_the_pending_ws() -> None:
    seen: list[tuple[str, bool, bool]] = []

    class Recorder:
        async def process_request_ws(self, req: Request, ws: WebSocket) -> None:
            seen.append((req.path, ws.ready, ws.closed))

    hello = Hello()
    app = lanner.App(middleware=Recorder())
    app.add_route("/hello", hello)
    async with ASGIConductor(app) as c, c.simulate_ws("/hello") as ws:
        assert await ws.receive_json() == {"path": "/hello", "params": {}}
    assert seen == [("/hello", False, False)]
    # It runs for unroutable paths too: it comes before routing.
    async with ASGIConductor(lanner.App(middleware=Recorder())) as c:
        with pytest.raises(lanner.WebSocketPathNotFound):
            async with c.simulate_ws("/nowhere"):
                pass
    assert seen[-1] == ("/nowhere", False, False)


async def test_setting_req_path_in_process_request_ws_reroutes_the_handshake() -> None:
    class Reroute:
        async def process_request_ws(self, req: Request, ws: WebSocket) -> None:
            if req.path.startswith("/old/"):
                req.path = "/new/" + req.path.removeprefix("/old/")

    new = Hello()
    app = lanner.App(middleware=[Reroute()])
    app.add_route("/new/{item}", new)
    async with ASGIConductor(app) as c, c.simulate_ws("/old/42") as ws:
        assert await ws.receive_json() == {"path": "/new/42", "params": {"item": "42"}}
    assert new.calls == [{"item": "42"}]


async def test_process_resource_ws_gets_the_resource_and_params_after_routing() -> None:
    seen: list[tuple[object, dict[str, Any]]] = []

    class Recorder:
        async def process_resource_ws(
            self, req: Request, ws: WebSocket, resource: object, params: dict[str, Any]
        ) -> None:
            seen.append((resource, dict(params)))
            params["added"] = "by middleware"

    hello = Hello()
    app = lanner.App(middleware=Recorder())
    app.add_route("/rooms/{room}", hello)
    async with ASGIConductor(app) as c, c.simulate_ws("/rooms/lobby") as ws:
        message = await ws.receive_json()
    assert seen == [(hello, {"room": "lobby"})]
    # The responder gets the params dict the middleware saw, changes included.
    assert message["params"] == {"room": "lobby", "added": "by middleware"}


async def test_process_resource_ws_runs_only_when_a_route_matched() -> None:
    calls: list[object] = []

    class Recorder:
        async def process_resource_ws(
            self, req: Request, ws: WebSocket, resource: object, params: dict[str, Any]
        ) -> None:
            calls.append(resource)

    async def ws_sink(req: Request, resp: None, ws: WebSocket, **groups: str) -> None:
        await ws.accept()
        await ws.send_text("sink")

    app = lanner.App(middleware=Recorder())
    app.add_sink(ws_sink, "/sink")
    async with ASGIConductor(app) as c:
        with pytest.raises(lanner.WebSocketPathNotFound):
            async with c.simulate_ws("/no-route"):
                pass
        async with c.simulate_ws("/sink/x") as ws:
            assert await ws.receive_text() == "sink"
    assert calls == []


async def test_middleware_closing_the_ws_denies_the_handshake_and_skips_the_rest() -> None:
    class Gate:
        async def process_request_ws(self, req: Request, ws: WebSocket) -> None:
            if req.get_header("Authorization") is None:
                await ws.close(4401)

    hello = Hello()
    app = lanner.App(middleware=Gate())
    app.add_route("/hello", hello)
    async with ASGIConductor(app) as c:
        with pytest.raises(lanner.WebSocketDisconnected) as denied:
            async with c.simulate_ws("/hello"):
                pass
        assert denied.value.code == 4401
        async with c.simulate_ws("/hello", headers={"Authorization": "yes"}) as ws:
            await ws.receive_json()
    assert hello.calls == [{}]


async def test_on_websocket_gets_uri_template_fields_converted() -> None:
    hello = Hello()
    app = lanner.App()
    app.add_route("/accounts/{account_id:int}/feeds/{feed}", hello)
    async with ASGIConductor(app) as c, c.simulate_ws("/accounts/7/feeds/news") as ws:
        await ws.receive_json()
    assert hello.calls == [{"account_id": 7, "feed": "news"}]
    assert type(hello.calls[0]["account_id"]) is int


async def test_sink_with_ws_parameter_takes_handshakes_with_resp_none() -> None:
    seen: list[tuple[object, bool, dict[str, str]]] = []

    async def sink(
        req: Request, resp: lanner.Response | None, ws: WebSocket | None = None, **groups: str
    ) -> None:
        seen.append((resp, isinstance(ws, WebSocket), groups))
        if ws is not None:
            await ws.accept()
            await ws.send_text(f"sink got {req.path}")
        elif resp is not None:
            resp.text = "http"

    app = lanner.App()
    app.add_sink(sink, r"/live/(?P<topic>\w+)")
    async with ASGIConductor(app) as c:
        async with c.simulate_ws("/live/prices") as ws:
            assert await ws.receive_text() == "sink got /live/prices"
        # The same sink still serves HTTP, with a response and no ws.
        assert (await c.simulate_get("/live/prices")).text == "http"
    assert seen[0] == (None, True, {"topic": "prices"})
    assert seen[1][0] is not None
    assert seen[1][1:] == (False, {"topic": "prices"})


async def test_sink_taking_kwargs_takes_handshakes() -> None:
    async def sink(req: Request, resp: lanner.Response | None, **kwargs: Any) -> None:
        ws = kwargs["ws"]
        assert resp is None
        await ws.accept()
        await ws.send_text("kwargs sink")

    app = lanner.App()
    app.add_sink(sink, "/any")
    async with ASGIConductor(app) as c, c.simulate_ws("/any") as ws:
        assert await ws.receive_text() == "kwargs sink"


async def test_sink_without_ws_parameter_does_not_take_handshakes() -> None:
    called: list[str] = []

    async def http_sink(req: Request, resp: lanner.Response) -> None:
        called.append(req.path)
        resp.text = "http sink"

    app = lanner.App()
    app.add_sink(http_sink, "/files")
    async with ASGIConductor(app) as c:
        with pytest.raises(lanner.WebSocketPathNotFound) as denied:
            async with c.simulate_ws("/files/a"):
                pass
        assert denied.value.code == 3404
        assert (await c.simulate_get("/files/a")).text == "http sink"
    assert called == ["/files/a"]


async def test_routes_beat_ws_sinks() -> None:
    async def sink(req: Request, resp: None, ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_media({"path": "sink", "params": {}})

    hello = Hello()
    app = _app(chat=hello)
    app.add_sink(sink, "/")
    async with ASGIConductor(app) as c:
        async with c.simulate_ws("/chat") as ws:
            assert (await ws.receive_json())["path"] == "/chat"
        async with c.simulate_ws("/other") as ws:
            assert (await ws.receive_json())["path"] == "sink"


# --- default responders -------------------------------------------------------------


async def test_no_route_denies_with_3404_path_not_found() -> None:
    async with ASGIConductor(_app(hello=Hello())) as c:
        with pytest.raises(lanner.WebSocketPathNotFound) as denied:
            async with c.simulate_ws("/missing"):
                pass
    assert denied.value.code == 3404
    assert isinstance(denied.value, lanner.WebSocketDisconnected)


async def test_route_without_on_websocket_denies_with_3405_handler_not_found() -> None:
    async with ASGIConductor(_app(page=HttpOnly())) as c:
        with pytest.raises(lanner.WebSocketHandlerNotFound) as denied:
            async with c.simulate_ws("/page"):
                pass
        # HTTP on the same route is unaffected.
        assert (await c.simulate_get("/page")).json == {"ok": True}
    assert denied.value.code == 3405
    assert isinstance(denied.value, lanner.WebSocketDisconnected)


async def test_default_404_and_405_can_be_replaced_by_an_error_handler() -> None:
    async def not_found(
        req: Request, resp: None, ex: Exception, params: dict[str, Any], ws: WebSocket | None
    ) -> None:
        assert ws is not None
        await ws.close(4004, "nothing here")

    app = _app(page=HttpOnly())
    app.add_error_handler(lanner.HTTPRouteNotFound, not_found)
    async with ASGIConductor(app) as c:
        with pytest.raises(lanner.WebSocketDisconnected) as denied:
            async with c.simulate_ws("/missing"):
                pass
        assert denied.value.code == 4004
        # HTTPMethodNotAllowed is not an HTTPRouteNotFound: still the default 3405.
        with pytest.raises(lanner.WebSocketHandlerNotFound):
            async with c.simulate_ws("/page"):
                pass


# --- HTTP errors ---------------------------------------------------------------------


async def test_http_error_before_accept_denies_with_3000_plus_status() -> None:
    app = _app(
        forbidden=Raises(lanner.HTTPForbidden(), after_accept=False),
        teapot=Raises(lanner.HTTPError(418), after_accept=False),
    )
    async with ASGIConductor(app) as c:
        with pytest.raises(lanner.WebSocketDisconnected) as forbidden:
            async with c.simulate_ws("/forbidden"):
                pass
        with pytest.raises(lanner.WebSocketDisconnected) as teapot:
            async with c.simulate_ws("/teapot"):
                pass
    assert forbidden.value.code == 3403
    assert teapot.value.code == 3418
    assert type(forbidden.value) is lanner.WebSocketDisconnected


async def test_http_error_in_middleware_denies_with_3000_plus_status() -> None:
    class Auth:
        async def process_request_ws(self, req: Request, ws: WebSocket) -> None:
            raise lanner.HTTPUnauthorized(challenges=['Bearer realm="ws"'])

    app = lanner.App(middleware=Auth())
    app.add_route("/hello", Hello())
    async with ASGIConductor(app) as c:
        with pytest.raises(lanner.WebSocketDisconnected) as denied:
            async with c.simulate_ws("/hello"):
                pass
    assert denied.value.code == 3401


async def test_http_error_after_accept_closes_with_3000_plus_status(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = _app(forbidden=Raises(lanner.HTTPForbidden(), after_accept=True))
    async with ASGIConductor(app) as c, c.simulate_ws("/forbidden") as ws:
        assert await ws.receive_text() == "accepted"
        with pytest.raises(lanner.WebSocketDisconnected) as closed:
            await ws.receive_text()
    assert closed.value.code == 3403
    assert ws.close_code == 3403
    # An HTTPError is an outcome, not a crash: nothing is logged as an error.
    assert _errors(caplog) == []


# --- unhandled exceptions -------------------------------------------------------------


@pytest.mark.parametrize("after_accept", [False, True], ids=["before-accept", "after-accept"])
async def test_unhandled_exception_closes_with_1011_and_logs_one_error(
    caplog: pytest.LogCaptureFixture, after_accept: bool
) -> None:
    app = _app(crash=Raises(ValueError("kaboom"), after_accept=after_accept))
    async with ASGIConductor(app) as c:
        if after_accept:
            async with c.simulate_ws("/crash") as ws:
                assert await ws.receive_text() == "accepted"
                with pytest.raises(lanner.WebSocketServerError) as closed:
                    await ws.receive_text()
        else:
            with pytest.raises(lanner.WebSocketServerError) as closed:
                async with c.simulate_ws("/crash"):
                    pass
    assert closed.value.code == 1011
    (record,) = _errors(caplog)
    assert record.name == "lanner"
    assert record.levelno == logging.ERROR
    assert "/crash" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], ValueError)
    assert "kaboom" in caplog.text
    assert "Traceback" in caplog.text


@pytest.mark.parametrize("after_accept", [False, True], ids=["before-accept", "after-accept"])
async def test_custom_error_close_code_is_used_for_crashes(after_accept: bool) -> None:
    app = _app(crash=Raises(RuntimeError("x"), after_accept=after_accept))
    app.ws_options.error_close_code = 4000
    async with ASGIConductor(app) as c:
        if after_accept:
            async with c.simulate_ws("/crash") as ws:
                await ws.receive_text()
                with pytest.raises(lanner.WebSocketDisconnected) as closed:
                    await ws.receive_text()
        else:
            with pytest.raises(lanner.WebSocketDisconnected) as closed:
                async with c.simulate_ws("/crash"):
                    pass
    assert closed.value.code == 4000


@pytest.mark.parametrize("unsendable", [1005, 1006, 1015, 2000, 2999])
async def test_unsendable_error_close_code_falls_back_to_3011(unsendable: int) -> None:
    app = _app(crash=Raises(RuntimeError("x"), after_accept=True))
    app.ws_options.error_close_code = unsendable
    async with ASGIConductor(app) as c, c.simulate_ws("/crash") as ws:
        await ws.receive_text()
        with pytest.raises(lanner.WebSocketServerError) as closed:
            await ws.receive_text()
    assert closed.value.code == 3011
    assert ws.close_reason == "Internal Server Error"


async def test_custom_error_handler_gets_resp_none_and_the_ws() -> None:
    seen: list[tuple[object, object, object, dict[str, Any]]] = []
    resource = Raises(KeyError("missing"), after_accept=True)

    async def on_key_error(
        req: Request,
        resp: lanner.Response | None,
        ex: Exception,
        params: dict[str, Any],
        ws: WebSocket | None = None,
    ) -> None:
        seen.append((resp, ws, ex, params))
        assert ws is not None
        await ws.send_text(f"handled {type(ex).__name__}")
        await ws.close(4022, "bad key")

    app = lanner.App()
    app.add_route("/items/{item}", resource)
    app.add_error_handler(KeyError, on_key_error)
    async with ASGIConductor(app) as c, c.simulate_ws("/items/9") as ws:
        assert await ws.receive_text() == "accepted"
        assert await ws.receive_text() == "handled KeyError"
        with pytest.raises(lanner.WebSocketDisconnected) as closed:
            await ws.receive_text()
    assert (closed.value.code, closed.value.reason) == (4022, "bad key")
    ((resp, handler_ws, ex, params),) = seen
    assert resp is None
    assert isinstance(handler_ws, WebSocket)
    assert isinstance(ex, KeyError)
    assert params == {"item": "9"}


async def test_four_argument_error_handler_still_works_for_websockets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[tuple[object, type[BaseException]]] = []

    async def legacy(req: Request, resp: object, ex: Exception, params: dict[str, Any]) -> None:
        seen.append((resp, type(ex)))

    app = _app(crash=Raises(LookupError("x"), after_accept=True))
    app.add_error_handler(LookupError, legacy)
    async with ASGIConductor(app) as c, c.simulate_ws("/crash") as ws:
        await ws.receive_text()
        # The handler could not close the ws; lanner closes it normally.
        with pytest.raises(lanner.WebSocketDisconnected) as closed:
            await ws.receive_text()
    assert closed.value.code == 1000
    assert seen == [(None, LookupError)]
    assert _errors(caplog) == []


async def test_error_handler_that_raises_falls_back_to_one_logged_1011(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(
        req: Request, resp: object, ex: Exception, params: dict[str, Any], ws: object = None
    ) -> None:
        raise RuntimeError("handler bug")

    app = _app(crash=Raises(LookupError("x"), after_accept=True))
    app.add_error_handler(LookupError, broken)
    async with ASGIConductor(app) as c, c.simulate_ws("/crash") as ws:
        await ws.receive_text()
        with pytest.raises(lanner.WebSocketServerError):
            await ws.receive_text()
    (record,) = _errors(caplog)
    assert record.exc_info is not None
    assert "handler bug" in str(record.exc_info[1])


async def test_unhandled_websocket_disconnected_is_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Careless:
        async def on_websocket(self, req: Request, ws: WebSocket) -> None:
            await ws.accept()
            while True:
                await ws.send_text(await ws.receive_text())

    caplog.set_level(logging.WARNING)
    async with ASGIConductor(_app(careless=Careless())) as c, c.simulate_ws("/careless") as ws:
        await ws.send_text("hi")
        assert await ws.receive_text() == "hi"
        await ws.close(4321)
    lanner_records = [r for r in caplog.records if r.name == "lanner"]
    assert [r.levelno for r in lanner_records] == [logging.WARNING]
    assert "4321" in lanner_records[0].getMessage()
    assert "/careless" in lanner_records[0].getMessage()
    assert lanner_records[0].exc_info is None
    assert _errors(caplog) == []
