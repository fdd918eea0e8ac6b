"""lanner serve --broadcast URL: the hub's backend for every worker, through the environment."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import pytest
from click.testing import CliRunner

import lanner
from lanner import _uvicorn as lanner_uvicorn
from lanner._h11_protocol import TIMEOUT_ENV
from lanner.cli import main


@pytest.fixture
def uvicorn_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, dict[str, Any]]]:
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(lanner_uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    monkeypatch.setattr(sys, "path", list(sys.path))
    for name in ("LANNER_BROADCAST_URL", TIMEOUT_ENV):
        monkeypatch.delenv(name, raising=False)  # restored after the test
    return calls


def test_serve_passes_the_broadcast_url_on_as_the_environment_variable(
    uvicorn_calls: list[tuple[Any, dict[str, Any]]],
) -> None:
    result = CliRunner().invoke(main, ["serve", "m:app", "--broadcast", "memory://?history=9"])
    assert result.exit_code == 0, result.output
    assert os.environ["LANNER_BROADCAST_URL"] == "memory://?history=9"
    assert "broadcast" not in uvicorn_calls[0][1]
    assert lanner.App(autoload_plugins=False).broadcast.options.history == 9


def test_serve_without_the_option_leaves_the_environment_alone(
    uvicorn_calls: list[tuple[Any, dict[str, Any]]],
) -> None:
    assert CliRunner().invoke(main, ["serve", "m:app"]).exit_code == 0
    assert "LANNER_BROADCAST_URL" not in os.environ


def test_serve_help_documents_the_option() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert "--broadcast URL" in result.output
    assert "LANNER_BROADCAST_URL" in result.output


def test_lanner_plugins_lists_the_memory_backend_plugin() -> None:
    result = CliRunner().invoke(main, ["plugins", "--all"])
    assert result.exit_code == 0, result.output
    listed = {p["name"]: p for p in json.loads(result.stdout)}
    assert listed["lanner.memory"]["hooks"] == ["lanner_broadcast_backends"]
    assert listed["lanner.memory"]["distribution"] == "lanner"
