"""``lanner plugins --app`` with plugins that clash or fail: a conflict is a conflict.

The app modules are written into a temporary current directory, as
``lanner serve`` and ``lanner plugins --app`` import them.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from lanner.cli import main

CONFLICT_APP = """
import lanner
from lanner.media import JSONHandlerWS


class TextSlot:
    def __init__(self, name):
        self.name = name

    @lanner.hookimpl
    def lanner_ws_media_handlers(self, app):
        return {lanner.WebSocketPayloadType.TEXT: JSONHandlerWS()}


app = lanner.App(
    autoload_plugins=False, plugins=[TextSlot("media_yaml"), TextSlot("media_rot13")]
)
"""

FAILING_CONFIGURE_APP = """
import lanner


class Picky:
    name = "picky"

    @lanner.hookimpl
    def lanner_configure(self, app):
        raise ValueError("plugin_config['picky']['level'] must be an int")


app = lanner.App(autoload_plugins=False, plugins=[Picky()])
"""


@pytest.fixture
def write_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], str]]:
    """Write an app module into the current directory; return its MODULE:app reference."""
    monkeypatch.chdir(tmp_path)
    written: list[str] = []

    def write(source: str) -> str:
        module = f"plugins_cli_app_{os.getpid()}_{time.monotonic_ns()}"
        (tmp_path / f"{module}.py").write_text(source)
        written.append(module)
        return f"{module}:app"

    yield write
    for module in written:
        sys.modules.pop(module, None)


def _run(*args: str) -> tuple[int, Any, str]:
    result = CliRunner().invoke(main, list(args))
    try:
        parsed = json.loads(result.stdout)
    except ValueError:
        parsed = None
    return result.exit_code, parsed, result.stderr


def test_a_conflict_is_reported_as_one_with_a_failing_exit_status(
    write_app: Callable[[str], str],
) -> None:
    code, listed, err = _run("plugins", "--app", write_app(CONFLICT_APP))
    assert code == 1
    by_name = {entry["name"]: entry for entry in listed}
    assert by_name["media_rot13"]["overridden"] == []  # not an override: the app cannot start
    assert by_name["media_rot13"]["conflicts"] == [
        {
            "hook": "lanner_ws_media_handlers",
            "target": "ws_options.media_handlers",
            "key": "TEXT",
            "with": "media_yaml",
        }
    ]
    assert by_name["media_yaml"]["conflicts"][0]["with"] == "media_rot13"
    assert "will not start" in err
    assert "'media_yaml' and 'media_rot13'" in err
    assert "app.ws_options.media_handlers[TEXT]" in err
    assert "--disable-plugin media_rot13" in err


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception notes are Python 3.11+")
def test_a_failing_lanner_configure_keeps_the_note_naming_the_plugin(
    write_app: Callable[[str], str],
) -> None:
    code, listed, err = _run("plugins", "--app", write_app(FAILING_CONFIGURE_APP))
    assert code == 1
    assert listed is None
    assert "must be an int" in err
    assert "Raised by plugin 'picky' (in-process plugin) in lanner_configure" in err
