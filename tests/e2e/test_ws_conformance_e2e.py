"""Issue 12's server-facing items under a real uvicorn, with real clients.

Reading the body of a WebSocket request consumes no message; ``close(None)``
is 1000; spec versions with three parts keep close reasons, and other majors
are refused; accept headers go out only where the server can send them;
``HTTPStatus`` becomes the HTTP response, a 403 on a handshake and a
3000 + status close after accept. Each server runs once per uvicorn
WebSocket implementation; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.e2e._server import WS_IMPLEMENTATIONS, RunningServer, serve

pytestmark = pytest.mark.e2e

OPEN_TIMEOUT = 5.0
CLOSE_TIMEOUT = 2.0
RECEIVE_TIMEOUT = 3.0
_ENV = {"LANNER_DISABLE_PLUGIN_AUTOLOAD": "1"}


@pytest.fixture(scope="module", params=WS_IMPLEMENTATIONS)
def server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    """``conformance_app:app`` under the uvicorn WebSocket implementation given."""
    with serve("conformance_app:app", ws=str(request.param), env=_ENV) as s:
        yield s


def _connect(server: RunningServer, path: str, **kwargs: Any) -> connect:
    return connect(
        server.ws_url + path, open_timeout=OPEN_TIMEOUT, close_timeout=CLOSE_TIMEOUT, **kwargs
    )


async def _recv(ws: ClientConnection) -> str | bytes:
    return await asyncio.wait_for(ws.recv(), RECEIVE_TIMEOUT)


async def _closed_by_server(ws: ClientConnection) -> ConnectionClosed:
    try:
        while True:
            await _recv(ws)
    except ConnectionClosed as closed:
        return closed


# --- 2. the body of a WebSocket request --------------------------------------------------


async def test_reading_the_body_after_accept_loses_no_message(server: RunningServer) -> None:
    async with _connect(server, "/body/after") as ws:
        await ws.send("one")
        await ws.send("two")
        assert await _recv(ws) == "unsupported"
        assert await _recv(ws) == "first: one"


async def test_reading_the_body_before_accept_loses_no_message(server: RunningServer) -> None:
    async with _connect(server, "/body/before") as ws:
        await ws.send("one")
        assert await _recv(ws) == "refused 2"
        assert await _recv(ws) == "first: one"


# --- 3. close(None) ------------------------------------------------------------------------


async def test_close_none_reaches_the_client_as_1000(server: RunningServer) -> None:
    async with _connect(server, "/close-none") as ws:
        closed = await _closed_by_server(ws)
    assert closed.rcvd is not None
    assert closed.rcvd.code == 1000


# --- 4. spec versions ----------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["", "/v/2.3", "/v/2.4.1", "/v/2.10.3"])
async def test_the_close_reason_goes_out_whatever_the_number_of_parts(
    server: RunningServer, prefix: str
) -> None:
    async with _connect(server, prefix + "/reason") as ws:
        closed = await _closed_by_server(ws)
    assert closed.rcvd is not None
    assert (closed.rcvd.code, closed.rcvd.reason) == (4000, "bye")


async def test_before_2_3_the_close_reason_is_left_out(server: RunningServer) -> None:
    async with _connect(server, "/v/2.2.9/reason") as ws:
        closed = await _closed_by_server(ws)
    assert closed.rcvd is not None
    assert (closed.rcvd.code, closed.rcvd.reason) == (4000, "")


@pytest.mark.parametrize("version", ["1.0", "3.0"])
async def test_another_major_spec_version_is_refused(server: RunningServer, version: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with _connect(server, f"/v/{version}/reason"):
            pass
    assert refused.value.response.status_code == 500  # uvicorn: the app raised
    async with httpx.AsyncClient(timeout=RECEIVE_TIMEOUT) as client:
        reply = await client.get(f"{server.http_url}/v/{version}/status")
    assert reply.status_code == 500
    deadline = time.monotonic() + RECEIVE_TIMEOUT
    while "UnsupportedScopeError" not in server.log():
        assert time.monotonic() < deadline, server.log()
        await asyncio.sleep(0.02)


# --- 6. headers on accept ---------------------------------------------------------------


@pytest.mark.parametrize(("prefix", "sent"), [("", True), ("/v/2.0", False)])
async def test_accept_headers_go_out_only_where_the_server_can_send_them(
    server: RunningServer, prefix: str, sent: bool
) -> None:
    async with _connect(server, prefix + "/accept-headers") as ws:
        assert await _recv(ws) == ("headers" if sent else "no headers")
        assert ws.response is not None
        assert ws.response.headers.get("X-Accepted") == ("yes" if sent else None)


# --- 7. HTTPStatus -------------------------------------------------------------------------


async def test_http_status_becomes_the_http_response(server: RunningServer) -> None:
    async with httpx.AsyncClient(timeout=RECEIVE_TIMEOUT) as client:
        reply = await client.get(f"{server.http_url}/status")
        preflight = await client.options(f"{server.http_url}/status")
    assert (reply.status_code, reply.text, reply.headers["x-early"]) == (203, "early", "yes")
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert preflight.content == b""


async def test_http_status_before_accept_is_a_403(server: RunningServer) -> None:
    with pytest.raises(InvalidStatus) as denied:
        async with _connect(server, "/status"):
            pass
    assert denied.value.response.status_code == 403


async def test_http_status_after_accept_closes_with_3000_plus_status(
    server: RunningServer,
) -> None:
    async with _connect(server, "/status/after") as ws:
        assert await _recv(ws) == "accepted"
        closed = await _closed_by_server(ws)
    assert closed.rcvd is not None
    assert closed.rcvd.code == 3205
