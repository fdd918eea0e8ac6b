"""No credential in the server's output, at ``--log-level debug`` and ``trace``.

``lanner serve`` runs ``auth_app`` in a subprocess; the test sends the token
in every way the plugin takes one (HTTP ``Authorization`` header and query
parameter; WebSocket header, ``Sec-WebSocket-Protocol`` entry and query
parameter; an SSE stream), valid and invalid, then searches the server's whole
output for the token. uvicorn prints handshake headers at debug and dumps
each ASGI scope at trace, so without the plugin's filter the token shows up.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from tests.e2e._server import WS_IMPLEMENTATIONS, RunningServer, serve

pytestmark = pytest.mark.e2e

TOKEN = "hygiene-TOKEN-9f3Kq7Zx2"
WRONG = "hygiene-WRONG-4hT8mP1v"
TIMEOUT = 5.0


async def _exercise(server: RunningServer) -> None:
    """Authenticate every way the plugin allows, and fail once each way."""
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=server.http_url, timeout=TIMEOUT) as client:
        assert (await client.get("/private", headers=bearer)).status_code == 200
        assert (await client.get("/private", params={"access_token": TOKEN})).status_code == 200
        refused = await client.get("/private", headers={"Authorization": f"Bearer {WRONG}"})
        assert refused.status_code == 401
        async with client.stream("GET", "/events", headers=bearer) as stream:
            body = b"".join([chunk async for chunk in stream.aiter_bytes()])
        assert body.count(b"data: ") == 3
    ways = [
        ("/ws", {"additional_headers": bearer}),
        ("/ws", {"subprotocols": [Subprotocol("chat.v1"), Subprotocol(f"bearer.{TOKEN}")]}),
        (f"/ws?access_token={TOKEN}", {}),
    ]
    for path, kwargs in ways:
        async with connect(server.ws_url + path, open_timeout=TIMEOUT, **kwargs) as ws:
            assert "alice" in str(await asyncio.wait_for(ws.recv(), TIMEOUT))
            await ws.send("hello")
            assert await asyncio.wait_for(ws.recv(), TIMEOUT) == "hello"
    sub = [Subprotocol(f"bearer.{WRONG}")]
    with pytest.raises(InvalidStatus):
        async with connect(server.ws_url + "/ws", open_timeout=TIMEOUT, subprotocols=sub):
            pass


@pytest.mark.parametrize("ws", WS_IMPLEMENTATIONS)
@pytest.mark.parametrize("level", ["debug", "trace"])
async def test_no_secret_in_the_server_output(level: str, ws: str) -> None:
    env = {"AUTH_APP_TOKEN": TOKEN}
    with serve("auth_app:app", cli=True, ws=ws, env=env, args=["--log-level", level]) as server:
        await _exercise(server)
        # The last handshake's lines are written after the client saw its 403.
        deadline = time.monotonic() + TIMEOUT
        while server.log().count("access_token=***") < 2:
            assert time.monotonic() < deadline, server.log()
            await asyncio.sleep(0.05)
        log = server.log()
    assert TOKEN not in log
    assert WRONG not in log
    # The filter masked the secrets rather than the server not printing them at all.
    assert "access_token=***" in log
    if level == "trace":
        assert "ASGI [" in log
        assert "'bearer.***'" in log
    if ws == "websockets-sansio":
        assert "Bearer ***" in log
        assert "bearer.***" in log
