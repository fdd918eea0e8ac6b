"""The frameworks the suite compares, and how to build each one's app.

A framework whose package is missing or whose app cannot be built is reported
as unavailable with the reason, so one broken peer never stops the others.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Final

from bench._asgi import ASGIApp

__all__ = ["BARE", "FRAMEWORKS", "Framework", "Unavailable", "by_key"]


class Unavailable(Exception):
    """A framework's app cannot be built here; the message says why."""


@dataclass(frozen=True)
class Framework:
    """One app under test.

    Attributes:
        key: Short name used on the command line and in results (``falcon_q0``).
        label: Name shown in tables and charts.
        module: Adapter module with a ``create_app`` function.
        distribution: Installed distribution whose version the report shows.
        options: Extra keyword arguments for ``create_app``.
    """

    key: str
    label: str
    module: str
    distribution: str | None
    options: Mapping[str, Any] = field(default_factory=dict)

    def version(self) -> str | None:
        """Return the installed version of the framework's distribution, if any."""
        return installed_version(self.distribution)

    def build(self, *, push_count: int, sse_count: int) -> ASGIApp:
        """Import the adapter and build the app.

        Raises:
            Unavailable: The framework is not installed, or building its app
                failed; the message names the cause and the fix.
        """
        adapter = import_adapter(self.module)
        try:
            app: ASGIApp = adapter.create_app(
                push_count=push_count, sse_count=sse_count, **self.options
            )
        except Exception as exc:
            raise Unavailable(
                f"{self.module}.create_app() raised {type(exc).__name__}: {exc}"
            ) from exc
        return app


def installed_version(distribution: str | None) -> str | None:
    """Return the installed version of ``distribution``, or ``None`` (none named, or absent)."""
    if distribution is None:
        return None
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def import_adapter(module: str) -> ModuleType:
    """Import an adapter module.

    Raises:
        Unavailable: It cannot be imported (a peer is not installed); the message
            says how to install the peers.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise Unavailable(
            f"cannot import {module}: {exc}. Install the peers with "
            "`pip install -c constraints/dev.txt -r constraints/bench.txt`."
        ) from exc


BARE: Final = Framework("bare", "bare ASGI", "bench.adapters.bare", None)

FRAMEWORKS: Final[tuple[Framework, ...]] = (
    BARE,
    Framework("lanner", "lanner", "bench.adapters.lanner_app", "lanner"),
    Framework("falcon", "Falcon defaults", "bench.adapters.falcon_app", "falcon"),
    Framework(
        "falcon_q0",
        "Falcon, receive queue off",
        "bench.adapters.falcon_app",
        "falcon",
        {"max_receive_queue": 0},
    ),
    Framework("starlette", "Starlette", "bench.adapters.starlette_app", "starlette"),
)
"""Every framework, the floor first; results keep this order."""


def by_key(keys: list[str] | None) -> list[Framework]:
    """Return the frameworks named by ``keys`` (all when ``None``), the floor always first.

    Raises:
        ValueError: A key names no framework; the message lists the valid keys.
    """
    known = {fw.key: fw for fw in FRAMEWORKS}
    if keys is None:
        return list(FRAMEWORKS)
    unknown = [key for key in keys if key not in known]
    if unknown:
        raise ValueError(
            f"unknown framework(s) {', '.join(unknown)}; expected some of {', '.join(known)}"
        )
    wanted = set(keys) | {BARE.key}
    return [fw for fw in FRAMEWORKS if fw.key in wanted]
