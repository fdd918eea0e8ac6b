"""A real throwaway plugin distribution: built, pip-installed, then used by a fresh process.

The distribution uses every hook. It is built through PEP 517 by pip with
``--no-build-isolation`` (nothing is downloaded) and installed with
``--target`` into a temporary directory, which the checking subprocess puts on
``PYTHONPATH``: a new process, because the entry-point scan is cached per
process. Its build backend is a few lines inside the distribution itself
(``backend-path``), so the test needs no build tool beyond pip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

NAME = "lanner-throwaway"
VERSION = "0.4.2"

PYPROJECT = f"""
[build-system]
requires = []
build-backend = "tiny_backend"
backend-path = ["_backend"]

[project]
name = "{NAME}"
version = "{VERSION}"
dependencies = ["lanner"]

[project.entry-points.lanner]
throwaway = "lanner_throwaway"
"""

# A minimal PEP 517 backend: a pure-Python wheel of one package.
BACKEND = f'''
import base64, hashlib, os, zipfile

NAME, VERSION, PACKAGE = "{NAME}", "{VERSION}", "lanner_throwaway"
DIST_INFO = f"{{PACKAGE}}-{{VERSION}}.dist-info"
FILES = {{
    f"{{DIST_INFO}}/METADATA": (
        f"Metadata-Version: 2.1\\nName: {{NAME}}\\nVersion: {{VERSION}}\\nRequires-Dist: lanner\\n"
    ),
    f"{{DIST_INFO}}/WHEEL": (
        "Wheel-Version: 1.0\\nGenerator: tiny_backend\\nRoot-Is-Purelib: true\\n"
        "Tag: py3-none-any\\n"
    ),
    f"{{DIST_INFO}}/entry_points.txt": "[lanner]\\nthrowaway = lanner_throwaway\\n",
}}


def _digest(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = {{k: v.encode() for k, v in FILES.items()}}
    for root, _dirs, names in os.walk(PACKAGE):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                files[path.replace(os.sep, "/")] = f.read()
    record = "".join(f"{{p}},{{_digest(d)}},{{len(d)}}\\n" for p, d in files.items())
    files[f"{{DIST_INFO}}/RECORD"] = (record + f"{{DIST_INFO}}/RECORD,,\\n").encode()
    wheel = f"{{PACKAGE}}-{{VERSION}}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel), "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return wheel
'''

PLUGIN = """
'''A throwaway plugin that uses every lanner hook.'''

import contextlib

from lanner import WebSocketPayloadType, hookimpl
from lanner.media import BaseHandler, BinaryBaseHandlerWS

EVENTS = []


class Reversed(BaseHandler):
    def serialize(self, media, content_type):
        return str(media)[::-1].encode()

    def deserialize(self, data, content_type):
        return data.decode()[::-1]


class ReversedWS(BinaryBaseHandlerWS):
    def serialize(self, media):
        return str(media)[::-1].encode()

    def deserialize(self, payload):
        return payload.decode()[::-1]


class Stamp:
    async def process_response(self, req, resp, resource, req_succeeded):
        resp.set_header("X-Throwaway", "stamped")


class Oops(Exception):
    pass


async def handle_oops(req, resp, ex, params):
    resp.status = 409
    resp.media = {"oops": str(ex)}


async def sink(req, resp, **params):
    resp.media = {"sunk": req.path}


@hookimpl
def lanner_configure(app):
    config = app.plugin_config("throwaway")
    unknown = set(config) - {"greeting"}
    if unknown:
        raise ValueError(f"throwaway: unknown config keys {sorted(unknown)}")
    EVENTS.append(f"configure {config.get('greeting')}")


@hookimpl
def lanner_lifespan(app):
    @contextlib.asynccontextmanager
    async def span():
        EVENTS.append("startup")
        yield
        EVENTS.append("shutdown")

    return span()


@hookimpl
def lanner_middleware(app):
    return [Stamp()]


@hookimpl
def lanner_http_media_handlers(app):
    return {"application/x-reversed": Reversed()}


@hookimpl
def lanner_ws_media_handlers(app):
    return {WebSocketPayloadType.BINARY: ReversedWS()}


@hookimpl
def lanner_error_handlers(app):
    return {Oops: handle_oops}


