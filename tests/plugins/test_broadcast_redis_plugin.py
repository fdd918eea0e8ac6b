"""lanner-broadcast-redis as installed: entry point, metadata, hooks, and what it shows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from importlib import metadata, resources
from pathlib import Path

import pytest

import lanner
import lanner_broadcast_redis
from lanner.testing import plugin_app
from lanner_broadcast_redis import RedisBackend

SECRET = "S3CRET-plugins-91ac"
TIMEOUT = 60.0


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LANNER_")}
    return subprocess.run(
        [sys.executable, "-W", "error", *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def test_distribution_metadata() -> None:
    dist = metadata.distribution("lanner-broadcast-redis")
    assert dist.version == lanner_broadcast_redis.__version__ == "0.1.0"
    points = [(ep.name, ep.value) for ep in dist.entry_points if ep.group == "lanner"]
    assert points == [("broadcast_redis", "lanner_broadcast_redis")]
    assert lanner_broadcast_redis.name == lanner_broadcast_redis.PLUGIN_NAME == "broadcast_redis"
    requires = dist.requires or []
    assert any(req.startswith("redis") and "extra" not in req for req in requires)
    # hiredis is an opt-in extra, never a default dependency.
    assert dist.metadata.get_all("Provides-Extra") == ["hiredis"]
    assert all("extra" in req for req in requires if "hiredis" in req)
    assert resources.files("lanner_broadcast_redis").joinpath("py.typed").is_file()


def test_the_plugin_provides_both_schemes() -> None:
    app = plugin_app(lanner_broadcast_redis, broadcast="rediss://cache:6380/0")
    assert isinstance(app.broadcast.backend, RedisBackend)
    assert app.broadcast.backend.settings.tls
    plain = plugin_app(lanner_broadcast_redis, broadcast="redis://cache/0")
    assert isinstance(plain.broadcast.backend, RedisBackend)


def test_an_app_on_another_backend_is_left_alone() -> None:
    app = plugin_app(lanner_broadcast_redis)
    assert not isinstance(app.broadcast.backend, RedisBackend)


@pytest.mark.parametrize(
    ("section", "expected"),
    [({"histroy": 5}, "unknown option 'histroy'"), ({"pool_size": 0}, "pool_size=0")],
)
def test_app_refuses_a_bad_section(section: dict[str, object], expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        plugin_app(lanner_broadcast_redis, config={"broadcast_redis": section})


def test_app_refuses_a_bad_url_without_showing_the_password() -> None:
    with pytest.raises(ValueError, match="unknown option 'bogus'") as info:
        plugin_app(lanner_broadcast_redis, broadcast=f"redis://:{SECRET}@h/0?bogus=1")
    assert SECRET not in str(info.value)
    assert "redis://:***@h/0" in str(info.value)


def test_app_repr_and_hub_repr_hide_the_password() -> None:
    app = plugin_app(lanner_broadcast_redis, broadcast=f"redis://:{SECRET}@h/0")
    for shown in (repr(app), repr(app.broadcast), repr(app.broadcast.backend)):
        assert SECRET not in shown


def test_lanner_plugins_lists_it_and_never_shows_the_password(tmp_path: Path) -> None:
    (tmp_path / "secret_app.py").write_text(
        textwrap.dedent(
            f"""
            import lanner
            app = lanner.App(
                disable_plugins=["auth_mw"],
                broadcast="redis://:{SECRET}@127.0.0.1:6399/0?history=10",
                plugin_config={{"broadcast_redis": {{"key_prefix": "x:"}}}},
            )
            env_app = lanner.App(
                disable_plugins=["auth_mw"],
                broadcast="redis://127.0.0.1:6399/0",
                plugin_config={{"broadcast_redis": {{"password": {{"$env": "REDIS_PW"}}}}}},
            )
            """
        )
    )
    listed = _run(["-m", "lanner", "plugins"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    entry = {e["name"]: e for e in json.loads(listed.stdout)}["broadcast_redis"]
    assert entry["distribution"] == "lanner-broadcast-redis"
    assert entry["hooks"] == ["lanner_configure", "lanner_broadcast_backends"]
    assert entry["error"] is None
    for target in ("secret_app:app", "secret_app:env_app"):
        shown = _run(["-m", "lanner", "plugins", "--app", target], tmp_path, REDIS_PW=SECRET)
        assert shown.returncode == 0, shown.stderr
        assert SECRET not in shown.stdout + shown.stderr
        assert "broadcast_redis" in shown.stdout


def test_installed_it_loads_by_itself(tmp_path: Path) -> None:
    done = _run(
        [
            "-c",
            "import lanner; app = lanner.App(broadcast='redis://127.0.0.1:6399/0', "
            "disable_plugins=['auth_mw']); print(type(app.broadcast.backend).__name__)",
        ],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "RedisBackend"


def test_without_it_the_error_names_the_distribution() -> None:
    with pytest.raises(ValueError, match="lanner-broadcast-redis"):
        lanner.App(broadcast="redis://127.0.0.1:6399/0", autoload_plugins=False)
