"""lanner's WebSocket support under a real uvicorn, driven by the ``websockets`` client.

Each app server starts once per uvicorn WebSocket implementation (module-scoped
fixtures). Before accept a real client only ever sees HTTP 403; after accept it
sees the close code itself. Every wait is bounded: connecting and closing by
the client's own timeouts, each receive by ``asyncio.wait_for``, and each poll
of the server's ``/stats`` by a deadline.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import msgpack
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.e2e._server import WS_IMPLEMENTATIONS, RunningServer, serve

pytestmark = pytest.mark.e2e

OPEN_TIMEOUT = 5.0
CLOSE_TIMEOUT = 2.0
RECEIVE_TIMEOUT = 3.0
POLL_TIMEOUT = 5.0
MAX_SIZE = 1024
_ENV = {"LANNER_DISABLE_PLUGIN_AUTOLOAD": "1"}


@pytest.fixture(scope="module", params=WS_IMPLEMENTATIONS)
def ws_impl(request: pytest.FixtureRequest) -> str:
    """The uvicorn ``--ws`` implementation under test."""
    return str(request.param)


@pytest.fixture(scope="module")
def server(ws_impl: str) -> Iterator[RunningServer]:
    """``ws_app:app`` (default ws_options), with a 1 KiB message size limit."""
    with serve("ws_app:app", ws=ws_impl, env=_ENV, args=["--ws-max-size", str(MAX_SIZE)]) as s:
        yield s


@pytest.fixture(scope="module")
def no_queue_server(ws_impl: str) -> Iterator[RunningServer]:
    """``ws_app:app_no_queue``: max_receive_queue=0, error_close_code=4000."""
    with serve("ws_app:app_no_queue", ws=ws_impl, env=_ENV) as s:
        yield s


def _connect(server: RunningServer, path: str, **kwargs: Any) -> connect:
    return connect(
        server.ws_url + path,
        open_timeout=OPEN_TIMEOUT,
        close_timeout=CLOSE_TIMEOUT,
        **kwargs,
    )


async def _recv(ws: ClientConnection) -> str | bytes:
    return await asyncio.wait_for(ws.recv(), RECEIVE_TIMEOUT)


async def _closed_by_server(ws: ClientConnection) -> ConnectionClosed:
    """Receive until the server closes; return the close as the client saw it."""
    try:
        while True:
            await _recv(ws)
    except ConnectionClosed as closed:
        return closed


def _test_id() -> str:
    return uuid.uuid4().hex[:12]


def _get_stats(server: RunningServer, test_id: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{server.http_url}/stats/{test_id}", timeout=2) as reply:
        events: list[dict[str, Any]] = json.loads(reply.read())
    return events


async def _poll_stats(server: RunningServer, test_id: str, event: str) -> list[dict[str, Any]]:
    """Poll ``/stats`` until ``event`` was recorded for ``test_id``; return all events."""
    deadline = time.monotonic() + POLL_TIMEOUT
    while True:
        events = await asyncio.to_thread(_get_stats, server, test_id)
        if any(e["event"] == event for e in events):
            return events
        if time.monotonic() > deadline:
            raise AssertionError(
                f"The server recorded no {event!r} for {test_id} within {POLL_TIMEOUT} s; "
                f"it recorded {events}.\nServer log:\n{server.log()}"
            )
        await asyncio.sleep(0.02)


# --- denied handshakes: a real client sees only HTTP 403 --------------------------------


@pytest.mark.parametrize(
    "path",
    ["/no/such/route", "/http-only", "/deny/forbidden", "/deny/close", "/deny/crash"],
    ids=["no-route", "no-on_websocket", "http-error", "close-before-accept", "crash"],
)
async def test_denied_handshake_is_http_403(server: RunningServer, path: str) -> None:
    with pytest.raises(InvalidStatus) as denied:
        async with _connect(server, path):
            pass
    assert denied.value.response.status_code == 403
    # The server keeps serving.
    async with _connect(server, "/echo") as ws:
        await ws.send("still up")
        assert await _recv(ws) == "still up"


async def test_crash_before_accept_is_logged_once_on_the_server(server: RunningServer) -> None:
    before = server.log().count("Unhandled ValueError in WebSocket /deny/crash")
    with pytest.raises(InvalidStatus):
        async with _connect(server, "/deny/crash"):
            pass
    deadline = time.monotonic() + POLL_TIMEOUT
    while server.log().count("Unhandled ValueError in WebSocket /deny/crash") == before:
        assert time.monotonic() < deadline, server.log()
        await asyncio.sleep(0.02)
    assert server.log().count("Unhandled ValueError in WebSocket /deny/crash") == before + 1
    assert "Exception in ASGI application" not in server.log()


# --- closes after accept: a real client sees the code ------------------------------------


@pytest.mark.parametrize(
    ("how", "code", "reason"),
    [
        ("forbidden", 3403, ""),
        ("crash", 1011, "Internal Server Error"),
        ("custom", 4321, "custom reason"),
        ("long-reason", 4122, "é" * 61 + "!"),
    ],
)
async def test_close_after_accept_reaches_the_client(
    server: RunningServer, how: str, code: int, reason: str
) -> None:
    test_id = _test_id()
    async with _connect(server, f"/after/{how}/{test_id}") as ws:
        assert await _recv(ws) == "accepted"
        closed = await _closed_by_server(ws)
    assert closed.rcvd is not None
    assert (closed.rcvd.code, closed.rcvd.reason) == (code, reason)
    if how == "crash":
        log = server.log()
        assert log.count(f"crash after accept {test_id}") == 1
        assert "Traceback" in log


async def test_custom_error_close_code(no_queue_server: RunningServer) -> None:
    async with _connect(no_queue_server, f"/after/crash/{_test_id()}") as ws:
        assert await _recv(ws) == "accepted"
        closed = await _closed_by_server(ws)
    assert closed.rcvd is not None
    assert closed.rcvd.code == 4000


async def test_closing_ends_a_receive_waiting_in_another_task(server: RunningServer) -> None:
    test_id = _test_id()
    async with _connect(server, f"/close-with-reader/{test_id}") as ws:
        closed = await _closed_by_server(ws)
        events = await _poll_stats(server, test_id, "handler-done")
    assert closed.rcvd is not None
    assert closed.rcvd.code == 4000
    assert events == [
        {"event": "reader-disconnected", "code": 4000},
        {"event": "handler-done"},
    ]


# --- subprotocols, headers, frames --------------------------------------------------------


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [(["mqtt", "chat.v1", "chat.v2"], "chat.v2"), (["chat.v1"], "chat.v1"), (None, None)],
)
async def test_subprotocol_and_accept_headers(
    server: RunningServer, offered: list[str] | None, chosen: str | None
) -> None:
    async with _connect(server, "/echo", subprotocols=offered) as ws:
        assert ws.subprotocol == chosen
        assert ws.response is not None
        assert ws.response.headers["X-Lanner-Echo"] == "yes"
        await ws.send("héllo")
        assert await _recv(ws) == "héllo"


async def test_json_and_msgpack_media_frames(server: RunningServer) -> None:
    async with _connect(server, "/media") as ws:
        await ws.send(json.dumps({"kind": "json", "n": [1, 2]}))
        assert json.loads(await _recv(ws)) == {"got": {"kind": "json", "n": [1, 2]}}
        binary = await _recv(ws)
        assert isinstance(binary, bytes)
        assert msgpack.unpackb(binary) == {"got": {"kind": "json", "n": [1, 2]}}

        await ws.send(msgpack.packb({"kind": "msgpack", "x": 1.5}))
        assert json.loads(await _recv(ws)) == {"got": {"kind": "msgpack", "x": 1.5}}
        assert msgpack.unpackb(await _recv(ws)) == {"got": {"kind": "msgpack", "x": 1.5}}


async def test_malformed_media_frames_keep_the_connection_usable(server: RunningServer) -> None:
    async with _connect(server, "/media") as ws:
        await ws.send("{not json")
        assert await _recv(ws) == "json-error"
        await ws.send(b"\xc1")
        assert await _recv(ws) == "msgpack-error: FormatError"
        await ws.send(b"\x92\x01")  # a 2-item array holding 1 item
        reply = await _recv(ws)
        assert isinstance(reply, str)
        assert reply.startswith("msgpack-error: ")
        await ws.send("[1]")
        assert json.loads(await _recv(ws)) == {"got": [1]}
        await _recv(ws)


async def test_payload_type_error_keeps_the_connection_usable(server: RunningServer) -> None:
    async with _connect(server, "/echo") as ws:
        await ws.send(b"binary to a text endpoint")
        reply = await _recv(ws)
        assert isinstance(reply, str)
        assert reply.startswith("payload-type-error: ")
        assert "BINARY" in reply
        await ws.send("text")
        assert await _recv(ws) == "text"


# --- bad input ------------------------------------------------------------------------------


async def test_message_over_the_servers_size_limit_closes_with_1009(
    server: RunningServer,
) -> None:
    test_id = _test_id()
    async with _connect(server, f"/receive/{test_id}", max_size=None) as ws:
        await ws.send(b"x" * (MAX_SIZE - 24))
        assert await _recv(ws) == f"got {MAX_SIZE - 24} bytes"
        await ws.send(b"x" * (MAX_SIZE * 2))
        closed = await _closed_by_server(ws)
    assert closed.rcvd is not None
    assert closed.rcvd.code == 1009
    (event,) = await _poll_stats(server, test_id, "disconnected")
    assert event["code"] == 1009


async def test_client_vanishing_with_a_partial_handshake_leaves_the_server_healthy(
    server: RunningServer,
) -> None:
    log_start = len(server.log())
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", server.port), timeout=2) as raw:
            raw.sendall(
                b"GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Ver"
            )
    async with _connect(server, "/echo") as ws:
        await ws.send("after")
        assert await _recv(ws) == "after"
    new_log = server.log()[log_start:]
    assert "Traceback" not in new_log
    assert "ERROR" not in new_log


async def test_client_vanishing_before_accept_is_seen_by_the_responder(
    server: RunningServer,
) -> None:
    test_id = _test_id()
    log_start = len(server.log())
    with socket.create_connection(("127.0.0.1", server.port), timeout=2) as raw:
        raw.sendall(
            f"GET /slow-accept/{test_id} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        await _poll_stats(server, test_id, "connect")
    events = await _poll_stats(server, test_id, "gone")
    assert events == [
        {"event": "connect"},
        {"event": "gone", "code": 1006, "ready": False},
    ]
    new_log = server.log()[log_start:]
    assert "Traceback" not in new_log


# --- lost connections ------------------------------------------------------------------------


async def test_receive_sees_the_clients_close_code(server: RunningServer) -> None:
    test_id = _test_id()
    async with _connect(server, f"/receive/{test_id}") as ws:
        await ws.send(b"abc")
        assert await _recv(ws) == "got 3 bytes"
        await ws.close(4100, "bye")
    events = await _poll_stats(server, test_id, "disconnected")
    assert events == [{"event": "disconnected", "code": 4100, "reason": "bye"}]


@pytest.mark.parametrize("queue", ["queue-on", "queue-off"])
async def test_send_only_endpoint_notices_a_closing_client(
    server: RunningServer, no_queue_server: RunningServer, queue: str
) -> None:
    target = server if queue == "queue-on" else no_queue_server
    test_id = _test_id()
    async with _connect(target, f"/push/{test_id}") as ws:
        assert await _recv(ws) == "tick 0"
    (event,) = await _poll_stats(target, test_id, "disconnected")
    assert event["event"] == "disconnected"
    assert event["sent"] >= 1


@pytest.mark.parametrize("queue", ["queue-on", "queue-off"])
async def test_send_only_endpoint_notices_a_client_that_drops_the_connection(
    server: RunningServer, no_queue_server: RunningServer, queue: str
) -> None:
    target = server if queue == "queue-on" else no_queue_server
    test_id = _test_id()
    log_start = len(target.log())
    async with _connect(target, f"/push/{test_id}") as ws:
        assert await _recv(ws) == "tick 0"
        ws.transport.abort()  # no close frame, no FIN handshake: the TCP connection drops
    (event,) = await _poll_stats(target, test_id, "disconnected")
    assert event["code"] == 1006
    assert "Traceback" not in target.log()[log_start:]
