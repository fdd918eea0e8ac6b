"""lanner's default plugins: JSON, MessagePack, error handling and the memory:// broadcast.

Each is an ordinary plugin module of ``@hookimpl`` functions, registered under a
reserved ``lanner.<x>`` name in the lowest precedence layer, so installed and
in-process plugins (and the app author) can override any key they provide.
They double as worked examples for plugin authors.

========================  =============================================  ==============
plugin name               module                                         can disable
========================  =============================================  ==============
``lanner.json``           :mod:`lanner.plugins.defaults.json`             yes
``lanner.msgpack``        :mod:`lanner.plugins.defaults.msgpack`          yes
``lanner.errors``         :mod:`lanner.plugins.defaults.errors`           no
``lanner.memory``         :mod:`lanner.plugins.defaults.memory`           yes
========================  =============================================  ==============
"""

from __future__ import annotations

from typing import Final

__all__ = ["DEFAULT_PLUGINS", "ESSENTIAL_PLUGINS"]

DEFAULT_PLUGINS: Final[tuple[tuple[str, str], ...]] = (
    ("lanner.json", "lanner.plugins.defaults.json"),
    ("lanner.msgpack", "lanner.plugins.defaults.msgpack"),
    ("lanner.errors", "lanner.plugins.defaults.errors"),
    ("lanner.memory", "lanner.plugins.defaults.memory"),
)
"""``(plugin name, module)`` of each default plugin, in call order."""

ESSENTIAL_PLUGINS: Final = frozenset({"lanner.errors"})
"""Default plugins that cannot be disabled: protocol correctness depends on them."""
