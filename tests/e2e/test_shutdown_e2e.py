"""Graceful shutdown under a real server: ``lanner serve`` against plain uvicorn.

Several WebSocket clients (some responders waiting in ``receive``, some busy
elsewhere) and several event streams are open when the server process gets
SIGTERM. Under ``lanner serve`` the clients see 1001 (Going Away) and streams
end with their terminator; under plain uvicorn, WebSockets get uvicorn's 1012.
Either way every responder and generator finishes (``shutdown_app`` notes it
in a file), the output holds no traceback, and the process exits within
``--timeout-graceful-shutdown`` plus 1 s (plus a margin for a loaded machine).
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.e2e._server import WS_IMPLEMENTATIONS, RunningServer, serve

pytestmark = pytest.mark.e2e

GRACE = 2  # the harness's --timeout-graceful-shutdown
MARGIN = 2.0
RECEIVING, BUSY, STREAMS = 3, 2, 3


async def _open_ws(server: RunningServer, path: str) -> ClientConnection:
    ws = await connect(server.ws_url + path, open_timeout=5, close_timeout=2)
    assert await asyncio.wait_for(ws.recv(), 5) == "ready"
    return ws


async def _close_code(ws: ClientConnection) -> int | None:
    """Wait for the server to close ``ws``; return the code it sent."""
    try:
        await asyncio.wait_for(ws.recv(), GRACE + MARGIN + 5)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None
    raise AssertionError("the server sent a message instead of closing")


async def _stream_ends_cleanly(client: httpx.AsyncClient, ready: asyncio.Semaphore) -> bool:
    """Open ``/feed``, wait for ``ready``, then read to the end; False if it was cut."""
    async with client.stream("GET", "/feed") as response:
        chunks = response.aiter_bytes()
        assert b"ready" in await chunks.__anext__()
        ready.release()
        try:
            async for _ in chunks:
                pass
        except httpx.RemoteProtocolError:
            return False
    return True


Outcome = tuple[list[int | None], list[bool], float]


async def _shut_down(server: RunningServer) -> Outcome:
    """Open the clients, send SIGTERM; return close codes, clean ends, and the exit time."""
    ready = asyncio.Semaphore(0)
    receiving = [await _open_ws(server, "/ws/receive") for _ in range(RECEIVING)]
    busy = [await _open_ws(server, "/ws/busy") for _ in range(BUSY)]
    async with httpx.AsyncClient(base_url=server.http_url, timeout=GRACE + MARGIN + 5) as client:
        streams = [
            asyncio.ensure_future(_stream_ends_cleanly(client, ready)) for _ in range(STREAMS)
        ]
        for _ in range(STREAMS):
            await asyncio.wait_for(ready.acquire(), 5)
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        codes = await asyncio.gather(*(_close_code(ws) for ws in receiving + busy))
        ends = await asyncio.gather(*streams)
    try:
        await asyncio.to_thread(server.process.wait, GRACE + MARGIN + 5)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the server did not exit:\n{server.log()}") from None
    return list(codes), list(ends), time.monotonic() - started


def _notes(log: Path) -> Counter[str]:
    return Counter(log.read_text().splitlines()) if log.exists() else Counter()


_SERVE_SETUPS = [
    *(pytest.param(impl, [], id=impl) for impl in WS_IMPLEMENTATIONS),
    pytest.param("websockets-sansio", ["--workers", "2"], id="workers"),
    pytest.param("websockets-sansio", ["--reload"], id="reload"),
]
"""Each uvicorn WebSocket implementation, then worker and reloader child processes."""


@pytest.mark.parametrize(("ws_impl", "args"), _SERVE_SETUPS)
async def test_lanner_serve_says_going_away_and_exits_in_time(
    ws_impl: str, args: list[str], tmp_path: Path
) -> None:
    log = tmp_path / "notes.log"
    env = {"LANNER_DISABLE_PLUGIN_AUTOLOAD": "1", "SHUTDOWN_LOG": str(log)}
    with serve("shutdown_app:app", ws=ws_impl, env=env, cli=True, args=args) as server:
        codes, ends, elapsed = await _shut_down(server)
        output = server.log()
    assert codes == [1001] * (RECEIVING + BUSY), output
    assert ends == [True] * STREAMS, output
    assert _notes(log) == {"ws-receive 1001": RECEIVING, "ws-busy": BUSY, "sse": STREAMS}
    assert "Traceback" not in output
    assert elapsed < GRACE + 1 + MARGIN, output


async def test_plain_uvicorn_closes_with_its_own_code_and_prints_no_traceback(
    tmp_path: Path,
) -> None:
    log = tmp_path / "notes.log"
    env = {"LANNER_DISABLE_PLUGIN_AUTOLOAD": "1", "SHUTDOWN_LOG": str(log)}
    with serve("shutdown_app:app", env=env) as server:
        codes, ends, elapsed = await _shut_down(server)
        output = server.log()
    # uvicorn closes WebSockets itself (1012) before the app hears of the shutdown;
    # streams still end with their terminator once uvicorn stops their tasks.
    assert codes == [1012] * (RECEIVING + BUSY), output
    assert ends == [True] * STREAMS, output
    assert _notes(log) == {"ws-receive 1012": RECEIVING, "ws-busy": BUSY, "sse": STREAMS}
    assert "Traceback" not in output
    assert elapsed < GRACE + 1 + MARGIN, output
