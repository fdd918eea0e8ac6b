"""Shared test setup: async tests without a plugin, plugin autoload off, fake plugins.

``async def`` tests run on a fresh event loop each (``asyncio.run``), so the
suite needs no async pytest plugin. The repo's own environment has both plugin
distributions installed, and installed plugins autoload; core tests therefore
run with autoload off, and plugin tests opt in explicitly (DESIGN.md §2b), for
instance through the ``fake`` fixture (fake installed plugins, autoload back on).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from plugins_support import FakeDists


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run coroutine test functions to completion on a new event loop."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    kwargs: dict[str, Any] = {name: pyfuncitem.funcargs[name] for name in names}
    asyncio.run(pyfuncitem.obj(**kwargs))
    return True


@pytest.fixture(autouse=True)
def _no_plugin_autoload(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep installed plugins out of every test unless the test opts in."""
    monkeypatch.setenv("LANNER_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.delenv("LANNER_PLUGINS", raising=False)
    monkeypatch.delenv("LANNER_DISABLE_PLUGINS", raising=False)


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDists]:
    """Fake installed plugins (see ``plugins_support``), with autoload back on."""
    dists = FakeDists(tmp_path, monkeypatch)
    yield dists
    dists.cleanup()


# Property tests: derandomised everywhere, so a run is reproducible and a CI
# failure replays on a developer's machine with the same examples. The example
# count stays modest to keep `make test` well under five minutes.
settings.register_profile(
    "lanner", derandomize=True, database=None, deadline=None, max_examples=200
)
settings.load_profile("lanner")
