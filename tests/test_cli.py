"""Tests for the ``lanner`` command: ``lanner plugins`` and ``lanner serve``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from plugins_support import MIDDLEWARE_PLUGIN, FakeDists

from lanner import _uvicorn as lanner_uvicorn
from lanner._h11_protocol import TIMEOUT_ENV
from lanner._server_logging import server_log_config
from lanner.cli import main

KEYS = {"name", "distribution", "version", "hooks", "error"}


def run_cli(*args: str) -> tuple[int, Any, str]:
    """Run ``lanner ARGS``; return exit code, parsed JSON stdout (or None) and stderr."""
    result = CliRunner().invoke(main, list(args))
    try:
        parsed = json.loads(result.stdout)
    except ValueError:
        parsed = None
    return result.exit_code, parsed, result.stderr


# -- lanner plugins -----------------------------------------------------------------------


def test_plugins_lists_installed_plugins_as_json(fake: FakeDists) -> None:
    fake.add("tagger", MIDDLEWARE_PLUGIN, dist="lanner-tagger", version="1.4")
    code, listed, _ = run_cli("plugins")
    assert code == 0
    assert listed == [
        {
            "name": "tagger",
            "distribution": "lanner-tagger",
            "version": "1.4",
            "layer": "installed",
            "hooks": ["lanner_middleware"],
            "error": None,
            "enabled": True,
        }
    ]


def test_plugins_all_adds_the_defaults_first(fake: FakeDists) -> None:
    fake.add("tagger", MIDDLEWARE_PLUGIN)
    code, listed, _ = run_cli("plugins", "--all")
    assert code == 0
    assert [p["name"] for p in listed] == [
        "lanner.json",
        "lanner.msgpack",
        "lanner.errors",
        "lanner.memory",
        "tagger",
    ]
    assert listed[2]["hooks"] == ["lanner_error_handlers"]
    assert listed[0]["distribution"] == "lanner"
    assert all(set(p) >= KEYS for p in listed)


def test_plugins_lists_a_broken_plugin_with_its_error_and_succeeds(fake: FakeDists) -> None:
    fake.add("broken", "import no_such_dependency_qq\n", dist="lanner-broken", version="0.1")
    fake.add("healthy", MIDDLEWARE_PLUGIN)
    fake.add("typo", "@hookimpl\ndef lanner_sink(app):\n    return []\n")
    code, listed, _ = run_cli("plugins")
    assert code == 0
    by_name = {p["name"]: p for p in listed}
    assert "no_such_dependency_qq" in by_name["broken"]["error"]
    assert "lanner-broken 0.1" in by_name["broken"]["error"]
    assert by_name["broken"]["hooks"] is None
    assert "Did you mean lanner_sinks?" in by_name["typo"]["error"]
    assert by_name["healthy"]["error"] is None


def test_plugins_lists_disabled_plugins_without_importing_them(
    fake: FakeDists, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = fake.add("bomb", "raise RuntimeError('imported')\n")
    monkeypatch.setenv("LANNER_DISABLE_PLUGINS", "bomb")
    code, listed, _ = run_cli("plugins")
    assert code == 0
    assert listed[0]["name"] == "bomb"
    assert (listed[0]["enabled"], listed[0]["hooks"], listed[0]["error"]) == (False, None, None)
    assert not fake.imported(bomb)


APP_MODULE = """
from lanner import hookimpl
from lanner.app import App
from lanner.media import JSONHandlerWS
from lanner.ws_options import WebSocketPayloadType


class Plugin:
    name = "local"

    @hookimpl
    def lanner_ws_media_handlers(self, app):
        return {WebSocketPayloadType.TEXT: JSONHandlerWS()}


