"""auth_mw under ``lanner serve``: CORS preflights and same-origin handshakes, end to end.

``auth_app`` allows ``["self", "https://app.example"]``. A preflight is
answered by the plugin (204, no body, CORS headers only for an allowed origin)
and never reaches a responder or a sink, which ``GET /calls`` confirms from the
server's side. A page's own origin may open the WebSocket on whatever port the
server listens on; another origin gets 403, and the server log says which
origin it refused and what was allowed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from tests.e2e._server import WS_IMPLEMENTATIONS, RunningServer, serve

pytestmark = pytest.mark.e2e

TOKEN = "auth-e2e-Q2w9Lk5Rt8"
OTHER_ORIGIN = "https://app.example"
TIMEOUT = 5.0


@pytest.fixture(scope="module", params=WS_IMPLEMENTATIONS)
def server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    """``auth_app:app`` under ``lanner serve``, with each WebSocket implementation."""
    with serve(
        "auth_app:app", cli=True, ws=str(request.param), env={"AUTH_APP_TOKEN": TOKEN}
    ) as running:
        yield running


async def _calls(client: httpx.AsyncClient) -> dict[str, int]:
    reply = await client.get("/calls")
    assert reply.status_code == 200
    calls: dict[str, int] = reply.json()
    return calls


async def _wait_for_log(server: RunningServer, text: str) -> str:
    deadline = time.monotonic() + TIMEOUT
    while text not in server.log():
        assert time.monotonic() < deadline, f"{text!r} not in the log:\n{server.log()}"
        await asyncio.sleep(0.05)
    return server.log()


@pytest.mark.parametrize("path", ["/private", "/files/report.pdf"])
async def test_preflight_is_answered_without_running_the_app(
    server: RunningServer, path: str
) -> None:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=TIMEOUT) as client:
        before = await _calls(client)
        allowed = await client.options(
            path,
            headers={
                "Origin": OTHER_ORIGIN,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        refused = await client.options(
            path,
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        after = await _calls(client)
    assert allowed.status_code == 204
    assert allowed.content == b""
    assert allowed.headers["access-control-allow-origin"] == OTHER_ORIGIN
    assert allowed.headers["access-control-allow-methods"] == "GET"
    assert allowed.headers["access-control-allow-headers"] == "authorization"
    assert allowed.headers["access-control-max-age"] == "600"
    assert refused.status_code == 204
    assert refused.content == b""
    assert not [name for name in refused.headers if name.startswith("access-control-")]
    assert after == before
    log = await _wait_for_log(server, "Refused CORS preflight")
    assert "'https://evil.example'" in log


async def test_the_pages_own_origin_may_open_the_websocket_on_any_port(
    server: RunningServer,
) -> None:
    own = Origin(server.http_url)
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    async with connect(
        server.ws_url + "/ws", origin=own, additional_headers=bearer, open_timeout=TIMEOUT
    ) as ws:
        assert "alice" in str(await asyncio.wait_for(ws.recv(), TIMEOUT))
    other_port = Origin(f"http://127.0.0.1:{server.port + 1}")
    with pytest.raises(InvalidStatus) as denied:
        async with connect(server.ws_url + "/ws", origin=other_port, additional_headers=bearer):
            pass
    assert denied.value.response.status_code == 403
    log = await _wait_for_log(server, f"Origin '{other_port}'")
    line = next(line for line in log.splitlines() if f"Origin '{other_port}'" in line)
    assert line.startswith("INFO")
    assert f"self ({server.http_url})" in line
    assert OTHER_ORIGIN in line
    assert TOKEN not in log
