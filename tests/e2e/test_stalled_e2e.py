"""Clients that stop reading, under a real uvicorn: the send timeout frees them.

Each client is a raw socket with a 4 KiB receive buffer that completes its
handshake (or request) and then never reads, while ``stalled_app`` pushes 1 KiB
messages. With ``send_timeout`` set, the push's blocked send fails: the
responder sees ``WebSocketDisconnected`` (the SSE generator's ``finally`` runs),
and the server's task count and open sockets return to where they were.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e._server import WS_IMPLEMENTATIONS, RunningServer, serve

pytestmark = pytest.mark.e2e

SEND_TIMEOUT = 1.0
# The design bound is SEND_TIMEOUT + 1 s; the tests allow more for a loaded machine.
MARGIN = 3.0
POLL_TIMEOUT = 15.0
ENV = {"LANNER_DISABLE_PLUGIN_AUTOLOAD": "1", "STALL_SEND_TIMEOUT": str(SEND_TIMEOUT)}


@pytest.fixture(scope="module", params=WS_IMPLEMENTATIONS)
def server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    with serve("stalled_app:app", ws=str(request.param), env=ENV) as running:
        yield running


def _stats(server: RunningServer, test_id: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{server.http_url}/stats/{test_id}", timeout=2) as reply:
        result: dict[str, Any] = json.load(reply)
        return result


def _open_sockets(pid: int) -> int:
    """How many sockets the server process holds open (listening one included)."""
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                count += 1
    return count


def _wait_for(what: str, condition: Any, timeout: float = POLL_TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout} s waiting for {what}.")
        time.sleep(0.05)


@contextlib.contextmanager
def _stalled_client(server: RunningServer, request: bytes) -> Iterator[socket.socket]:
    """Connect with a tiny receive buffer, send ``request``, read the head, then stop."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(5.0)
    try:
        sock.connect(("127.0.0.1", server.port))
        sock.sendall(request)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(1024)
            assert chunk, f"the server closed before answering: {head!r}"
            head += chunk
        yield sock
    finally:
        sock.close()


def _read_until_closed(sock: socket.socket) -> bool:
    """Drain ``sock``; return True once the server has closed or reset it."""
    sock.settimeout(5.0)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def _ws_request(server: RunningServer, path: str) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


def _baseline(server: RunningServer, test_id: str) -> tuple[int, int]:
    tasks = _stats(server, test_id)["tasks"]
    return tasks, _open_sockets(server.process.pid)


def _assert_freed(server: RunningServer, test_id: str, tasks: int, sockets: int) -> None:
    _wait_for("the task count to return", lambda: _stats(server, test_id)["tasks"] <= tasks)
    pid = server.process.pid
    _wait_for("the socket to close", lambda: _open_sockets(pid) <= sockets)


def test_a_websocket_client_that_stops_reading_is_freed(server: RunningServer) -> None:
    test_id = uuid.uuid4().hex
    tasks, sockets = _baseline(server, test_id)
    with _stalled_client(server, _ws_request(server, f"/push/{test_id}")) as sock:
        outcome = _wait_for("the push to fail", lambda: _stats(server, test_id)["outcome"])
        assert outcome["error"] == "WebSocketDisconnected"
        assert outcome["code"] == 1006
        assert SEND_TIMEOUT <= outcome["blocked_for"] < SEND_TIMEOUT + MARGIN
        _assert_freed(server, test_id, tasks, sockets)
        assert _read_until_closed(sock)
    assert "Traceback" not in server.log()


def test_an_sse_client_that_stops_reading_is_freed(server: RunningServer) -> None:
    test_id = uuid.uuid4().hex
    tasks, sockets = _baseline(server, test_id)
    request = (
        f"GET /feed/{test_id} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        "Accept: text/event-stream\r\n\r\n"
    ).encode()
    with _stalled_client(server, request) as sock:
        outcome = _wait_for("the generator to close", lambda: _stats(server, test_id)["outcome"])
        assert outcome["finalised"] is True
        assert SEND_TIMEOUT <= outcome["blocked_for"] < SEND_TIMEOUT + MARGIN
        _assert_freed(server, test_id, tasks, sockets)
        assert _read_until_closed(sock)
    log = server.log()
    assert "Traceback" not in log
    assert "ASGI callable returned without completing response" not in log
