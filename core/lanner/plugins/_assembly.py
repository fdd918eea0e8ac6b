"""Assembling one App's plugins: which load, in what order, and what each contributes.

:func:`assemble` chooses, imports and registers the plugins (``_loading``),
calls every hook of the table (``_calls``) and combines the results
(``_merge``); the :class:`PluginAssembly` it returns checks conflicts and slot
types when the app starts and reports who provides what.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from importlib.metadata import EntryPoint
from typing import TYPE_CHECKING, Any, cast

from lanner._owned import APP_OWNER, OwnedDict
from lanner.errors import PluginConflictError, PluginLoadError
from lanner.plugins import _entry_points
from lanner.plugins._calls import call_all
from lanner.plugins._config import redact
from lanner.plugins._hooks import HOOKS, SequenceHook
from lanner.plugins._loading import (
    LoadedPlugin,
    as_plugin_list,
    check_config_sections,
    check_installed,
    import_plugin,
    lanner_version,
    load_all,
    plugin_manager,
    register,
    register_all,
    validate,
    warn_unknown_disabled,
)
from lanner.plugins._merge import Contributions, merge
from lanner.plugins._model import (
    LAYERS,
    PluginConflict,
    PluginInfo,
    PluginSource,
    short_repr,
    show_key,
    slot_error,
)
from lanner.plugins.defaults import DEFAULT_PLUGINS, ESSENTIAL_PLUGINS
from lanner.plugins.hookspecs import Sink

if TYPE_CHECKING:
    from lanner.app import App

__all__ = ["PluginAssembly", "assemble", "describe_installed"]


class PluginAssembly:
    """The result of assembling one App's plugins.

    Attributes:
        plugins: Every loaded plugin, in call order.
        middleware: All plugins' middleware, in call order; this block wraps the
            app's own middleware.
        lifespans: The plugins' lifespan context managers, in call order.
        sinks: ``(prefix, sink, owner)`` triples, highest precedence first.
        conflicts: Keys two plugins of one layer both provided.
        mappings: The app mappings the hooks fill (media handlers, error
            handlers, ...), for the App to freeze when it starts.
    """

    def __init__(
        self, plugins: Sequence[PluginInfo] = (), merged: Contributions | None = None
    ) -> None:
        """Hold what :func:`assemble` found; empty when called without arguments.

        Args:
            plugins: Every loaded plugin, in call order.
            merged: Their contributions, as combined by the merge step.
        """
        merged = Contributions() if merged is None else merged
        lists = merged.lists
        self.plugins: list[PluginInfo] = list(plugins)
        self.middleware: list[object] = [item for _, item in lists["middleware"]]
        self.lifespans = cast(
            "list[AbstractAsyncContextManager[Any]]", [item for _, item in lists["lifespans"]]
        )
        self.sinks: list[tuple[str | re.Pattern[str], Sink, str]] = []
        for owner, item in lists["sinks"]:
            prefix, sink = cast("tuple[str | re.Pattern[str], Sink]", item)
            self.sinks.append((prefix, sink, owner))
        self.conflicts: list[PluginConflict] = merged.conflicts
        self.mappings: list[OwnedDict[Any, Any]] = [m for _, _, m in merged.mappings]
        self._merged = merged

    def check(self, app_sink_prefixes: Collection[str] = ()) -> None:
        """Raise for unsettled conflicts and wrongly typed slots; the App calls it at freeze.

        Args:
            app_sink_prefixes: String prefixes of sinks the app author added,
                which settle conflicts between plugin sinks on those prefixes.

        Raises:
            PluginConflictError: Two plugins of one layer provide a key the app
                author has not set. The message names both, the layer and the key.
            TypeError: A slot a mapping hook fills (media handlers, error
                handlers) holds the wrong kind of object; the message names who
                put it there.
        """
        open_conflicts = self.open_conflicts(app_sink_prefixes)
        if open_conflicts:
            raise PluginConflictError("\n".join(c.message() for c in open_conflicts))
        for hook, path, mapping in self._merged.mappings:
            for key, value in mapping.items():
                problem = hook.slot(key, value)
                if problem is not None:
                    owner = mapping.owners.get(key, APP_OWNER)
                    raise TypeError(slot_error(path, key, problem, owner))

    def open_conflicts(self, app_sink_prefixes: Collection[str] = ()) -> list[PluginConflict]:
        """Return the conflicts nobody above both plugins has settled: the app cannot start.

        Args:
            app_sink_prefixes: String prefixes of sinks the app author added.
        """
        app_keys = {"sinks": app_sink_prefixes}
        return [
            c
            for c in self.conflicts
            if not c.settled(self._owner_of(c.target, c.mapping, c.key, app_keys), self._rank)
        ]

    def report(self, app: App) -> list[dict[str, Any]]:
        """Describe each plugin for ``lanner plugins --app``.

        Each entry is :meth:`PluginInfo.as_dict` plus ``provides`` (what the
        plugin returned, per hook: a mapping of keys for keyed hooks, a list of
        items, or the one item of a hook returning one), ``overridden`` (its
        keys now owned by a higher layer or the app author), ``conflicts`` (keys
        it and another plugin of its layer both provide, unsettled: the app will
        not start; each names the ``hook``, ``target``, ``key`` and the other
        plugin, ``with``) and ``config`` (its config section, redacted; ``None``
        if it has none).
        """
        raw_config: Mapping[str, Any] = getattr(app, "_plugin_config_raw", None) or {}
        app_sinks = [pattern.pattern for pattern, _, _ in getattr(app, "_sinks", ())]
        open_conflicts = self.open_conflicts(app_sinks)
        entries: list[dict[str, Any]] = []
        for info in self.plugins:
            provides: dict[str, Any] = {}
            overridden: list[dict[str, Any]] = []
            conflicts: list[dict[str, Any]] = []
            for conflict in open_conflicts:
                if info.name in (conflict.holder, conflict.challenger):
                    with_ = conflict.challenger
                    if info.name == conflict.challenger:
                        with_ = conflict.holder
                    conflicts.append(
                        {
                            "hook": conflict.hook,
                            "target": conflict.target,
                            "key": show_key(conflict.key),
                            "with": with_,
                        }
                    )
            contested = {(conflict.target, conflict.key) for conflict in open_conflicts}
            for c in self._merged.claims:
                if c.plugin != info.name:
                    continue
                provides.setdefault(c.hook, {})[show_key(c.key)] = short_repr(c.value)
                owner = self._owner_of(c.target, c.mapping, c.key)
                if owner != info.name and (c.target, c.key) not in contested:
                    overridden.append(
                        {"hook": c.hook, "target": c.target, "key": show_key(c.key), "by": owner}
                    )
            for hook in HOOKS:
                if isinstance(hook, SequenceHook) and hook.key is None:
                    items = [
                        short_repr(item)
                        for owner, item in self._merged.lists[hook.target]
                        if owner == info.name
                    ]
                    if items:
                        provides[hook.name] = items[0] if hook.one else items
            section = raw_config.get(info.name)
            entry = info.as_dict()
            entry["provides"] = provides
            entry["overridden"] = overridden
            entry["conflicts"] = conflicts
            entry["config"] = redact(section) if isinstance(section, Mapping) else None
            entries.append(entry)
        return entries

    def _owner_of(
        self,
        target: str,
        mapping: OwnedDict[Any, Any] | None,
        key: object,
        app_keys: Mapping[str, Collection[object]] | None = None,
    ) -> str:
        """Return who owns ``key`` of ``target`` now: a plugin name or ``"app"``."""
        if mapping is not None:
            return mapping.owners.get(key, APP_OWNER)
        if app_keys is not None and key in app_keys.get(target, ()):
            return APP_OWNER
        # Keyed lists are ordered highest precedence first, so the first match is in use.
        hook = next(h for h in HOOKS if isinstance(h, SequenceHook) and h.target == target)
        assert hook.key is not None
        return next(o for o, item in self._merged.lists[target] if hook.key(item)[0] == key)

    def _rank(self, owner: str) -> int:
        layers = {info.name: LAYERS.index(info.layer) for info in self.plugins}
        return layers.get(owner, len(LAYERS))  # the app outranks every plugin layer


def assemble(
    app: App,
    *,
    plugins: Iterable[object] = (),
    autoload: bool | Iterable[str] = True,
    disable: Iterable[str] = (),
    config_sections: Iterable[str] = (),
    on_loaded: Callable[[list[str]], None] | None = None,
) -> PluginAssembly:
    """Load, register and call the plugins of one App; write their contributions.

    Args:
        app: The App being built; its option mappings, ``error_handlers`` and
            ``plugin_config`` must already exist.
        plugins: In-process plugin objects (modules or instances), called in
            this order, in the highest plugin layer.
        autoload: ``True`` to load installed plugins, ``False`` for none, or the
            names of the installed plugins that may load.
        disable: Plugin names that must not load (any layer but ``lanner.errors``).
        config_sections: The names ``plugin_config`` has sections for; each must
            name a plugin (loaded, disabled or installed).
        on_loaded: Called with the names of the plugins that load, in call
            order, before any hook runs (so ``app.plugin_config`` can check names).

    Returns:
        The :class:`PluginAssembly`: middleware, lifespans and sinks to install,
        the plugins loaded, and the conflicts to check at freeze.

    Warns:
        UnknownPluginWarning: A disable list names no plugin.

    Raises:
        PluginLoadError: A plugin cannot be imported or registered, has a
            reserved or duplicate name, or defines a ``lanner_*`` name that is
            not a hook; an allow-list names a plugin that is not installed; or
            a config section names no plugin.
        ValueError: ``disable`` names ``lanner.errors``.
        TypeError: A hook returned something of the wrong shape.
    """
    in_process = as_plugin_list(plugins)
    selection = _entry_points.select(autoload, disable, essential=ESSENTIAL_PLUGINS)
    check_installed(selection)
    warn_unknown_disabled(selection, in_process)
    loaded = load_all(selection, in_process)
    check_config_sections(config_sections, loaded, selection)
    if on_loaded is not None:
        on_loaded([plugin.name for plugin in loaded])
    pm = register_all(loaded)
    results = {hook.name: call_all(pm, hook.name, app, loaded) for hook in HOOKS}
    return PluginAssembly([p.info() for p in loaded], merge(app, results))


def describe_installed(*, include_defaults: bool = False) -> list[PluginInfo]:
    """List installed plugins (and defaults) for ``lanner plugins``, never raising.

    Each enabled plugin is imported and validated on its own, so a broken one
    shows its error instead of hiding the rest. A plugin the environment
    disables (``LANNER_DISABLE_PLUGIN_AUTOLOAD``, ``LANNER_PLUGINS``,
    ``LANNER_DISABLE_PLUGINS``) is listed without being imported.
    """
    # No essential names here: listing must not fail on an environment that App() refuses.
    selection = _entry_points.select(True, ())
    candidates: list[tuple[PluginSource, str | EntryPoint, bool]] = []
    if include_defaults:
        for name, module in DEFAULT_PLUGINS:
            source = PluginSource(name, "default", "lanner", lanner_version())
            enabled = name in ESSENTIAL_PLUGINS or name not in selection.disabled
            candidates.append((source, module, enabled))
    for ep in _entry_points.scan():
        source = PluginSource(ep.name, "installed", *_entry_points.distribution_of(ep))
        candidates.append((source, ep, selection.allows_installed(ep.name)))
    return [
        _installed_info(source, importable, enabled) for source, importable, enabled in candidates
    ]


def _installed_info(
    source: PluginSource, importable: str | EntryPoint, enabled: bool
) -> PluginInfo:
    s = source
    if not enabled:
        return PluginInfo(s.name, s.distribution, s.version, s.layer, enabled=False)
    try:
        plugin = LoadedPlugin(source, import_plugin(source, importable))
        pm = plugin_manager()
        register(pm, plugin)
        hooks = validate(pm, plugin)
    except PluginLoadError as exc:
        return PluginInfo(s.name, s.distribution, s.version, s.layer, error=str(exc))
    return PluginInfo(s.name, s.distribution, s.version, s.layer, hooks)
