"""The distributions as users get them: built wheels, installed without editable mode, served.

Every distribution in the repository (``core/`` and each ``plugins/*/``) is built
into a wheel and installed into a fresh virtual environment, with the pinned
versions of its dependencies. From there ``lanner plugins`` lists the installed
plugins and ``lanner serve`` serves a small app that a real HTTP and WebSocket
client talk to. This catches what an editable checkout hides: a module left out
of the package list, a missing ``py.typed``, an entry point that names the wrong
module.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import httpx
import pytest
import websockets

from tests.e2e._server import serve

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
CONSTRAINTS = ROOT / "constraints" / "dev.txt"
DISTRIBUTIONS = [ROOT / "core", *sorted(p.parent for p in ROOT.glob("plugins/*/pyproject.toml"))]
INSTALL_TIMEOUT = 240.0

APP = textwrap.dedent(
    """
    import lanner


    class Echo:
        async def on_get(self, req, resp):
            resp.media = {"lanner": lanner.__file__}

        async def on_websocket(self, req, ws):
            await ws.accept()
            await ws.send_media({"echo": await ws.receive_media()})


    app = lanner.App(disable_plugins=["auth_mw"])
    app.add_route("/echo", Echo())
    """
)


def _run(*command: str | Path, cwd: Path = ROOT) -> str:
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"{' '.join(map(str, command))} failed:\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with every distribution installed from its wheel."""
    root = tmp_path_factory.mktemp("wheels")
    wheelhouse = root / "wheelhouse"
    for dist in DISTRIBUTIONS:
        _run(
            sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
            "--no-build-isolation", "--wheel-dir", wheelhouse, dist,
        )  # fmt: skip
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    wheels = sorted(wheelhouse.glob("*.whl"))
    assert len(wheels) == len(DISTRIBUTIONS)
    _run(python, "-m", "pip", "install", "--quiet", "-c", CONSTRAINTS, *wheels)
    return python


def test_wheels_ship_their_type_markers(installed: Path) -> None:
    """Each installed package carries ``py.typed`` and is not the repository's checkout."""
    script = (
        "import importlib, json, pathlib\n"
        "names = ['lanner', 'lanner_media_cbor', 'lanner_auth_mw']\n"
        "mods = {n: pathlib.Path(importlib.import_module(n).__file__).parent for n in names}\n"
        "print(json.dumps({n: [str(p), (p / 'py.typed').exists()] for n, p in mods.items()}))\n"
    )
    found = json.loads(_run(installed, "-c", script))
    for name, (folder, typed) in found.items():
        assert "site-packages" in folder, f"{name} imported from {folder}, not the wheel"
        assert typed, f"{name} has no py.typed"


def test_lanner_plugins_lists_the_installed_plugins(installed: Path) -> None:
    """``lanner plugins`` in the fresh environment finds each plugin with its version."""
    listed = json.loads(_run(installed.parent / "lanner", "plugins"))
    by_name = {entry["name"]: entry for entry in listed}
    assert by_name["media_cbor"]["distribution"] == "lanner-media-cbor"
    assert by_name["auth_mw"]["distribution"] == "lanner-auth-mw"
    assert all(entry["version"] for entry in listed)


def test_lanner_serve_from_the_installed_wheels(installed: Path, tmp_path: Path) -> None:
    """``lanner serve`` from the fresh environment answers HTTP and WebSocket clients."""
    (tmp_path / "wheel_app.py").write_text(APP, encoding="utf-8")
    with serve("wheel_app:app", cli=True, python=str(installed), cwd=tmp_path) as server:
        response = httpx.get(f"{server.http_url}/echo", timeout=5.0)
        assert response.status_code == 200
        assert "site-packages" in response.json()["lanner"]

        async def echo() -> object:
            async with websockets.connect(f"{server.ws_url}/echo", open_timeout=5) as ws:
                await ws.send(json.dumps({"hi": 1}))
                return json.loads(await asyncio.wait_for(ws.recv(), 5.0))

        assert asyncio.run(echo()) == {"echo": {"hi": 1}}
