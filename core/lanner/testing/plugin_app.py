"""Build an App for a plugin's tests: the plugins you name, your config, nothing else.

Installed plugins stay out (autoload off), so a test sees exactly the plugin
under test on top of lanner's defaults, whatever else is installed::

    from lanner.testing import ASGIConductor, plugin_app
    import my_plugin

    async def test_adds_cbor() -> None:
        app = plugin_app(my_plugin, config={"my_plugin": {"level": 3}})
        async with ASGIConductor(app) as conductor:
            ...
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lanner.app import App

__all__ = ["plugin_app"]


def plugin_app(*plugins: object, config: Mapping[str, Any] | None = None, **app_kwargs: Any) -> App:
    """Return an ``App`` with the given in-process plugins and config, and autoload off.

    Args:
        *plugins: Plugin objects (modules or instances), called in this order.
            An installed plugin's module works too: it is then registered as an
            in-process plugin, under its ``name`` attribute or module name.
        config: The ``plugin_config`` mapping, by plugin name.
        **app_kwargs: Any other ``App`` argument (``middleware``,
            ``disable_plugins``, ...); ``autoload_plugins`` is always ``False``.

    Raises:
        TypeError: ``app_kwargs`` tries to turn autoload on or repeats ``plugins``
            or ``plugin_config``.
    """
    from lanner.app import App

    for clash in ("autoload_plugins", "plugins", "plugin_config"):
        if clash in app_kwargs:
            raise TypeError(
                f"plugin_app() sets {clash} itself; pass plugins positionally and "
                "config= instead, or build App(...) directly."
            )
    return App(plugins=list(plugins), autoload_plugins=False, plugin_config=config, **app_kwargs)
