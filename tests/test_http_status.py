"""``lanner.HTTPStatus``: end a request early with a status that is not an error.

Over HTTP it becomes the response; on a WebSocket handshake it denies with
3000 + status; after accept it closes with that code. It works from every
place a request is handled: middleware (HTTP and WebSocket variants),
responders, sinks and error handlers.
"""

from __future__ import annotations

import http
from typing import Any

import pytest

import lanner
from lanner import HTTPStatus, Request, Response, WebSocket
from lanner.testing import ASGIConductor


class Resource:
    """Raises what it is given from each responder, optionally after accept."""

    def __init__(self, raise_: BaseException | None = None, *, after_accept: bool = False):
        self.raise_ = raise_
        self.after_accept = after_accept
        self.reached: list[str] = []

    async def on_get(self, req: Request, resp: Response) -> None:
        self.reached.append("on_get")
        resp.media = {"not": "sent"}
        if self.raise_ is not None:
            raise self.raise_

    async def on_websocket(self, req: Request, ws: WebSocket) -> None:
        self.reached.append("on_websocket")
        if self.after_accept:
            await ws.accept()
            await ws.send_text("accepted")
        if self.raise_ is not None:
            raise self.raise_
        await ws.accept()


def _app(resource: Resource, middleware: object | None = None) -> lanner.App:
    app = lanner.App(middleware=middleware)
    app.add_route("/r", resource)
    return app


# --- the exception itself -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "code"), [(204, 204), (http.HTTPStatus.FOUND, 302), ("304 Not Modified", 304)]
)
def test_status_is_taken_as_int_enum_or_status_line(given: Any, code: int) -> None:
    assert HTTPStatus(given).status == code


@pytest.mark.parametrize("bad", [99, 1000, "abc", "", None, True, 2.5])
def test_a_status_outside_100_to_999_is_refused(bad: Any) -> None:
    with pytest.raises(ValueError, match="100 to 999"):
        HTTPStatus(bad)


def test_it_is_not_an_http_error() -> None:
    assert not issubclass(HTTPStatus, lanner.HTTPError)
    assert issubclass(HTTPStatus, Exception)


# --- HTTP --------------------------------------------------------------------------------


async def test_raised_in_a_responder_it_becomes_the_response() -> None:
    resource = Resource(HTTPStatus(202, headers={"X-Queued": "yes"}, text="queued"))
    async with ASGIConductor(_app(resource)) as c:
        result = await c.simulate_get("/r")
    assert result.status_code == 202
    assert result.text == "queued"
    assert result.headers["x-queued"] == "yes"
    assert result.headers["content-type"] == "text/plain; charset=utf-8"


async def test_without_text_there_is_no_body_not_even_the_media_set_before() -> None:
    resource = Resource(HTTPStatus(204, headers=[("X-A", "1"), ("X-B", "2")]))
    async with ASGIConductor(_app(resource)) as c:
        result = await c.simulate_get("/r")
    assert result.status_code == 204
    assert result.content == b""
    assert "content-type" not in result.headers
    assert (result.headers["x-a"], result.headers["x-b"]) == ("1", "2")


async def test_a_content_type_header_types_the_text() -> None:
    raised = HTTPStatus(200, headers={"Content-Type": "application/json"}, text='{"ok":1}')
    async with ASGIConductor(_app(Resource(raised))) as c:
        result = await c.simulate_get("/r")
    assert result.json == {"ok": 1}
    assert result.headers["content-type"] == "application/json"


class ProcessRequest:
    """Ends every request in process_request, as a CORS preflight answer would."""

    def __init__(self) -> None:
        self.responses: list[tuple[int, bool]] = []

    async def process_request(self, req: Request, resp: Response) -> None:
        raise HTTPStatus(204, headers={"Access-Control-Allow-Origin": "*"})

    async def process_response(
        self, req: Request, resp: Response, resource: object, req_succeeded: bool
    ) -> None:
        self.responses.append((int(resp.status), req_succeeded))


async def test_from_process_request_the_responder_never_runs() -> None:
    resource = Resource()
    mw = ProcessRequest()
    async with ASGIConductor(_app(resource, mw)) as c:
        result = await c.simulate_get("/r")
    assert result.status_code == 204
    assert result.headers["access-control-allow-origin"] == "*"
    assert resource.reached == []
    assert mw.responses == [(204, False)]


