"""The plugin's hook implementations: check the config, provide ``redis://`` and ``rediss://``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import lanner
from lanner_broadcast_redis._config import PLUGIN_NAME, SCHEMES, check_section, parse_settings
from lanner_broadcast_redis.backend import RedisBackend

if TYPE_CHECKING:
    from lanner import App, BroadcastBackend
    from lanner.broadcast import BackendFactory

__all__ = ["lanner_broadcast_backends", "lanner_configure", "make_backend"]


def make_backend(url: str, app: App) -> BroadcastBackend:
    """Return a :class:`RedisBackend` for ``url`` and the app's ``broadcast_redis`` section.

    Opens nothing: the hub connects it at lifespan startup.

    Raises:
        ValueError: The URL or an option is wrong (the message hides the password).
    """
    return RedisBackend(parse_settings(url, _section(app)))


def _section(app: App) -> Mapping[str, Any]:
    """The app's ``broadcast_redis`` section; ``{}`` for an app without the plugin or one.

    The factory also serves apps that do not load the plugin (the conformance
    kit builds such apps), where lanner refuses to look up an unknown name.
    """
    if any(info.name == PLUGIN_NAME for info in app.plugin_assembly.plugins):
        return app.plugin_config(PLUGIN_NAME)
    try:
        return app.plugin_config(PLUGIN_NAME)
    except ValueError:
        return {}


@lanner.hookimpl
def lanner_configure(app: App) -> None:
    """Check the ``broadcast_redis`` config section: unknown keys and bad values are errors.

    An app without the section is fine: the plugin only acts when the app's
    broadcast URL is ``redis://`` or ``rediss://``.

    Raises:
        ValueError: The section has an unknown key or a bad value.
    """
    check_section(app.plugin_config(PLUGIN_NAME))


@lanner.hookimpl
def lanner_broadcast_backends(app: App) -> Mapping[str, BackendFactory]:
    """Provide the ``redis`` and ``rediss`` (TLS) broadcast URL schemes."""
    return dict.fromkeys(SCHEMES, make_backend)
