"""Fake installed plugins for the plugin tests, shared instead of copied.

An installed plugin is faked without installing anything: a module plus a
``*.dist-info`` directory (``METADATA`` and ``entry_points.txt``) in a
temporary directory on ``sys.path``, which is what an installed distribution
looks like to ``importlib.metadata``. The entry-point scan is pointed at that
directory only, so the plugins installed in the repo's own environment stay
out. Tests get a :class:`FakeDists` through the ``fake`` fixture in
``conftest.py``.
"""

from __future__ import annotations

import secrets
import sys
import textwrap
from importlib.metadata import EntryPoint, distributions
from pathlib import Path

import pytest

from lanner.plugins import _entry_points

__all__ = ["MIDDLEWARE_PLUGIN", "FakeDists"]

MIDDLEWARE_PLUGIN = """
class Tag:
    def __init__(self, name):
        self.name = name
    async def process_request(self, req, resp):
        pass

@hookimpl
def lanner_middleware(app):
    return [Tag(__name__)]
"""
"""A fake plugin's body: one middleware tagged with the plugin's module name."""


class FakeDists:
    """Writes fake installed plugin distributions into a directory on ``sys.path``.

    Creating one turns plugin autoload back on (conftest turns it off) and
    points the entry-point scan at these distributions alone; call
    :meth:`cleanup` afterwards to forget the imported fake modules.
    """

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.site = root / "site"
        self.site.mkdir()
        monkeypatch.syspath_prepend(str(self.site))
        monkeypatch.delenv("LANNER_DISABLE_PLUGIN_AUTOLOAD", raising=False)
        monkeypatch.setattr(_entry_points, "scan", self.scan)
        self.modules: list[str] = []

    def cleanup(self) -> None:
        """Drop the fake plugin modules from ``sys.modules``."""
        for module in self.modules:
            sys.modules.pop(module, None)

    def add(
        self, name: str, body: str = "", *, dist: str | None = None, version: str = "1.0"
    ) -> str:
        """Create plugin ``name`` whose module runs ``body``; return the module name."""
        module = f"fake_{name.replace('.', '_')}_{secrets.token_hex(4)}"
        source = "from lanner import hookimpl\n" + textwrap.dedent(body)
        (self.site / f"{module}.py").write_text(source)
        dist = dist or f"lanner-fake-{name.replace('.', '-')}"
        info = self.site / f"{dist.replace('-', '_')}_{module}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[lanner]\n{name} = {module}\n")
        self.modules.append(module)
        return module

    def add_entry_point(self, name: str, value: str, *, dist: str, version: str = "1.0") -> None:
        """Declare plugin ``name`` with entry-point value ``value`` (an importable module)."""
        info = self.site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[lanner]\n{name} = {value}\n")

    def scan(self) -> tuple[EntryPoint, ...]:
        """Return the fake entry points, as ``lanner.plugins._entry_points.scan`` would."""
        found = [
            ep
            for dist in distributions(path=[str(self.site)])
            for ep in dist.entry_points
            if ep.group == "lanner"
        ]
        return tuple(sorted(found, key=lambda ep: ep.name))

    def imported(self, module: str) -> bool:
        """Return whether ``module`` has been imported."""
        return module in sys.modules
