"""Plugins: which load, in what order, and what each contributes to an App.

``App()`` calls :func:`assemble` once: it decides which plugins load (the
default plugins, installed entry points of group ``lanner``, and the objects
given as ``App(plugins=[...])``), imports only those, registers them in a
``pluggy.PluginManager`` of that App alone, validates their hook names, and
calls each hook once per plugin in the documented order:

1. default plugins (``lanner.json``, ``lanner.msgpack``, ``lanner.errors``, ``lanner.memory``);
2. installed plugins, in the order ``LANNER_PLUGINS`` (else
   ``autoload_plugins=[...]``) lists them, else by entry-point name;
3. in-process plugins, in the order given.

The package is small modules behind this facade:

- :mod:`lanner.plugins.hookspecs`: the hook specifications plugin authors code against;
- ``_hooks``: the hook table, one record per hook (what it returns, what it fills,
  how results combine); everything else reads it;
- ``_entry_points``: finding installed plugins and deciding which may load;
- ``_loading``: importing, registering and validating plugins;
- ``_calls``: calling the hooks; ``_merge``: combining their results;
- ``_model``: the records (sources, conflicts, plugin info) and the messages;
- ``_config``: ``$env`` / ``$file`` references in plugin config, and redaction;
- ``_assembly``: :class:`PluginAssembly`, :func:`assemble` and :func:`describe_installed`;
- ``defaults``: lanner's own default plugins, as ordinary plugin modules.
"""

from __future__ import annotations

from lanner.plugins._assembly import PluginAssembly, assemble, describe_installed
from lanner.plugins._model import PluginConflict, PluginInfo, UnknownPluginWarning

__all__ = [
    "PluginAssembly",
    "PluginConflict",
    "PluginInfo",
    "UnknownPluginWarning",
    "assemble",
    "describe_installed",
]
