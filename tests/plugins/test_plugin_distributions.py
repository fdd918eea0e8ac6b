"""The two plugin distributions as installed: entry points, versions, py.typed and autoload.

The entry-point scan is cached per process and the test suite turns autoload
off, so everything that depends on installed plugins loading runs in a fresh
interpreter whose environment does not carry ``LANNER_DISABLE_PLUGIN_AUTOLOAD``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from importlib import metadata, resources
from pathlib import Path

import pytest

import lanner_auth_mw
import lanner_media_cbor

TIMEOUT = 60.0

DISTRIBUTIONS = {
    "media_cbor": ("lanner-media-cbor", lanner_media_cbor),
    "auth_mw": ("lanner-auth-mw", lanner_auth_mw),
}


def _run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("LANNER_DISABLE_PLUGIN_AUTOLOAD", "LANNER_PLUGINS", "LANNER_DISABLE_PLUGINS")
    }
    return subprocess.run(
        [sys.executable, "-W", "error", *args],
        cwd=tmp_path,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def _python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return _run(["-c", textwrap.dedent(code)], tmp_path, **env)


@pytest.mark.parametrize("name", list(DISTRIBUTIONS))
def test_distribution_metadata(name: str) -> None:
    dist_name, module = DISTRIBUTIONS[name]
    dist = metadata.distribution(dist_name)
    assert dist.version == module.__version__ == "0.1.0"
    entry_points = [ep for ep in dist.entry_points if ep.group == "lanner"]
    assert [(ep.name, ep.value) for ep in entry_points] == [(name, module.__name__)]
    assert module.name == module.PLUGIN_NAME == name
    assert dist.metadata["Requires-Python"] == ">=3.10"
    assert any(req.startswith("lanner") for req in dist.requires or [])


@pytest.mark.parametrize("name", list(DISTRIBUTIONS))
def test_ships_py_typed(name: str) -> None:
    _, module = DISTRIBUTIONS[name]
    assert resources.files(module.__name__).joinpath("py.typed").is_file()


def test_lanner_plugins_lists_both_with_versions(tmp_path: Path) -> None:
    done = _run(["-m", "lanner", "plugins"], tmp_path)
    assert done.returncode == 0, done.stderr
    listed = {entry["name"]: entry for entry in json.loads(done.stdout)}
    assert listed["media_cbor"]["distribution"] == "lanner-media-cbor"
    assert listed["media_cbor"]["version"] == "0.1.0"
    assert listed["media_cbor"]["hooks"] == [
        "lanner_configure",
        "lanner_http_media_handlers",
        "lanner_ws_media_handlers",
    ]
    assert listed["auth_mw"]["distribution"] == "lanner-auth-mw"
    assert listed["auth_mw"]["version"] == "0.1.0"
    assert listed["auth_mw"]["hooks"] == ["lanner_configure", "lanner_middleware"]
    assert listed["auth_mw"]["error"] is None


def test_installed_plugins_take_effect_through_their_entry_points(tmp_path: Path) -> None:
    done = _python(
        """
        import lanner
        from lanner import WebSocketPayloadType
        app = lanner.App(
            autoload_plugins=["media_cbor", "auth_mw"],  # also the call order
            plugin_config={
                "auth_mw": {"tokens": {"alice": "tok-123456"}},
                "media_cbor": {"ws_binary": True},
            },
        )
        for info in app.plugin_assembly.plugins:
            if info.layer == "installed":
                print(info.name, info.distribution, info.version)
        print(type(app.ws_options.media_handlers[WebSocketPayloadType.BINARY]).__name__)
        print(type(app.plugin_assembly.middleware[0]).__name__)
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n") == [
        "media_cbor lanner-media-cbor 0.1.0",
        "auth_mw lanner-auth-mw 0.1.0",
        "CBORHandlerWS",
        "AuthMiddleware",
        "",
    ]


def test_installed_auth_plugin_refuses_an_unconfigured_app(tmp_path: Path) -> None:
    done = _python("import lanner; lanner.App()", tmp_path)
    assert done.returncode != 0
    assert "AuthConfigError" in done.stderr
    assert 'disable_plugins=["auth_mw"]' in done.stderr


@pytest.mark.parametrize(
    ("code", "env"),
    [
        ("lanner.App(disable_plugins=['auth_mw'])", {}),
        ("lanner.App()", {"LANNER_DISABLE_PLUGINS": "auth_mw"}),
        ("lanner.App()", {"LANNER_DISABLE_PLUGIN_AUTOLOAD": "1"}),
        ("lanner.App(autoload_plugins=['media_cbor'])", {}),
    ],
    ids=["argument", "env-disable", "env-autoload-off", "allow-list"],
)
def test_each_way_to_run_without_the_auth_plugin(
    code: str, env: dict[str, str], tmp_path: Path
) -> None:
    done = _python(
        f"""
        import sys, lanner
        app = {code}
        names = {{p.name for p in app.plugin_assembly.plugins}}
        assert "auth_mw" not in names, names
        assert "lanner_auth_mw" not in sys.modules, "a disabled plugin was imported"
        """,
        tmp_path,
        **env,
    )
    assert done.returncode == 0, done.stderr


def test_naming_an_autoloaded_plugin_in_process_too_is_a_clear_error(tmp_path: Path) -> None:
    done = _python(
        """
        import lanner, lanner_media_cbor
        lanner.App(autoload_plugins=["media_cbor"], plugins=[lanner_media_cbor])
        """,
        tmp_path,
    )
    assert done.returncode != 0
    assert "PluginLoadError" in done.stderr
    assert "has the same name as the installed plugin 'media_cbor'" in done.stderr
    assert "plugin_config['media_cbor'] configures it either way" in done.stderr
