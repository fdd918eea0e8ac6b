"""lanner-request-id's tests: in-process with lanner.testing, and installed under a real server."""

from __future__ import annotations

from pathlib import Path

import httpx
import lanner_request_id
import pytest

import lanner
from lanner.testing import TestClient, plugin_app, serve


class Echo:
    async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
        resp.media = {"request_id": req.context.request_id}


def test_every_request_gets_a_fresh_id_in_context_and_header() -> None:
    app = plugin_app(lanner_request_id)
    app.add_route("/", Echo())
    with TestClient(app) as client:
        first, second = client.simulate_get("/"), client.simulate_get("/")
    assert first.json["request_id"] == first.headers["x-request-id"]
    assert len(first.headers["x-request-id"]) == 32
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


def test_the_header_name_and_trust_are_configurable() -> None:
    config = {"request_id": {"header": "X-Trace", "trust_incoming": True}}
    app = plugin_app(lanner_request_id, config=config)
    app.add_route("/", Echo())
    with TestClient(app) as client:
        result = client.simulate_get("/", headers={"X-Trace": "abc"})
    assert result.json == {"request_id": "abc"}
    assert result.headers["x-trace"] == "abc"


def test_an_incoming_id_is_ignored_unless_trusted() -> None:
    app = plugin_app(lanner_request_id)
    app.add_route("/", Echo())
    with TestClient(app) as client:
        result = client.simulate_get("/", headers={"X-Request-ID": "forged"})
    assert result.json["request_id"] != "forged"


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({"hedaer": "X-Trace"}, "'hedaer'"),
        ({"header": "not a header"}, "must be a header name"),
        ({"trust_incoming": "yes"}, "must be True or False"),
    ],
)
def test_bad_config_fails_when_the_app_is_built(section: dict[str, object], expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        plugin_app(lanner_request_id, config={"request_id": section})


def test_installed_it_loads_by_itself_under_a_real_server(tmp_path: Path) -> None:
    (tmp_path / "myapp.py").write_text(
        "import lanner\n"
        "app = lanner.App(autoload_plugins=['request_id'])  # the installed entry point\n"
    )
    with serve("myapp:app", app_dir=tmp_path) as server:
        response = httpx.get(f"{server.http_url}/nothing-here", timeout=10)
    assert response.status_code == 404
    assert len(response.headers["x-request-id"]) == 32