class ProcessResource:
    """Ends the request once routed, from process_resource or process_resource_ws."""

    async def process_resource(
        self, req: Request, resp: Response, resource: object, params: dict[str, Any]
    ) -> None:
        raise HTTPStatus(304)

    async def process_resource_ws(
        self, req: Request, ws: WebSocket, resource: object, params: dict[str, Any]
    ) -> None:
        raise HTTPStatus(200)


async def test_from_process_resource() -> None:
    resource = Resource()
    async with ASGIConductor(_app(resource, ProcessResource())) as c:
        result = await c.simulate_get("/r")
        with pytest.raises(lanner.WebSocketDisconnected) as denied:
            async with c.simulate_ws("/r"):
                pass
    assert result.status_code == 304
    assert denied.value.code == 3200
    assert resource.reached == []


async def test_from_a_sink_for_http_and_websocket() -> None:
    async def sink(req: Request, resp: Response | None, ws: WebSocket | None = None) -> None:
        raise HTTPStatus(302, headers={"Location": "/elsewhere"})

    app = lanner.App()
    app.add_sink(sink, "/old")
    async with ASGIConductor(app) as c:
        result = await c.simulate_get("/old/page")
        with pytest.raises(lanner.WebSocketDisconnected) as denied:
            async with c.simulate_ws("/old/socket"):
                pass
    assert (result.status_code, result.headers["location"]) == (302, "/elsewhere")
    assert denied.value.code == 3302


async def test_from_an_error_handler() -> None:
    async def on_key_error(req: Request, resp: Response | None, ex: Exception, params: Any) -> None:
        raise HTTPStatus(404, text="no such key")

    app = _app(Resource(KeyError("k")))
    app.add_error_handler(KeyError, on_key_error)
    async with ASGIConductor(app) as c:
        result = await c.simulate_get("/r")
    assert (result.status_code, result.text) == (404, "no such key")


async def test_an_app_handler_for_it_replaces_the_default() -> None:
    seen: list[int] = []

    async def on_status(req: Request, resp: Response | None, ex: Exception, params: Any) -> None:
        assert isinstance(ex, HTTPStatus)
        assert resp is not None
        seen.append(ex.status)
        resp.status = 299

    app = _app(Resource(HTTPStatus(204)))
    app.add_error_handler(HTTPStatus, on_status)
    async with ASGIConductor(app) as c:
        result = await c.simulate_get("/r")
    assert seen == [204]
    assert result.status_code == 299


# --- WebSocket ----------------------------------------------------------------------------


async def test_before_accept_it_denies_with_3000_plus_status() -> None:
    resource = Resource(HTTPStatus(204))
    async with ASGIConductor(_app(resource)) as c:
        with pytest.raises(lanner.WebSocketDisconnected) as denied:
            async with c.simulate_ws("/r"):
                pass
    assert denied.value.code == 3204
    assert type(denied.value) is lanner.WebSocketDisconnected


async def test_after_accept_it_closes_with_3000_plus_status() -> None:
    resource = Resource(HTTPStatus(205), after_accept=True)
    async with ASGIConductor(_app(resource)) as c, c.simulate_ws("/r") as ws:
        assert await ws.receive_text() == "accepted"
        with pytest.raises(lanner.WebSocketDisconnected) as closed:
            await ws.receive_text()
    assert closed.value.code == 3205


class ProcessRequestWS:
    """Denies every handshake in process_request_ws."""

    async def process_request_ws(self, req: Request, ws: WebSocket) -> None:
        raise HTTPStatus(401)


async def test_from_process_request_ws() -> None:
    resource = Resource()
    async with ASGIConductor(_app(resource, ProcessRequestWS())) as c:
        with pytest.raises(lanner.WebSocketDisconnected) as denied:
            async with c.simulate_ws("/r"):
                pass
    assert denied.value.code == 3401
    assert resource.reached == []


async def test_nothing_is_logged_as_an_error(caplog: pytest.LogCaptureFixture) -> None:
    async with ASGIConductor(_app(Resource(HTTPStatus(204)))) as c:
        await c.simulate_get("/r")
        with pytest.raises(lanner.WebSocketDisconnected):
            async with c.simulate_ws("/r"):
                pass
    assert [r for r in caplog.records if r.levelname == "ERROR"] == []
