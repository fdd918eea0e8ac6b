"""``lanner.testing.serve``: the real-server helper lanner ships for app and plugin tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

import httpx
import pytest

from lanner.testing import serve

pytestmark = pytest.mark.e2e

APP = textwrap.dedent(
    """
    import lanner


    class Hello:
        async def on_get(self, req, resp):
            resp.media = {"hello": "wire"}


    app = lanner.App()
    app.add_route("/hello", Hello())
    """
)


def test_serves_an_app_through_lanner_serve_and_stops_it(tmp_path: Path) -> None:
    (tmp_path / "hello_app.py").write_text(APP, encoding="utf-8")
    with serve("hello_app:app", app_dir=tmp_path) as server:
        assert server.http_url == f"http://127.0.0.1:{server.port}"
        assert server.ws_url == f"ws://127.0.0.1:{server.port}"
        response = httpx.get(f"{server.http_url}/hello", timeout=5.0)
        assert response.json() == {"hello": "wire"}
        assert "GET /hello" in server.log()
        process = server.process
    assert process.poll() is not None, "the server outlived its block"


def test_an_app_that_fails_to_import_is_reported_with_its_output(tmp_path: Path) -> None:
    (tmp_path / "broken_app.py").write_text("raise SystemExit('no config here')\n")
    with (
        pytest.raises(RuntimeError, match=r"exited with status .* first(?s:.*)no config here"),
        serve("broken_app:app", app_dir=tmp_path),
    ):
        pytest.fail("serve() yielded a server that never started")


def test_a_server_that_never_listens_times_out_and_is_stopped(tmp_path: Path) -> None:
    (tmp_path / "slow_app.py").write_text("import time\ntime.sleep(60)\n")
    with (
        pytest.raises(TimeoutError, match=r"within 1 s"),
        serve("slow_app:app", app_dir=tmp_path, start_timeout=1.0),
    ):
        pytest.fail("serve() yielded a server that never listened")