app = App(plugins=[Plugin()], plugin_config={"local": {"token": {"$env": "T"}, "mode": "x"}})
app.ws_options.media_handlers[WebSocketPayloadType.TEXT] = JSONHandlerWS()
not_an_app = object()
"""


@pytest.fixture
def app_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A directory holding an app module; the current directory, as for ``lanner serve``."""
    module = f"cli_app_{os.getpid()}_{time.monotonic_ns()}"
    (tmp_path / f"{module}.py").write_text(APP_MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield module
    sys.modules.pop(module, None)


def test_plugins_app_shows_what_each_plugin_provides_and_what_was_overridden(app_dir: str) -> None:
    code, listed, _ = run_cli("plugins", "--app", f"{app_dir}:app")
    assert code == 0
    assert [p["name"] for p in listed] == ["local"]
    local = listed[0]
    assert local["layer"] == "in-process"
    assert local["provides"] == {
        "lanner_ws_media_handlers": {"TEXT": "lanner.media.json.JSONHandlerWS"}
    }
    assert local["overridden"] == [
        {
            "hook": "lanner_ws_media_handlers",
            "target": "ws_options.media_handlers",
            "key": "TEXT",
            "by": "app",
        }
    ]
    assert local["config"] == {"token": "***", "mode": "x"}


def test_plugins_app_all_includes_the_defaults(app_dir: str) -> None:
    code, listed, _ = run_cli("plugins", "--all", "--app", f"{app_dir}:app")
    assert code == 0
    json_entry = next(p for p in listed if p["name"] == "lanner.json")
    assert {
        "hook": "lanner_ws_media_handlers",
        "target": "ws_options.media_handlers",
        "key": "TEXT",
        "by": "app",
    } in json_entry["overridden"]


@pytest.mark.parametrize(
    ("ref", "expected", "exit_code"),
    [
        ("{module}:not_an_app", "is a object, not a lanner App", 1),
        ("{module}:missing", "has no attribute 'missing'", 1),
        ("no_such_module_zz:app", "Could not import 'no_such_module_zz'", 1),
        ("{module}", "expected MODULE:ATTRIBUTE", 2),
    ],
)
def test_plugins_app_explains_a_wrong_reference(
    app_dir: str, ref: str, expected: str, exit_code: int
) -> None:
    code, _, err = run_cli("plugins", "--app", ref.format(module=app_dir))
    assert code == exit_code
    assert expected in err


def test_python_dash_m_lanner_prints_the_default_plugins_as_json() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "lanner", "plugins", "--all"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    listed = json.loads(done.stdout)
    defaults = [p for p in listed if p["layer"] == "default"]
    assert [p["name"] for p in defaults] == [
        "lanner.json",
        "lanner.msgpack",
        "lanner.errors",
        "lanner.memory",
    ]
    assert all(set(p) >= KEYS and p["error"] is None for p in listed)
    # conftest turns autoload off, so installed plugins show as disabled, not imported.
    assert all(not p["enabled"] for p in listed if p["layer"] == "installed")


# -- lanner serve -----------------------------------------------------------------------------


@pytest.fixture
def uvicorn_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, dict[str, Any]]]:
    """Record what ``lanner serve`` asks of uvicorn instead of starting a server."""
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(lanner_uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    monkeypatch.setattr(sys, "path", list(sys.path))
    for name in ("LANNER_DISABLE_PLUGINS", "LANNER_DISABLE_PLUGIN_AUTOLOAD", TIMEOUT_ENV):
        monkeypatch.delenv(name, raising=False)  # restored after the test
    return calls


def test_serve_passes_the_import_string_and_options_to_uvicorn(
    uvicorn_calls: list[tuple[Any, dict[str, Any]]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        main,
        [
            "serve", "myapp:app", "--host", "0.0.0.0", "--port", "9001", "--workers", "2",
            "--log-level", "debug", "--ws", "wsproto", "--ws-max-size", "1024",
            "--ws-ping-interval", "5", "--ws-ping-timeout", "6", "--no-proxy-headers",
            "--root-path", "/api", "--timeout-graceful-shutdown", "7", "--http", "httptools",
            "--h11-max-incomplete-event-size", "8192", "--timeout-request-header", "2.5",
            "--timeout-keep-alive", "3", "--limit-concurrency", "100",
            "--limit-max-requests", "10000", "--backlog", "128",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    app, options = uvicorn_calls[0]
    assert app == "myapp:app"
    assert options == {
        "host": "0.0.0.0",
        "port": 9001,
        "reload": False,
        "workers": 2,
        "log_level": "debug",
        "ws": "wsproto",
        "ws_max_size": 1024,
        "ws_ping_interval": 5.0,
        "ws_ping_timeout": 6.0,
        "proxy_headers": False,
        "root_path": "/api",
        "ssl_keyfile": None,
        "ssl_certfile": None,
        "http": "httptools",
        "h11_max_incomplete_event_size": 8192,
        "timeout_keep_alive": 3,
        "limit_concurrency": 100,
        "limit_max_requests": 10000,
        "backlog": 128,
        "timeout_graceful_shutdown": 7,
        "log_config": server_log_config(),
    }
    assert os.environ[TIMEOUT_ENV] == "2.5"
    assert sys.path[0] == str(tmp_path)


def test_serve_defaults_shut_down_within_a_few_seconds(
    uvicorn_calls: list[tuple[Any, dict[str, Any]]],
) -> None:
    assert CliRunner().invoke(main, ["serve", "myapp:app"]).exit_code == 0
    options = uvicorn_calls[0][1]
    assert (options["host"], options["port"], options["ws"]) == ("127.0.0.1", 8000, "auto")
    assert options["timeout_graceful_shutdown"] == 3
    assert options["proxy_headers"] is True


def test_serve_defaults_bound_request_heads_in_size_and_time(
    uvicorn_calls: list[tuple[Any, dict[str, Any]]],
) -> None:
    assert CliRunner().invoke(main, ["serve", "myapp:app"]).exit_code == 0
    options = uvicorn_calls[0][1]
    # h11 whatever else is installed (httptools bounds neither), with lanner's head deadline.
    assert options["http"] == "lanner._h11_protocol:H11Protocol"
    assert options["h11_max_incomplete_event_size"] == 16 * 1024
    assert os.environ[TIMEOUT_ENV] == "10"
    assert (options["timeout_keep_alive"], options["backlog"]) == (5, 2048)
    assert options["limit_concurrency"] is None
    assert options["limit_max_requests"] is None
    # uvicorn's logging, with its invalid-UTF-8 traceback condensed to one line.
    assert options["log_config"]["loggers"]["uvicorn.error"]["filters"] == ["lanner_invalid_utf8"]


def test_serve_passes_plugin_switches_on_through_the_environment(
    uvicorn_calls: list[tuple[Any, dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANNER_DISABLE_PLUGINS", "already")
    args = ["serve", "m:app", "--disable-plugin", "b", "--disable-plugin", "a"]
    result = CliRunner().invoke(main, [*args, "--no-plugin-autoload"])
    assert result.exit_code == 0, result.output
    assert os.environ["LANNER_DISABLE_PLUGINS"] == "a,already,b"
    assert os.environ["LANNER_DISABLE_PLUGIN_AUTOLOAD"] == "1"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["serve", "myapp"], "expected MODULE:ATTRIBUTE"),
        (["serve", "m:app", "--disable-plugin", "lanner.errors"], "cannot be disabled"),
        (["serve", "m:app", "--ws", "tornado"], "'tornado' is not one of"),
        (["serve", "m:app", "--http", "zttp"], "'zttp' is not one of"),
        (["serve", "m:app", "--timeout-request-header", "-1"], "x>=0"),
        (["serve", "m:app", "--limit-concurrency", "0"], "x>=1"),
    ],
)
def test_serve_refuses_bad_arguments_before_starting(
    uvicorn_calls: list[tuple[Any, dict[str, Any]]], args: list[str], expected: str
) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert expected in result.stderr
    assert uvicorn_calls == []


ENV_APP = """
import json, os

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = json.dumps({
        "pid": os.getpid(),
        "disable": os.environ.get("LANNER_DISABLE_PLUGINS"),
        "autoload_off": os.environ.get("LANNER_DISABLE_PLUGIN_AUTOLOAD"),
    }).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_runs_uvicorn_whose_worker_processes_see_the_plugin_switches(
    tmp_path: Path,
) -> None:
    (tmp_path / "envapp.py").write_text(ENV_APP)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANNER_")}
    command = [sys.executable, "-m", "lanner", "serve", "envapp:app", "--port", str(port)]
    command += ["--workers", "2", "--disable-plugin", "auth_mw", "--no-plugin-autoload"]
    server = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        reply = _get_when_up(f"http://127.0.0.1:{port}/", server)
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    assert reply["disable"] == "auth_mw"
    assert reply["autoload_off"] == "1"
    assert reply["pid"] != server.pid, "answered by a worker process"
    assert b"Uvicorn running" in stderr or b"Started parent process" in stderr


def _get_when_up(url: str, server: subprocess.Popen[bytes]) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"lanner serve exited with {server.returncode}")
        try:
            reply: dict[str, Any] = httpx.get(url, timeout=2).json()
            return reply
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("lanner serve did not answer within 30 s")
