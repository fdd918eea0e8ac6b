"""The fan-out apps the suite compares, and how to build each one.

Every fan-out app serves the same endpoints (see :mod:`bench.endpoints`):
``/sub`` forwards the channel to a WebSocket, ``/pub`` publishes what it
receives, ``GET /json`` answers 200 (the servers' readiness probe). Each
adapter module has ``create_fanout(*, url, backlog) -> FanoutApp``: the ASGI
app, the coroutine function the in-process level publishes with, and a count
of subscribers ready to receive (so a run starts only once all are).

``url`` is ``memory://`` (one process) or ``redis://host:port`` (across
workers); a peer without the backend for it is reported unavailable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from bench._asgi import ASGIApp
from bench.frameworks import Unavailable, import_adapter, installed_version

__all__ = ["FANOUT_FLOOR", "FANOUT_FRAMEWORKS", "FanoutApp", "FanoutFramework", "fanout_by_key"]


@dataclass(frozen=True)
class FanoutApp:
    """One built fan-out app.

    Attributes:
        app: The ASGI application.
        publish: Publishes one text message to the channel, as ``/pub`` does.
        subscribers: How many ``/sub`` connections are subscribed right now.
    """

    app: ASGIApp
    publish: Callable[[str], Awaitable[None]]
    subscribers: Callable[[], int]


@dataclass(frozen=True)
class FanoutFramework:
    """One fan-out implementation under test.

    Attributes:
        key: Short name used on the command line and in results.
        label: Name shown in tables.
        module: Adapter module with ``create_fanout``.
        distribution: Installed distribution whose version the report shows.
    """

    key: str
    label: str
    module: str
    distribution: str | None

    def version(self) -> str | None:
        """Return the installed version of the distribution, if any."""
        return installed_version(self.distribution)

    def build(self, *, url: str, backlog: int) -> FanoutApp:
        """Import the adapter and build the app for the backend ``url``.

        Raises:
            Unavailable: The framework or its backend is not installed, or
                building the app failed; the message names the cause and the fix.
        """
        adapter = import_adapter(self.module)
        try:
            built: FanoutApp = adapter.create_fanout(url=url, backlog=backlog)
        except ImportError as exc:
            raise Unavailable(
                f"{self.module} cannot serve {url.split(':', 1)[0]}://: {exc}. Install the "
                "peers with `pip install -c constraints/dev.txt -r constraints/bench.txt`."
            ) from exc
        except Exception as exc:
            raise Unavailable(
                f"{self.module}.create_fanout() raised {type(exc).__name__}: {exc}"
            ) from exc
        return built


FANOUT_FLOOR: Final = FanoutFramework(
    "bare", "hand-written fan-out", "bench.adapters.fanout_bare", None
)

FANOUT_FRAMEWORKS: Final[tuple[FanoutFramework, ...]] = (
    FANOUT_FLOOR,
    FanoutFramework("lanner", "lanner relay", "bench.adapters.fanout_lanner", "lanner"),
    FanoutFramework(
        "starlette_broadcaster",
        "Starlette + broadcaster",
        "bench.adapters.fanout_starlette",
        "broadcaster",
    ),
    FanoutFramework("litestar", "Litestar channels", "bench.adapters.fanout_litestar", "litestar"),
)
"""Every fan-out implementation, the floor first; results keep this order."""


def fanout_by_key(keys: list[str] | None) -> list[FanoutFramework]:
    """Return the fan-out implementations named by ``keys`` (all when ``None``), floor first.

    Raises:
        ValueError: A key names none; the message lists the valid keys.
    """
    known = {fw.key: fw for fw in FANOUT_FRAMEWORKS}
    if keys is None:
        return list(FANOUT_FRAMEWORKS)
    unknown = [key for key in keys if key not in known]
    if unknown:
        raise ValueError(
            f"unknown fan-out app(s) {', '.join(unknown)}; expected some of {', '.join(known)}"
        )
    wanted = set(keys) | {FANOUT_FLOOR.key}
    return [fw for fw in FANOUT_FRAMEWORKS if fw.key in wanted]
