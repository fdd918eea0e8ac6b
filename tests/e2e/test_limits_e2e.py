"""What ``lanner serve`` bounds against hostile clients, over a real uvicorn.

* request heads are bounded in size (h11, 16 KB by default, whatever else is
  installed: httptools would accept a 64 MB header) and in time
  (``--timeout-request-header``: a half-sent request is answered 408 and
  closed, a silent connection closed; a WebSocket is not affected once open);
* a TEXT frame that is not UTF-8 closes the connection with 1007 and prints one
  WARNING line, not an ERROR traceback.

``bench/limits.py`` measures the same things at full size (64 MB, 500
connections) and reports figures instead of judging them.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

import pytest
from websockets.asyncio.client import connect

from tests.e2e._server import WS_IMPLEMENTATIONS, RunningServer, serve

pytestmark = pytest.mark.e2e

TIMEOUT = 5.0
HEAD_TIMEOUT = 1.0
SLOW_CONNECTIONS = 40
_PAGE_SIZE = 4096


def _rss_mb(server: RunningServer) -> float:
    with open(f"/proc/{server.process.pid}/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * _PAGE_SIZE / 2**20


def _request(server: RunningServer, head: bytes) -> bytes:
    """Send ``head`` (then stop if the server gives up), return the status line."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        with contextlib.suppress(OSError):
            for start in range(0, len(head), 1 << 16):
                sock.sendall(head[start : start + (1 << 16)])
        with contextlib.suppress(OSError):
            return sock.recv(200).split(b"\r\n", 1)[0]
    return b"reset"


def _get(path: str, headers: bytes = b"") -> bytes:
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n"


def test_a_huge_header_is_refused_at_16_kb_and_costs_no_memory() -> None:
    with serve("ws_app:app", cli=True) as server:
        before = _rss_mb(server)
        refused = _request(server, _get("/http-only", b"X-Big: " + b"a" * (32 << 20) + b"\r\n"))
        # The 400 may be lost to the reset the server's close sends after it.
        assert refused in (b"HTTP/1.1 400 Bad Request", b"reset", b"")
        assert _rss_mb(server) - before < 16  # httptools: +120 MB for 64 MB
        assert _request(server, _get("/http-only", b"X-Fine: " + b"a" * 8000 + b"\r\n")) == (
            b"HTTP/1.1 200 OK"
        )


def _trickled(server: RunningServer, header_bytes: int) -> bytes:
    """A head sent in two reads: h11 measures what it holds while the head is incomplete."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        sock.sendall(b"GET /http-only HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * header_bytes)
        time.sleep(0.3)
        with contextlib.suppress(OSError):
            sock.sendall(b"\r\n\r\n")
        with contextlib.suppress(OSError):
            return sock.recv(200).split(b"\r\n", 1)[0]
    return b"reset"


def test_the_header_size_limit_is_an_option() -> None:
    args = ["--h11-max-incomplete-event-size", "4096"]
    with serve("ws_app:app", cli=True, args=args) as server:
        small = _trickled(server, 3000)
        large = _trickled(server, 6000)
    assert small == b"HTTP/1.1 200 OK"
    assert large == b"HTTP/1.1 400 Bad Request"


def _open(server: RunningServer, first_bytes: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
    if first_bytes:
        sock.sendall(first_bytes)
    return sock


def _closed_by_server(sock: socket.socket) -> bytes | None:
    """What the server sent before closing ``sock``, or ``None`` if it is still open."""
    sock.setblocking(False)
    received = b""
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except BlockingIOError:
        return None
    except OSError:
        pass  # reset: closed
    return received


async def test_half_sent_requests_are_answered_408_and_closed() -> None:
    args = ["--timeout-request-header", str(HEAD_TIMEOUT)]
    with serve("ws_app:app", cli=True, args=args) as server:
        async with connect(f"{server.ws_url}/echo", open_timeout=TIMEOUT) as ws:
            half = [_open(server, b"GET /http-only HTTP/1.1\r\nHost: x\r\nX-Slow: ")]
            half += [_open(server, b"GE") for _ in range(SLOW_CONNECTIONS - 1)]
            silent = [_open(server, b"") for _ in range(5)]
            # A kept-alive connection: one full request, then half of the next.
            kept = _open(server, _get("/http-only"))
            assert kept.recv(4096).startswith(b"HTTP/1.1 200 OK")
            kept.sendall(b"GET /http-only HTTP/1.1\r\n")
            sockets = [*half, *silent, kept]
            deadline = time.monotonic() + HEAD_TIMEOUT + TIMEOUT
            try:
                while True:
                    outcomes = [_closed_by_server(sock) for sock in sockets]
                    if None not in outcomes or time.monotonic() > deadline:
                        break
                    await asyncio.sleep(0.1)
            finally:
                for sock in sockets:
                    sock.close()
            assert None not in outcomes, f"{outcomes.count(None)} connections still open"
            for outcome in [*outcomes[: len(half)], outcomes[-1]]:
                assert outcome is not None
                assert outcome.startswith(b"HTTP/1.1 408 Request Timeout")
            assert outcomes[len(half) : -1] == [b""] * len(silent)
            # The WebSocket opened before them is past its head: still open.
            await ws.send("still here")
            assert await asyncio.wait_for(ws.recv(), TIMEOUT) == "still here"
        assert _request(server, _get("/http-only")) == b"HTTP/1.1 200 OK"


@pytest.mark.parametrize("ws_impl", WS_IMPLEMENTATIONS)
async def test_invalid_utf8_text_frames_close_the_connection_without_a_traceback(
    ws_impl: str,
) -> None:
    with serve("ws_app:app", cli=True, ws=ws_impl) as server:
        codes = []
        for _ in range(3):
            async with connect(f"{server.ws_url}/echo", open_timeout=TIMEOUT) as ws:
                with contextlib.suppress(Exception):
                    await ws.send(b"\xff\xfe not utf-8", text=True)
                    await asyncio.wait_for(ws.recv(), TIMEOUT)
                await asyncio.wait_for(ws.wait_closed(), TIMEOUT)
                codes.append(ws.close_code)
        await asyncio.sleep(0.2)
        log = server.log()
    assert "Traceback" not in log
    assert "ERROR" not in log
    if ws_impl == "websockets-sansio":
        assert codes == [1007] * 3
        assert log.count("WARNING:  A WebSocket client sent a TEXT frame that is not valid") == 3
    else:
        # wsproto refuses the frame itself and drops the connection, logging nothing.
        assert all(code in (1006, 1007) for code in codes)
