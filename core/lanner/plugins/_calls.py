"""Calling the hooks of registered plugins, once each, in call order.

lanner calls each hook implementation itself rather than through pluggy's
combined call, so every plugin is called exactly once in precedence order
(whatever order pluggy keeps them in), every hook the same way, and an
exception it raises is noted (Python 3.11+) with the plugin's name and how to
disable it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

from lanner.plugins._loading import LoadedPlugin

if TYPE_CHECKING:
    from lanner.app import App

__all__ = ["call_all"]


def call_all(
    pm: pluggy.PluginManager, hook: str, app: App, loaded: list[LoadedPlugin]
) -> list[tuple[LoadedPlugin, object]]:
    """Call ``hook`` of each plugin in call order; return the non-``None`` results.

    Raises:
        Exception: Whatever a plugin's hook raised, noted with that plugin.
    """
    impls = {impl.plugin_name: impl for impl in getattr(pm.hook, hook).get_hookimpls()}
    results: list[tuple[LoadedPlugin, object]] = []
    for plugin in loaded:
        impl = impls.get(plugin.name)
        if impl is None:
            continue
        args = [app] if "app" in impl.argnames else []
        try:
            result = impl.function(*args)
        except Exception as exc:
            _add_note(exc, plugin, hook)
            raise
        if result is not None:
            results.append((plugin, result))
    return results


def _add_note(exc: BaseException, plugin: LoadedPlugin, hook: str) -> None:
    add_note: Callable[[str], None] | None = getattr(exc, "add_note", None)
    if add_note is not None:  # Python 3.11+
        add_note(
            f"Raised by plugin {plugin.source.label()} in {hook}. {plugin.source.how_to_disable()}"
        )
