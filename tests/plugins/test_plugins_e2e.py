"""Both plugins under a real uvicorn, with the ``websockets`` and ``httpx`` clients.

``plugin_auth_app`` loads the installed plugins through their entry points;
``plugin_cbor_app`` loads media_cbor in-process. A refused handshake is only
ever an HTTP 403 to a real client; an accepted connection stays open through
hostile CBOR frames. The redaction test serves through ``lanner serve`` and
searches the server's own log output for the token.
"""

from __future__ import annotations

import asyncio
import json
import struct
import time
from collections.abc import Iterator
from typing import Any

import cbor2
import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin, Subprotocol

from tests.e2e._server import WS_IMPLEMENTATIONS, RunningServer, serve

pytestmark = pytest.mark.e2e

TOKEN = "e2e-alice-R7vK2mQ9xT4w"
TOKEN_ENV = "LANNER_E2E_AUTH_TOKEN"
ALLOWED_ORIGIN = "https://app.example"
OPEN_TIMEOUT = 5.0
CLOSE_TIMEOUT = 2.0
RECEIVE_TIMEOUT = 3.0
LOG_TIMEOUT = 5.0

# The auth app loads its plugins through entry points, so autoload must be on.
AUTH_ENV = {"LANNER_DISABLE_PLUGIN_AUTOLOAD": "0", TOKEN_ENV: TOKEN}


@pytest.fixture(scope="module", params=WS_IMPLEMENTATIONS)
def auth_server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    """``plugin_auth_app:app`` under each uvicorn WebSocket implementation."""
    with serve("plugin_auth_app:app", ws=str(request.param), env=AUTH_ENV) as server:
        yield server


@pytest.fixture(scope="module")
def cbor_server() -> Iterator[RunningServer]:
    """``plugin_cbor_app:app``: CBOR echo over HTTP and WebSocket."""
    with serve("plugin_cbor_app:app", env={"LANNER_DISABLE_PLUGIN_AUTOLOAD": "1"}) as server:
        yield server


def _connect(server: RunningServer, path: str, **kwargs: Any) -> connect:
    return connect(
        server.ws_url + path, open_timeout=OPEN_TIMEOUT, close_timeout=CLOSE_TIMEOUT, **kwargs
    )


async def _recv(ws: ClientConnection) -> str | bytes:
    return await asyncio.wait_for(ws.recv(), RECEIVE_TIMEOUT)


async def _greeting(ws: ClientConnection) -> dict[str, Any]:
    message = await _recv(ws)
    assert isinstance(message, str)
    greeting: dict[str, Any] = json.loads(message)
    return greeting


async def _refused(server: RunningServer, path: str = "/ws", **kwargs: Any) -> int:
    with pytest.raises(InvalidStatus) as denied:
        async with _connect(server, path, **kwargs):
            pass
    return denied.value.response.status_code


# --- auth_mw: WebSocket handshakes ----------------------------------------------------


REFUSALS: dict[str, dict[str, Any]] = {
    "no-credential": {},
    "forged-token": {"additional_headers": {"Authorization": "Bearer e2e-alice-XXXXXXXXXXXX"}},
    "truncated-token": {"additional_headers": {"Authorization": f"Bearer {TOKEN[:-1]}"}},
    "empty-token": {"additional_headers": {"Authorization": "Bearer "}},
    "token-as-plain-subprotocol": {"subprotocols": [Subprotocol(TOKEN)]},
    "prefix-origin-trick": {
        "additional_headers": {"Authorization": f"Bearer {TOKEN}"},
        "origin": Origin("https://app.example.evil.com"),
    },
    "suffix-origin-trick": {
        "additional_headers": {"Authorization": f"Bearer {TOKEN}"},
        "origin": Origin("https://evil.app.example"),
    },
    "other-port": {
        "additional_headers": {"Authorization": f"Bearer {TOKEN}"},
        "origin": Origin("https://app.example:8443"),
    },
    "null-origin": {
        "additional_headers": {"Authorization": f"Bearer {TOKEN}"},
        "origin": Origin("null"),
    },
}


@pytest.mark.parametrize("kwargs", list(REFUSALS.values()), ids=list(REFUSALS))
async def test_refused_handshake_is_http_403(
    auth_server: RunningServer, kwargs: dict[str, Any]
) -> None:
    assert await _refused(auth_server, **kwargs) == 403
    # A query token with a bad value is refused too, and the server keeps serving.
    assert await _refused(auth_server, "/ws?access_token=nope") == 403
    async with _connect(auth_server, f"/ws?access_token={TOKEN}") as ws:
        assert (await _greeting(ws))["auth"] == "alice"


CREDENTIALS: dict[str, tuple[str, dict[str, Any]]] = {
    "header": ("/ws", {"additional_headers": {"Authorization": f"Bearer {TOKEN}"}}),
    "query": (f"/ws?access_token={TOKEN}", {}),
    "subprotocol": (
        "/ws",
        {"subprotocols": [Subprotocol("chat.v1"), Subprotocol(f"bearer.{TOKEN}")]},
    ),
    "header-from-allowed-origin": (
        "/ws",
        {
            "additional_headers": {"Authorization": f"Bearer {TOKEN}"},
            "origin": Origin(ALLOWED_ORIGIN),
        },
    ),
}


