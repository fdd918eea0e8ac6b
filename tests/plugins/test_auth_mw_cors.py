"""auth_mw and CORS: preflights answered by the plugin, no app code run without credentials.

A browser sends a preflight (``OPTIONS`` with ``Access-Control-Request-Method``)
without credentials. The plugin answers it itself: 204, no body, and the
``Access-Control-Allow-*`` headers only for an allowed origin; no responder,
sink or app middleware ever runs for one.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

import lanner_auth_mw
from lanner import App, Request, Response
from lanner.testing import ASGIConductor

TOKEN = "alice-7Hq2xL9vR4kP0sWm"
ORIGIN = "https://app.example"
PREFLIGHT = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}


class Recorder:
    """A resource and a sink that record every call and answer with a private body."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def on_get(self, req: Request, resp: Response) -> None:
        self.calls.append("on_get")
        resp.media = {"private": "resource"}

    async def on_options(self, req: Request, resp: Response) -> None:
        self.calls.append("on_options")
        resp.media = {"private": "resource options"}

    async def sink(self, req: Request, resp: Response) -> None:
        self.calls.append(f"sink {req.method}")
        resp.media = {"private": "sink"}


class Spy:
    """App middleware that records each stage it runs."""

    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    async def process_request(self, req: Request, resp: Response) -> None:
        self.calls.append("process_request")

    async def process_resource(
        self, req: Request, resp: Response, resource: object, params: dict[str, Any]
    ) -> None:
        self.calls.append("process_resource")


def _app(recorder: Recorder, **options: Any) -> App:
    section = {"tokens": {"alice": TOKEN}, **options}
    app = App(
        autoload_plugins=False,
        plugins=[lanner_auth_mw],
        plugin_config={"auth_mw": section},
        middleware=[Spy(recorder.calls)],
    )
    app.add_route("/me", recorder)
    app.add_sink(recorder.sink, "/private")
    return app


async def _options(app: App, path: str, headers: dict[str, str]) -> Any:
    async with ASGIConductor(app) as conductor:
        return await conductor.simulate_options(path, headers=headers)


@pytest.mark.parametrize("path", ["/me", "/private/data", "/nowhere"])
async def test_preflight_is_answered_by_the_plugin_and_runs_no_app_code(path: str) -> None:
    recorder = Recorder()
    app = _app(recorder, allowed_origins=[ORIGIN])
    result = await _options(
        app, path, {**PREFLIGHT, "Access-Control-Request-Headers": "Authorization, Content-Type"}
    )
    assert result.status_code == 204
    assert result.content == b""
    assert recorder.calls == []
    assert result.headers["access-control-allow-origin"] == ORIGIN
    assert result.headers["access-control-allow-methods"] == "POST"
    assert result.headers["access-control-allow-headers"] == "authorization, content-type"
    assert result.headers["access-control-max-age"] == "600"
    assert "Origin" in result.headers["vary"]


