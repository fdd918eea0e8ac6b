"""auth_mw on HTTP requests: 401 with a Bearer challenge unless a valid credential is sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import lanner_auth_mw
from lanner import App, Request, Response
from lanner.testing import ASGIConductor
from tests.plugins import auth_mw_verifiers
from tests.plugins.auth_mw_verifiers import SERVICE_TOKEN

TOKEN = "alice-7Hq2xL9vR4kP0sWm"
OTHER = "bob-Zt5nB8cJ1yU6eQ3d"


class WhoAmI:
    async def on_get(self, req: Request, resp: Response) -> None:
        resp.media = {"auth": req.context.auth}

    async def on_options(self, req: Request, resp: Response) -> None:
        resp.status = 204
        resp.set_header("Access-Control-Allow-Origin", "https://app.example")


def _app(**options: Any) -> App:
    section = {"tokens": {"alice": TOKEN, "bob": OTHER}, "exempt": ["/health"], **options}
    app = App(autoload_plugins=False, plugins=[lanner_auth_mw], plugin_config={"auth_mw": section})
    for path in ("/me", "/health", "/health/deep", "/healthz"):
        app.add_route(path, WhoAmI())
    return app


async def _get(app: App, path: str = "/me", **kwargs: Any) -> Any:
    async with ASGIConductor(app) as conductor:
        return await conductor.simulate_get(path, **kwargs)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_no_credential_is_401_with_a_bearer_challenge() -> None:
    result = await _get(_app())
    assert result.status_code == 401
    assert result.headers["www-authenticate"] == 'Bearer realm="lanner"'
    assert "Authorization: Bearer" in result.json["description"]


@pytest.mark.parametrize(("token", "name"), [(TOKEN, "alice"), (OTHER, "bob")])
async def test_valid_bearer_token_passes_with_its_name(token: str, name: str) -> None:
    result = await _get(_app(), headers=_bearer(token))
    assert result.status_code == 200
    assert result.json == {"auth": name}


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer  "])
async def test_scheme_is_case_insensitive_and_spacing_tolerant(scheme: str) -> None:
    result = await _get(_app(), headers={"Authorization": f"{scheme} {TOKEN}"})
    assert result.json == {"auth": "alice"}


BAD_TOKENS = {
    "forged": "alice-AAAAAAAAAAAAAAAA",
    "truncated": TOKEN[:-1],
    "one-char": TOKEN[:1],
    "extended": TOKEN + "x",
    "case-changed": TOKEN.upper(),
    "two-tokens": f"{TOKEN} {OTHER}",
    "oversized-1MB": "A" * (1 << 20),
    "oversized-prefix": TOKEN + "A" * 9000,
    "non-ascii": TOKEN[:-1] + "\u00e9",
}


@pytest.mark.parametrize("token", list(BAD_TOKENS.values()), ids=list(BAD_TOKENS))
async def test_bad_token_is_401_invalid_token(token: str) -> None:
    result = await _get(
        _app(), headers={"Authorization": f"Bearer {token}".encode().decode("latin-1")}
    )
    assert result.status_code == 401
    assert result.headers["www-authenticate"] == 'Bearer realm="lanner", error="invalid_token"'
    assert TOKEN not in result.text
    assert len(token) < 8 or token not in result.text


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer    "])
async def test_empty_bearer_token_is_401(header: str) -> None:
    result = await _get(_app(), headers={"Authorization": header})
    assert result.status_code == 401


async def test_other_schemes_are_not_credentials() -> None:
    result = await _get(_app(), headers={"Authorization": f"Basic {TOKEN}"})
    assert result.status_code == 401
    assert result.headers["www-authenticate"] == 'Bearer realm="lanner"'


async def test_token_in_query_is_refused_unless_configured() -> None:
    result = await _get(_app(), params={"access_token": TOKEN})
    assert result.status_code == 401


async def test_token_in_query_passes_when_configured() -> None:
    result = await _get(_app(query_param="access_token"), params={"access_token": TOKEN})
    assert result.json == {"auth": "alice"}
    assert "access_token" in (await _get(_app(query_param="access_token"))).json["description"]


@pytest.mark.parametrize(
    "query",
    [f"access_token={TOKEN}&access_token={TOKEN}", "access_token=nope", "token=" + TOKEN],
    ids=["repeated", "wrong", "other-name"],
)
async def test_bad_query_credentials_are_401(query: str) -> None:
    assert (await _get(_app(query_param="access_token"), path=f"/me?{query}")).status_code == 401


async def test_token_in_a_subprotocol_header_means_nothing_over_http() -> None:
    app = _app(subprotocol_prefix="bearer.")
    result = await _get(app, headers={"Sec-WebSocket-Protocol": f"bearer.{TOKEN}"})
    assert result.status_code == 401


async def test_header_wins_over_query() -> None:
    app = _app(query_param="access_token")
    result = await _get(app, headers=_bearer("nope"), params={"access_token": TOKEN})
    assert result.status_code == 401
    result = await _get(app, headers=_bearer(OTHER), params={"access_token": TOKEN})
    assert result.json == {"auth": "bob"}


async def test_exempt_paths_are_exact() -> None:
    app = _app()
    assert (await _get(app, "/health")).json == {"auth": None}
    assert (await _get(app, "/health/deep")).status_code == 401
    assert (await _get(app, "/healthz")).status_code == 401


async def test_exempt_path_ignores_even_a_bad_token() -> None:
    assert (await _get(_app(), "/health", headers=_bearer("nope"))).status_code == 200


@pytest.mark.parametrize("verify", ["verify_sync", "verify_async"])
async def test_verify_callable_sync_and_async(verify: str) -> None:
    app = _app(verify=f"tests.plugins.auth_mw_verifiers:{verify}")
    accepted = await _get(app, headers=_bearer(SERVICE_TOKEN))
    assert accepted.json == {"auth": {"service": "billing", "via": verify.split("_")[1]}}
    assert (await _get(app, headers=_bearer("nope"))).status_code == 401
    # Configured tokens still work alongside verify.
    assert (await _get(app, headers=_bearer(TOKEN))).json == {"auth": "alice"}


async def test_verify_returning_false_refuses() -> None:
    app = _app(verify="tests.plugins.auth_mw_verifiers:verify_false")
    assert (await _get(app, headers=_bearer("anything"))).status_code == 401


async def test_verify_gets_the_token_and_request_and_runs_after_the_table() -> None:
    auth_mw_verifiers.calls.clear()
    app = _app(verify="tests.plugins.auth_mw_verifiers:verify_recording")
    assert (await _get(app, headers=_bearer(TOKEN))).json == {"auth": "alice"}
    assert auth_mw_verifiers.calls == []
    assert (await _get(app, headers=_bearer(SERVICE_TOKEN))).json == {"auth": "recorded"}
    assert auth_mw_verifiers.calls == [(SERVICE_TOKEN, "/me")]


async def test_verify_never_sees_an_oversized_token() -> None:
    auth_mw_verifiers.calls.clear()
    app = _app(verify="tests.plugins.auth_mw_verifiers:verify_recording")
    assert (await _get(app, headers=_bearer("A" * (1 << 20)))).status_code == 401
    assert auth_mw_verifiers.calls == []


async def test_env_and_file_tokens_authenticate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTH_MW_HTTP_TOKEN", "env-token-abc")
    token_file = tmp_path / "token"
    token_file.write_text("file-token-xyz\n", encoding="utf-8")
    section = {
        "tokens": {"env": {"$env": "AUTH_MW_HTTP_TOKEN"}, "file": {"$file": str(token_file)}}
    }
    app = App(autoload_plugins=False, plugins=[lanner_auth_mw], plugin_config={"auth_mw": section})
    app.add_route("/me", WhoAmI())
    assert (await _get(app, headers=_bearer("env-token-abc"))).json == {"auth": "env"}
    assert (await _get(app, headers=_bearer("file-token-xyz"))).json == {"auth": "file"}
    assert (await _get(app, headers=_bearer("file-token-xy"))).status_code == 401


async def test_plugin_middleware_runs_before_the_apps_own() -> None:
    seen: list[object] = []

    class Spy:
        async def process_request(self, req: Request, resp: Response) -> None:
            seen.append(req.context.auth)

    app = App(
        autoload_plugins=False,
        plugins=[lanner_auth_mw],
        plugin_config={"auth_mw": {"tokens": {"alice": TOKEN}}},
        middleware=[Spy()],
    )
    app.add_route("/me", WhoAmI())
    assert (await _get(app)).status_code == 401
    assert seen == []
    assert (await _get(app, headers=_bearer(TOKEN))).status_code == 200
    assert seen == ["alice"]