@pytest.mark.parametrize("credential", list(CREDENTIALS.values()), ids=list(CREDENTIALS))
async def test_each_credential_form_connects_and_cbor_round_trips(
    auth_server: RunningServer, credential: tuple[str, dict[str, Any]]
) -> None:
    path, kwargs = credential
    async with _connect(auth_server, path, **kwargs) as ws:
        greeting = await _greeting(ws)
        assert greeting["auth"] == "alice"
        # The token entry never reaches the app, and is never selected.
        assert all(not p.startswith("bearer.") for p in greeting["subprotocols"])
        assert ws.subprotocol == ("chat.v1" if "subprotocols" in kwargs else None)
        message = {"text": "hi", "n": [1, 2.5, None], "raw": b"\x00\xff"}
        await ws.send(cbor2.dumps(message))
        reply = await _recv(ws)
        assert isinstance(reply, bytes)
        assert cbor2.loads(reply) == message


# --- auth_mw: HTTP ----------------------------------------------------------------------


def test_http_without_credentials_is_401_with_challenge(auth_server: RunningServer) -> None:
    with httpx.Client(base_url=auth_server.http_url, timeout=5) as client:
        missing = client.get("/whoami")
        forged = client.get("/whoami", headers={"Authorization": "Bearer forged"})
        ok = client.get("/whoami", headers={"Authorization": f"Bearer {TOKEN}"})
        by_query = client.get("/whoami", params={"access_token": TOKEN})
        health = client.get("/health")
        preflight = client.options(
            "/whoami",
            headers={"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "GET"},
        )
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == 'Bearer realm="lanner"'
    assert forged.status_code == 401
    assert forged.headers["www-authenticate"].startswith("Bearer ")
    assert ok.json() == {"auth": "alice"}
    assert by_query.json() == {"auth": "alice"}
    assert health.json() == {"ok": True, "auth": None}
    # The plugin answers the preflight itself (tests/e2e/test_auth_e2e.py has the details).
    assert preflight.status_code == 204
    assert preflight.content == b""
    assert preflight.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "www-authenticate" not in preflight.headers


# --- media_cbor under a real server ----------------------------------------------------


HOSTILE_FRAMES = {
    "truncated": b"\x83\x01\x02",
    "huge-length": b"\x5b" + struct.pack(">Q", 2**63),
    "deep": b"\x81" * 50_000 + b"\x00",
    "unknown-tag": b"\xd9\x27\x0f\x00",
    "cyclic": b"\xd8\x1c\x81\xd8\x1d\x00",
}


async def test_hostile_frames_get_an_error_and_the_connection_stays_open(
    cbor_server: RunningServer,
) -> None:
    async with _connect(cbor_server, "/echo") as ws:
        for name, frame in HOSTILE_FRAMES.items():
            await ws.send(frame)
            reply = await _recv(ws)
            assert isinstance(reply, str), name
            assert reply.startswith("CBORPayloadError: Invalid CBOR payload"), name
        await ws.send(cbor2.dumps({"still": "open"}))
        echoed = await _recv(ws)
        assert isinstance(echoed, bytes)
        assert cbor2.loads(echoed) == {"still": "open"}


def test_http_cbor_round_trip_and_hostile_body(cbor_server: RunningServer) -> None:
    headers = {"Content-Type": "application/cbor"}
    with httpx.Client(base_url=cbor_server.http_url, timeout=5) as client:
        good = client.post("/echo", content=cbor2.dumps({"a": [1, 2]}), headers=headers)
        bad = client.post("/echo", content=HOSTILE_FRAMES["deep"], headers=headers)
    assert good.status_code == 200
    assert good.headers["content-type"] == "application/cbor"
    assert cbor2.loads(good.content) == {"a": [1, 2]}
    assert bad.status_code == 400
    assert "CBOR" in bad.json()["description"]


# --- the query token never reaches the log ----------------------------------------------


async def test_query_token_is_redacted_from_the_lanner_serve_log() -> None:
    wrong = "WRONG-e2e-7c1f"
    with serve(
        "plugin_auth_app:app", cli=True, args=["--log-level", "info"], env=AUTH_ENV
    ) as server:
        async with _connect(server, f"/ws?access_token={TOKEN}") as ws:
            assert (await _greeting(ws))["auth"] == "alice"
        assert await _refused(server, f"/ws?x=1&access_token={wrong}") == 403
        async with httpx.AsyncClient(base_url=server.http_url, timeout=5) as client:
            reply = await client.get("/whoami", params={"access_token": TOKEN})
            assert reply.status_code == 200
        deadline = time.monotonic() + LOG_TIMEOUT
        while server.log().count("access_token=***") < 3:
            assert time.monotonic() < deadline, server.log()
            await asyncio.sleep(0.05)
        log = server.log()
    assert TOKEN not in log
    assert wrong not in log
    assert "WebSocket /ws?access_token=***" in log
    assert "GET /whoami?access_token=*** HTTP/1.1" in log