async def test_preflight_from_a_disallowed_origin_gets_no_cors_headers_and_no_body(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder()
    app = _app(recorder, allowed_origins=[ORIGIN])
    evil = "https://app.example.evil.com"
    with caplog.at_level(logging.INFO, logger="uvicorn.error.auth_mw"):
        result = await _options(app, "/private/x", {**PREFLIGHT, "Origin": evil})
    assert result.status_code == 204
    assert result.content == b""
    assert recorder.calls == []
    assert not [h for h in result.headers if h.startswith("access-control-")]
    [record] = [r for r in caplog.records if r.name == "uvicorn.error.auth_mw"]
    assert record.levelno == logging.INFO
    message = record.getMessage()
    assert evil in message
    assert ORIGIN in message
    assert "CORS preflight" in message


@pytest.mark.parametrize(
    "extra",
    [
        {"Access-Control-Request-Method": "CONNECT"},
        {"Access-Control-Request-Method": "TRACE"},
        {"Access-Control-Request-Headers": "x-ok, bad header"},
        {"Access-Control-Request-Headers": ",".join(f"x-h{i}" for i in range(33))},
        {"Access-Control-Request-Headers": "x-" + "a" * 100},
    ],
    ids=["connect", "trace", "bad-header-name", "too-many-headers", "long-header-name"],
)
async def test_unreasonable_preflight_requests_are_not_allowed(extra: dict[str, str]) -> None:
    recorder = Recorder()
    result = await _options(_app(recorder, allowed_origins=[ORIGIN]), "/me", {**PREFLIGHT, **extra})
    assert result.status_code == 204
    assert "access-control-allow-origin" not in result.headers
    assert recorder.calls == []


async def test_preflight_without_origin_gets_no_cors_headers() -> None:
    recorder = Recorder()
    result = await _options(_app(recorder), "/me", {"Access-Control-Request-Method": "GET"})
    assert result.status_code == 204
    assert "access-control-allow-origin" not in result.headers
    assert recorder.calls == []


async def test_without_an_allow_list_any_well_formed_origin_is_echoed() -> None:
    recorder = Recorder()
    other = "http://localhost:5173"
    app = _app(recorder)
    allowed = await _options(app, "/me", {**PREFLIGHT, "Origin": other})
    opaque = await _options(app, "/me", {**PREFLIGHT, "Origin": "null"})
    assert allowed.headers["access-control-allow-origin"] == other
    assert "access-control-allow-origin" not in opaque.headers
    assert recorder.calls == []


async def test_preflight_with_a_credential_is_still_answered_by_the_plugin() -> None:
    recorder = Recorder()
    headers = {**PREFLIGHT, "Authorization": f"Bearer {TOKEN}"}
    result = await _options(_app(recorder, allowed_origins=[ORIGIN]), "/me", headers)
    assert result.status_code == 204
    assert recorder.calls == []


async def test_plain_options_still_needs_credentials() -> None:
    recorder = Recorder()
    app = _app(recorder, allowed_origins=[ORIGIN])
    refused = await _options(app, "/me", {"Origin": ORIGIN})
    assert refused.status_code == 401
    assert recorder.calls == []
    allowed = await _options(app, "/me", {"Authorization": f"Bearer {TOKEN}"})
    assert allowed.json == {"private": "resource options"}


async def test_responses_to_an_allowed_origin_carry_allow_origin() -> None:
    recorder = Recorder()
    app = _app(recorder, allowed_origins=[ORIGIN])
    async with ASGIConductor(app) as conductor:
        ok = await conductor.simulate_get(
            "/me", headers={"Origin": ORIGIN, "Authorization": f"Bearer {TOKEN}"}
        )
        refused = await conductor.simulate_get("/me", headers={"Origin": ORIGIN})
        other = await conductor.simulate_get(
            "/me", headers={"Origin": "https://evil.example", "Authorization": f"Bearer {TOKEN}"}
        )
        plain = await conductor.simulate_get("/me", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.headers["access-control-allow-origin"] == ORIGIN
    assert ok.headers["vary"] == "Origin"
    # The page may read the 401 too, so it can tell the user to log in.
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == ORIGIN
    assert "access-control-allow-origin" not in other.headers
    assert "access-control-allow-origin" not in plain.headers
    assert "vary" not in plain.headers


async def test_self_allows_the_requests_own_origin_for_preflights() -> None:
    recorder = Recorder()
    app = _app(recorder, allowed_origins=["self"])
    own = {**PREFLIGHT, "Origin": "http://127.0.0.1:8011", "Host": "127.0.0.1:8011"}
    other_port = {**own, "Origin": "http://127.0.0.1:8000"}
    assert (await _options(app, "/me", own)).headers["access-control-allow-origin"] == (
        "http://127.0.0.1:8011"
    )
    assert "access-control-allow-origin" not in (await _options(app, "/me", other_port)).headers
