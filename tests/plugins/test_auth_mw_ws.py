"""auth_mw on WebSocket handshakes: refused before accept (3403 here, HTTP 403 for real clients).

A refused handshake never reaches the responder; the test conductor reports
the close code the app sent before accepting, which a real server turns into
an HTTP 403 without upgrade (covered end to end in test_plugins_e2e.py).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

import lanner_auth_mw
from lanner import App, Request, WebSocket, WebSocketDisconnected
from lanner.testing import ASGIConductor
from tests.plugins.auth_mw_verifiers import SERVICE_TOKEN

TOKEN = "alice-7Hq2xL9vR4kP0sWm"
ORIGIN = "https://app.example"
DENIED = 3403


class Greeter:
    """Accepts (selecting ``chat.v1`` when offered) and reports what it saw."""

    def __init__(self) -> None:
        self.runs = 0

    async def on_websocket(self, req: Request, ws: WebSocket) -> None:
        self.runs += 1
        chosen = "chat.v1" if "chat.v1" in ws.subprotocols else None
        await ws.accept(subprotocol=chosen)
        await ws.send_media({"auth": req.context.auth, "subprotocols": list(ws.subprotocols)})


class Naive:
    """Accepts with the first subprotocol offered, as a careless app might."""

    async def on_websocket(self, req: Request, ws: WebSocket) -> None:
        await ws.accept(subprotocol=ws.subprotocols[0] if ws.subprotocols else None)
        await ws.send_media({"subprotocols": list(ws.subprotocols)})


def _app(**options: Any) -> tuple[App, Greeter]:
    section = {"tokens": {"alice": TOKEN}, "exempt": ["/public"], **options}
    app = App(autoload_plugins=False, plugins=[lanner_auth_mw], plugin_config={"auth_mw": section})
    greeter = Greeter()
    app.add_route("/ws", greeter)
    app.add_route("/public", greeter)
    app.add_route("/naive", Naive())
    return app, greeter


async def _connect(app: App, path: str = "/ws", **kwargs: Any) -> tuple[dict[str, Any], str | None]:
    """Connect, return the greeting and the selected subprotocol."""
    async with ASGIConductor(app) as conductor, conductor.simulate_ws(path, **kwargs) as ws:
        return await ws.receive_json(), ws.subprotocol


async def _denied(app: App, path: str = "/ws", **kwargs: Any) -> int:
    async with ASGIConductor(app) as conductor:
        with pytest.raises(WebSocketDisconnected) as caught:
            async with conductor.simulate_ws(path, **kwargs):
                pass
    return caught.value.code


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_no_credential_is_refused_before_the_responder_runs() -> None:
    app, greeter = _app()
    assert await _denied(app) == DENIED
    assert greeter.runs == 0


async def test_bearer_header_is_accepted() -> None:
    app, greeter = _app()
    greeting, _ = await _connect(app, headers=_bearer(TOKEN))
    assert greeting["auth"] == "alice"
    assert greeter.runs == 1


BAD_TOKENS = {
    "forged": "alice-AAAAAAAAAAAAAAAA",
    "truncated": TOKEN[:-3],
    "extended": TOKEN + "=",
    "oversized-1MB": "A" * (1 << 20),
    "empty": "",
}


@pytest.mark.parametrize("token", list(BAD_TOKENS.values()), ids=list(BAD_TOKENS))
async def test_bad_header_token_is_refused(token: str) -> None:
    app, greeter = _app()
    assert await _denied(app, headers=_bearer(token)) == DENIED
    assert greeter.runs == 0


async def test_query_token_works_only_when_configured() -> None:
    app, _ = _app()
    assert await _denied(app, params={"access_token": TOKEN}) == DENIED
    app, _ = _app(query_param="access_token")
    greeting, _ = await _connect(app, params={"access_token": TOKEN})
    assert greeting["auth"] == "alice"
    assert await _denied(app, params={"access_token": TOKEN[:-1]}) == DENIED


async def test_subprotocol_token_is_accepted_and_hidden_from_the_app() -> None:
    app, _ = _app(subprotocol_prefix="bearer.")
    greeting, selected = await _connect(app, subprotocols=["chat.v1", f"bearer.{TOKEN}"])
    assert greeting == {"auth": "alice", "subprotocols": ["chat.v1"]}
    assert selected == "chat.v1"


async def test_subprotocol_token_is_never_echoed_even_by_a_careless_app() -> None:
    app, _ = _app(subprotocol_prefix="bearer.")
    conductor = ASGIConductor(app)
    async with conductor, conductor.simulate_ws("/naive", subprotocols=[f"bearer.{TOKEN}"]) as ws:
        assert await ws.receive_json() == {"subprotocols": []}
        assert ws.subprotocol is None


async def test_subprotocol_entries_are_hidden_even_when_another_credential_is_used() -> None:
    app, _ = _app(subprotocol_prefix="bearer.")
    greeting, _ = await _connect(
        app, headers=_bearer(TOKEN), subprotocols=["bearer.whatever", "chat.v1"]
    )
    assert greeting["subprotocols"] == ["chat.v1"]


@pytest.mark.parametrize(
    "subprotocols",
    [
        [TOKEN],  # the token without the prefix
        [f"other.{TOKEN}"],  # another prefix
        [f"Bearer.{TOKEN}"],  # the prefix is case-sensitive
        ["bearer."],  # the prefix with no token
        [f"bearer.{TOKEN[:-1]}"],  # a truncated token
    ],
    ids=["no-prefix", "other-prefix", "prefix-case", "empty", "truncated"],
)
async def test_bad_subprotocol_credentials_are_refused(subprotocols: list[str]) -> None:
    app, greeter = _app(subprotocol_prefix="bearer.")
    assert await _denied(app, subprotocols=subprotocols) == DENIED
    assert greeter.runs == 0


async def test_subprotocol_token_is_refused_when_no_prefix_is_configured() -> None:
    app, _ = _app()
    assert await _denied(app, subprotocols=[f"bearer.{TOKEN}"]) == DENIED


ALLOWED_ORIGINS = {
    "exact": ORIGIN,
    "explicit-default-port": "https://app.example:443",
    "uppercase": "HTTPS://APP.EXAMPLE",
}


@pytest.mark.parametrize("origin", list(ALLOWED_ORIGINS.values()), ids=list(ALLOWED_ORIGINS))
async def test_allowed_origin_passes(origin: str) -> None:
    app, _ = _app(allowed_origins=[ORIGIN])
    greeting, _ = await _connect(app, headers={**_bearer(TOKEN), "Origin": origin})
    assert greeting["auth"] == "alice"


ORIGIN_TRICKS = {
    "prefix": "https://app.example.evil.com",
    "suffix": "https://evil.app.example",
    "glued-suffix": "https://evilapp.example",
    "other-scheme": "http://app.example",
    "other-port": "https://app.example:8443",
    "null": "null",
    "userinfo": "https://app.example@evil.com",
    "path": "https://app.example/",
    "trailing-dot": "https://app.example.",
    "two-origins": "https://app.example, https://evil.com",
    "empty": "",
    "garbage": "not an origin",
    "ws-scheme": "wss://app.example",
}


@pytest.mark.parametrize("origin", list(ORIGIN_TRICKS.values()), ids=list(ORIGIN_TRICKS))
async def test_origin_tricks_are_refused_even_with_a_valid_token(origin: str) -> None:
    app, greeter = _app(allowed_origins=[ORIGIN])
    assert await _denied(app, headers={**_bearer(TOKEN), "Origin": origin}) == DENIED
    assert greeter.runs == 0


async def test_no_origin_is_judged_on_credentials_alone() -> None:
    app, _ = _app(allowed_origins=[ORIGIN])
    greeting, _ = await _connect(app, headers=_bearer(TOKEN))
    assert greeting["auth"] == "alice"
    assert await _denied(app) == DENIED


async def test_allowed_origin_still_needs_credentials() -> None:
    app, _ = _app(allowed_origins=[ORIGIN])
    assert await _denied(app, headers={"Origin": ORIGIN}) == DENIED


async def test_without_an_allow_list_any_origin_passes() -> None:
    app, _ = _app()
    greeting, _ = await _connect(app, headers={**_bearer(TOKEN), "Origin": "null"})
    assert greeting["auth"] == "alice"


async def test_empty_allow_list_refuses_every_browser() -> None:
    app, _ = _app(allowed_origins=[])
    assert await _denied(app, headers={**_bearer(TOKEN), "Origin": ORIGIN}) == DENIED
    greeting, _ = await _connect(app, headers=_bearer(TOKEN))
    assert greeting["auth"] == "alice"


async def test_exempt_path_skips_credentials_but_not_the_origin_check() -> None:
    app, _ = _app(allowed_origins=[ORIGIN])
    greeting, _ = await _connect(app, "/public", headers={"Origin": ORIGIN})
    assert greeting["auth"] is None
    assert await _denied(app, "/public", headers={"Origin": "https://evil.example"}) == DENIED


@pytest.mark.parametrize("verify", ["verify_sync", "verify_async"])
async def test_verify_callable_on_handshakes(verify: str) -> None:
    app, _ = _app(verify=f"tests.plugins.auth_mw_verifiers:{verify}", subprotocol_prefix="bearer.")
    greeting, _ = await _connect(app, subprotocols=[f"bearer.{SERVICE_TOKEN}"])
    assert greeting["auth"] == {"service": "billing", "via": verify.split("_")[1]}
    assert await _denied(app, subprotocols=["bearer.nope"]) == DENIED


async def test_an_empty_subprotocol_token_is_not_rescued_by_the_query() -> None:
    app, greeter = _app(subprotocol_prefix="bearer.", query_param="access_token")
    refused = await _denied(app, subprotocols=["bearer."], params={"access_token": TOKEN})
    assert refused == DENIED
    assert greeter.runs == 0


# -- "self": the page's own origin ----------------------------------------------------------


SAME_ORIGIN = {
    "port-8011": ("127.0.0.1:8011", "http://127.0.0.1:8011"),
    "default-port": ("chat.example", "http://chat.example"),
    "default-port-written": ("chat.example:80", "http://chat.example"),
    "ipv6": ("[::1]:8011", "http://[::1]:8011"),
    "host-case": ("Chat.Example:8011", "http://chat.example:8011"),
}


@pytest.mark.parametrize(("host", "origin"), list(SAME_ORIGIN.values()), ids=list(SAME_ORIGIN))
async def test_self_allows_the_pages_own_origin(host: str, origin: str) -> None:
    app, _ = _app(allowed_origins=["self"])
    greeting, _ = await _connect(app, headers={**_bearer(TOKEN), "Host": host, "Origin": origin})
    assert greeting["auth"] == "alice"


CROSS_ORIGIN = {
    "other-port": ("127.0.0.1:8011", "http://127.0.0.1:8000"),
    "other-host": ("127.0.0.1:8011", "http://localhost:8011"),
    "other-scheme": ("127.0.0.1:8011", "https://127.0.0.1:8011"),
    "look-alike": ("chat.example", "http://chat.example.evil.com"),
    "no-host": ("", "http://chat.example"),
    "bad-host": ("chat.example/x", "http://chat.example"),
    "null": ("chat.example", "null"),
}


@pytest.mark.parametrize(("host", "origin"), list(CROSS_ORIGIN.values()), ids=list(CROSS_ORIGIN))
async def test_self_refuses_every_other_origin(host: str, origin: str) -> None:
    app, greeter = _app(allowed_origins=["self"])
    assert await _denied(app, headers={**_bearer(TOKEN), "Host": host, "Origin": origin}) == DENIED
    assert greeter.runs == 0


async def test_self_combines_with_listed_origins() -> None:
    app, _ = _app(allowed_origins=["self", ORIGIN])
    host = {"Host": "127.0.0.1:8011"}
    for origin in ("http://127.0.0.1:8011", ORIGIN):
        greeting, _ = await _connect(app, headers={**_bearer(TOKEN), **host, "Origin": origin})
        assert greeting["auth"] == "alice"
    other = {**_bearer(TOKEN), **host, "Origin": "http://127.0.0.1:9000"}
    assert await _denied(app, headers=other) == DENIED


async def test_self_follows_the_scope_scheme_set_by_a_trusted_proxy() -> None:
    """Behind TLS termination uvicorn's proxy headers make the scope's scheme ``wss``."""
    app, _ = _app(allowed_origins=["self"])
    headers = {**_bearer(TOKEN), "Host": "chat.example", "Origin": "https://chat.example"}
    async with ASGIConductor(app) as conductor:
        original = conductor.app

        async def as_wss(scope: dict[str, Any], receive: Any, send: Any) -> None:
            await original({**scope, "scheme": "wss"}, receive, send)

        conductor.app = as_wss
        async with conductor.simulate_ws("/ws", headers=headers) as ws:
            assert (await ws.receive_json())["auth"] == "alice"
    assert await _denied(app, headers=headers) == DENIED  # plain ws: http://chat.example


async def test_a_refused_origin_is_logged_at_info_with_what_was_allowed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, _ = _app(allowed_origins=["self", ORIGIN])
    headers = {**_bearer(TOKEN), "Host": "127.0.0.1:8011", "Origin": "http://127.0.0.1:8000"}
    with caplog.at_level(logging.INFO, logger="uvicorn.error.auth_mw"):
        assert await _denied(app, headers=headers) == DENIED
    [record] = [r for r in caplog.records if r.name == "uvicorn.error.auth_mw"]
    assert record.levelno == logging.INFO
    message = record.getMessage()
    assert "'http://127.0.0.1:8000'" in message
    assert "self (http://127.0.0.1:8011)" in message
    assert ORIGIN in message
    assert TOKEN not in message