@hookimpl
def lanner_sinks(app):
    return [("/throwaway", sink)]
"""

CHECK = """
import asyncio, json

import lanner_throwaway
from lanner import WebSocketPayloadType
from lanner.app import App
from lanner.testing import ASGIConductor


class Resource:
    async def on_post(self, req, resp):
        resp.media = {"got": await req.get_media()}

    async def on_get(self, req, resp):
        raise lanner_throwaway.Oops("on purpose")

    async def on_websocket(self, req, ws):
        await ws.accept()
        received = await ws.receive_media()  # decoded by the BINARY slot
        await ws.send_media(received + "!", WebSocketPayloadType.BINARY)
        await ws.close()


async def main():
    app = App(plugin_config={"throwaway": {"greeting": {"$env": "GREETING"}}})
    app.add_route("/r", Resource())
    info = app.plugin_assembly.plugins[-1]
    out = {"plugin": [info.name, info.distribution, info.version, info.layer, list(info.hooks)]}
    async with ASGIConductor(app) as conductor:
        out["events_running"] = list(lanner_throwaway.EVENTS)
        sunk = await conductor.simulate_get("/throwaway/x")
        out["sink"] = [sunk.json, sunk.headers.get("x-throwaway")]
        posted = await conductor.simulate_post(
            "/r", body="olleh", content_type="application/x-reversed"
        )
        out["media"] = posted.json
        oops = await conductor.simulate_get("/r")
        out["error"] = [oops.status_code, oops.json]
        async with conductor.simulate_ws("/r") as ws:
            await ws.send_data(b"cba")
            out["ws"] = (await ws.receive_data()).decode()
    out["events_after"] = list(lanner_throwaway.EVENTS)
    try:
        App(plugin_config={"throwaway": {"colour": "red"}})
    except ValueError as exc:
        out["bad_config"] = str(exc)
    print(json.dumps(out))


asyncio.run(main())
"""


def _build_and_install(tmp_path: Path) -> Path:
    project = tmp_path / "lanner-throwaway"
    (project / "_backend").mkdir(parents=True)
    (project / "lanner_throwaway").mkdir()
    (project / "pyproject.toml").write_text(PYPROJECT)
    (project / "_backend" / "tiny_backend.py").write_text(BACKEND)
    (project / "lanner_throwaway" / "__init__.py").write_text(textwrap.dedent(PLUGIN))
    site = tmp_path / "site"
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "install", "--quiet", "--no-build-isolation"),
            *("--no-deps", "--no-index", "--target", str(site), str(project)),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return site


def _run(site: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANNER_")}
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    # Other plugins installed alongside (the repo's own) stay out: an allow-list.
    env["LANNER_PLUGINS"] = "throwaway"
    env["GREETING"] = "hello"
    done = subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_an_installed_plugin_distribution_takes_effect_through_every_hook(
    tmp_path: Path,
) -> None:
    site = _build_and_install(tmp_path)
    assert (site / "lanner_throwaway-0.4.2.dist-info" / "entry_points.txt").exists()

    out: dict[str, Any] = json.loads(_run(site, "-c", CHECK))
    assert out["plugin"] == [
        "throwaway",
        NAME,
        VERSION,
        "installed",
        [
            "lanner_configure",
            "lanner_lifespan",
            "lanner_middleware",
            "lanner_http_media_handlers",
            "lanner_ws_media_handlers",
            "lanner_error_handlers",
            "lanner_sinks",
        ],
    ]
    assert out["events_running"] == ["configure hello", "startup"]
    assert out["sink"] == [{"sunk": "/throwaway/x"}, "stamped"]
    assert out["media"] == {"got": "hello"}
    assert out["error"] == [409, {"oops": "on purpose"}]
    assert out["ws"] == "!cba"  # b"cba" decoded to "abc", "abc!" encoded reversed
    assert out["events_after"] == ["configure hello", "startup", "shutdown"]
    assert "unknown config keys ['colour']" in out["bad_config"]

    listed = json.loads(_run(site, "-m", "lanner", "plugins"))
    mine = next(p for p in listed if p["name"] == "throwaway")
    assert (mine["distribution"], mine["version"], mine["error"]) == (NAME, VERSION, None)
    assert len(mine["hooks"]) == 7
