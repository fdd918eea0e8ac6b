"""Plugin loading: which plugins load, in what order, and what each contributes.

``App()`` calls :func:`assemble` once. It decides which plugins load (the
default plugins, installed entry points of group ``lanner``, and the objects
given as ``App(plugins=[...])``), imports only those, registers them in a
``pluggy.PluginManager`` of that App alone, validates their hook names, and
calls each hook once per plugin in the documented order:

1. default plugins (``lanner.json``, ``lanner.msgpack``, ``lanner.errors``);
2. installed plugins, by entry-point name;
3. in-process plugins, in the order given.

Keyed contributions (media handlers, error handlers) are written into the
app's option mappings lowest layer first, so a higher layer overrides a lower
one, and a key the app author set is never overwritten. Within a layer the
plugin called first keeps a contested key, and the conflict is raised by
:meth:`PluginAssembly.check` when the app starts, unless the app author has
set that key by then.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import re
import types
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint
from typing import TYPE_CHECKING, Any, Final, cast

import pluggy

from lanner import _entry_points, hookspecs
from lanner._owned import APP_OWNER, OwnedDict
from lanner._plugin_checks import (
    Layer,
    Origin,
    PluginConflict,
    PluginInfo,
    describe,
    mapping_entries,
    prefix_text,
    sequence_result,
    show_key,
    sink_pair,
    slot_error,
    slot_problem,
)
from lanner._plugin_config import redact
from lanner.default_plugins import DEFAULT_PLUGINS, ESSENTIAL_PLUGINS
from lanner.errors import PluginConflictError, PluginLoadError
from lanner.hookspecs import HOOK_NAMES, Sink

if TYPE_CHECKING:
    from lanner.app import App

__all__ = [
    "LAYERS",
    "Layer",
    "PluginAssembly",
    "PluginConflict",
    "PluginInfo",
    "assemble",
    "describe_installed",
    "plugin_name",
]

LAYERS: Final[tuple[Layer, ...]] = ("default", "installed", "in-process")
"""The precedence layers, lowest first."""

_HOOK_PREFIX: Final = "lanner_"
_KEYED_HOOKS: Final = (
    "lanner_http_media_handlers",
    "lanner_ws_media_handlers",
    "lanner_error_handlers",
)


@dataclass(frozen=True)
class _Contribution:
    plugin: str
    hook: str
    target: str
    key: object
    value: object
    mapping: OwnedDict[Any, Any] | None = field(repr=False)


@dataclass
class _Loaded:
    """A plugin that is imported and about to be registered."""

    origin: Origin
    obj: object
    hooks: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.origin.name

    @property
    def layer(self) -> Layer:
        return self.origin.layer

    def info(self) -> PluginInfo:
        o = self.origin
        return PluginInfo(o.name, o.distribution, o.version, o.layer, self.hooks)


class PluginAssembly:
    """The result of assembling one App's plugins.

    Attributes:
        plugins: Every loaded plugin, in call order.
        middleware: All plugins' middleware, in call order; this block wraps the
            app's own middleware.
        lifespans: The plugins' lifespan context managers, in call order.
        sinks: ``(prefix, sink, owner)`` triples, highest precedence first.
        conflicts: Keys two plugins of one layer both provided.
    """

    def __init__(self) -> None:
        self.plugins: list[PluginInfo] = []
        self.middleware: list[object] = []
        self.lifespans: list[AbstractAsyncContextManager[Any]] = []
        self.sinks: list[tuple[str | re.Pattern[str], Sink, str]] = []
        self.conflicts: list[PluginConflict] = []
        self._contributions: list[_Contribution] = []
        self._middleware_owners: list[str] = []
        self._lifespan_owners: list[str] = []
        self._typed_slots: list[tuple[str, OwnedDict[Any, Any]]] = []

    def check(self, app_sink_prefixes: Collection[str] = ()) -> None:
        """Raise for unsettled conflicts and wrongly typed slots; the App calls it at freeze.

        Args:
            app_sink_prefixes: String prefixes of sinks the app author added,
                which settle conflicts between plugin sinks on those prefixes.

        Raises:
            PluginConflictError: Two plugins of one layer provide a key the app
                author has not set. The message names both, the layer and the key.
            TypeError: A media handler or error handler slot holds the wrong
                kind of object; the message names who put it there.
        """
        rank = self._rank
        open_conflicts = [
            c
            for c in self.conflicts
            if not c.settled(self._owner_of(c.mapping, c.key, app_sink_prefixes), rank)
        ]
        if open_conflicts:
            raise PluginConflictError("\n".join(c.message() for c in open_conflicts))
        for target, mapping in self._typed_slots:
            for key, value in mapping.items():
                problem = slot_problem(target, key, value)
                if problem is not None:
                    owner = mapping.owners.get(key, APP_OWNER)
                    raise TypeError(slot_error(target, key, problem, owner))

    def report(self, app: App) -> list[dict[str, Any]]:
        """Describe each plugin for ``lanner plugins --app``.

        Each entry is :meth:`PluginInfo.as_dict` plus ``provides`` (what the
        plugin returned, per hook), ``overridden`` (its keys now owned by a
        higher layer, another plugin or the app author) and ``config`` (its
        config section, redacted; ``None`` if it has none).
        """
        raw_config: Mapping[str, Any] = getattr(app, "_plugin_config_raw", None) or {}
        entries: list[dict[str, Any]] = []
        for info in self.plugins:
            provides: dict[str, Any] = {}
            overridden: list[dict[str, Any]] = []
            for c in self._contributions:
                if c.plugin != info.name:
                    continue
                provides.setdefault(c.hook, {})[show_key(c.key)] = describe(c.value)
                owner = self._owner_of(c.mapping, c.key)
                if owner != info.name:
                    overridden.append(
                        {"hook": c.hook, "target": c.target, "key": show_key(c.key), "by": owner}
                    )
            self._add_listed(info.name, provides)
            section = raw_config.get(info.name)
            entry = info.as_dict()
            entry["provides"] = provides
            entry["overridden"] = overridden
            entry["config"] = redact(section) if isinstance(section, Mapping) else None
            entries.append(entry)
        return entries

    def _owner_of(
        self,
        mapping: OwnedDict[Any, Any] | None,
        key: object,
        app_sink_prefixes: Collection[str] = (),
    ) -> str:
        """Return who owns ``key`` now: a plugin name or ``"app"``."""
        if mapping is not None:
            return mapping.owners.get(key, APP_OWNER)
        if key in app_sink_prefixes:
            return APP_OWNER
        # Sinks are listed highest precedence first, so the first match is in use.
        return next(owner for prefix, _, owner in self.sinks if prefix_text(prefix) == key)

    def _rank(self, owner: str) -> int:
        layers = {info.name: LAYERS.index(info.layer) for info in self.plugins}
        return layers.get(owner, len(LAYERS))  # the app outranks every plugin layer

    def _add_listed(self, name: str, provides: dict[str, Any]) -> None:
        mws = [
            describe(m)
            for m, o in zip(self.middleware, self._middleware_owners, strict=True)
            if o == name
        ]
        if mws:
            provides["lanner_middleware"] = mws
        spans = [
            describe(s)
            for s, o in zip(self.lifespans, self._lifespan_owners, strict=True)
            if o == name
        ]
        if spans:
            provides["lanner_lifespan"] = spans[0]


def plugin_name(plugin: object) -> str:
    """Return the name an in-process plugin is registered under.

    Its ``name`` attribute if that is a string, else its ``__name__`` (modules,
    classes, functions), else its class name.
    """
    name = getattr(plugin, "name", None)
    if isinstance(name, str) and name:
        return name
    dunder = getattr(plugin, "__name__", None)
    if isinstance(dunder, str) and dunder:
        return dunder
    return type(plugin).__name__


def assemble(
    app: App,
    *,
    plugins: Iterable[object] = (),
    autoload: bool | Iterable[str] = True,
    disable: Iterable[str] = (),
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

    Returns:
        The :class:`PluginAssembly`: middleware, lifespans and sinks to install,
        the plugins loaded, and the conflicts to check at freeze.

    Raises:
        PluginLoadError: A plugin cannot be imported or registered, has a
            reserved or duplicate name, or defines a ``lanner_*`` name that is
            not a hook.
        ValueError: ``disable`` names ``lanner.errors``.
        TypeError: A hook returned something of the wrong shape.
    """
    in_process = _as_plugin_list(plugins)
    selection = _entry_points.select(autoload, disable, essential=ESSENTIAL_PLUGINS)
    if selection.autoload and not isinstance(autoload, bool):
        _check_installed(autoload)
    loaded = _load_all(selection, in_process)
    pm = _plugin_manager()
    # pluggy calls the last registered plugin first; registering in reverse makes
    # the historic lanner_configure run in the documented order.
    for plugin in reversed(loaded):
        _register(pm, plugin)
    for plugin in loaded:
        plugin.hooks = _validate(pm, plugin)
    _configure(pm, app, loaded)

    assembly = PluginAssembly()
    assembly.plugins = [p.info() for p in loaded]
    results = {name: _call_all(pm, name, app, loaded) for name in HOOK_NAMES[1:]}
    _collect_lists(assembly, results)
    _apply_keyed(assembly, app, results)
    return assembly


def describe_installed(*, include_defaults: bool = False) -> list[PluginInfo]:
    """List installed plugins (and defaults) for ``lanner plugins``, never raising.

    Each enabled plugin is imported and validated on its own, so a broken one
    shows its error instead of hiding the rest. A plugin the environment
    disables (``LANNER_DISABLE_PLUGIN_AUTOLOAD``, ``LANNER_PLUGINS``,
    ``LANNER_DISABLE_PLUGINS``) is listed without being imported.
    """
    # No essential names here: listing must not fail on an environment that App() refuses.
    selection = _entry_points.select(True, ())
    sources: list[tuple[Origin, str | EntryPoint, bool]] = []
    if include_defaults:
        for name, module in DEFAULT_PLUGINS:
            origin = Origin(name, "default", "lanner", _lanner_version())
            enabled = name in ESSENTIAL_PLUGINS or name not in selection.disabled
            sources.append((origin, module, enabled))
    for ep in _entry_points.scan():
        origin = Origin(ep.name, "installed", *_entry_points.distribution_of(ep))
        sources.append((origin, ep, selection.allows_installed(ep.name)))
    return [_try_describe(origin, source, enabled) for origin, source, enabled in sources]


def _try_describe(origin: Origin, source: str | EntryPoint, enabled: bool) -> PluginInfo:
    o = origin
    if not enabled:
        return PluginInfo(o.name, o.distribution, o.version, o.layer, enabled=False)
    try:
        plugin = _Loaded(origin, _import(origin, source))
        pm = _plugin_manager()
        _register(pm, plugin)
        hooks = _validate(pm, plugin)
    except PluginLoadError as exc:
        return PluginInfo(o.name, o.distribution, o.version, o.layer, error=str(exc))
    return PluginInfo(o.name, o.distribution, o.version, o.layer, hooks)


class _PluginManager(pluggy.PluginManager):
    """A ``PluginManager`` that rejects attributes without the marker cheaply.

    pluggy inspects every attribute of a plugin with ``inspect.getattr_static``
    (safe, but some microseconds each); looking the raw value up in the
    namespace dicts first makes that cost apply only to marked attributes,
    which keeps ``App()`` fast with many plugins.
    """

    def parse_hookimpl_opts(self, plugin: object, name: str) -> pluggy.HookimplOpts | None:
        """Return the hookimpl options of ``plugin.name``, or ``None`` if it is not one."""
        if name.startswith("__") or not _may_be_marked(plugin, name):
            return None
        return super().parse_hookimpl_opts(plugin, name)


_MARKER: Final = hookspecs.PROJECT_NAME + "_impl"


def _may_be_marked(plugin: object, name: str) -> bool:
    if isinstance(plugin, types.ModuleType):
        namespaces: list[Mapping[str, Any]] = [vars(plugin)]
    else:
        cls = plugin if isinstance(plugin, type) else type(plugin)
        namespaces = [vars(k) for k in cls.__mro__]
        if not isinstance(plugin, type) and hasattr(plugin, "__dict__"):
            namespaces.insert(0, vars(plugin))
    for namespace in namespaces:
        if name in namespace:
            raw = namespace[name]
            try:
                return hasattr(getattr(raw, "__func__", raw), _MARKER)
            except Exception:  # an odd object: let pluggy decide
                return True
    return True  # not found statically (a __getattr__ plugin): let pluggy decide


def _plugin_manager() -> pluggy.PluginManager:
    pm = _PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    return pm


# --- choosing and importing -------------------------------------------------


def _as_plugin_list(plugins: Iterable[object]) -> list[object]:
    if isinstance(plugins, str | bytes | types.ModuleType) or not isinstance(plugins, Iterable):
        raise TypeError(
            f"plugins= takes a list of plugin objects (modules or instances), found "
            f"{plugins!r}; write plugins=[my_plugin]."
        )
    return list(plugins)


def _check_installed(names: Iterable[str]) -> None:
    """Refuse an ``autoload_plugins`` list naming a plugin that is not installed.

    A typo there would otherwise load nothing, silently: an auth plugin the app
    relies on would simply be missing.
    """
    installed = sorted({ep.name for ep in _entry_points.scan()})
    missing = sorted(set(names) - set(installed))
    if missing:
        raise PluginLoadError(
            f"autoload_plugins names {', '.join(map(repr, missing))}, which "
            f"{'is' if len(missing) == 1 else 'are'} not installed (installed plugins: "
            f"{', '.join(installed) or 'none'}). Install the distribution "
            "(pip install lanner-<name>) or fix the name; `lanner plugins` lists "
            "what is installed."
        )


def _load_all(selection: _entry_points.Selection, in_process: list[object]) -> list[_Loaded]:
    loaded: list[_Loaded] = []
    version = _lanner_version()
    for name, module in DEFAULT_PLUGINS:
        if name not in selection.disabled:
            origin = Origin(name, "default", "lanner", version)
            loaded.append(_Loaded(origin, _import(origin, module)))
    if selection.autoload:
        for ep in _entry_points.scan():
            if selection.allows_installed(ep.name):
                origin = Origin(ep.name, "installed", *_entry_points.distribution_of(ep))
                _check_name(origin, loaded)
                loaded.append(_Loaded(origin, _import(origin, ep)))
    for obj in in_process:
        origin = Origin(plugin_name(obj), "in-process")
        if origin.name not in selection.disabled:
            _check_name(origin, loaded)
            _check_not_loaded(origin, obj, loaded)
            loaded.append(_Loaded(origin, obj))
    return loaded


def _check_name(origin: Origin, loaded: list[_Loaded]) -> None:
    prefix = _entry_points.RESERVED_PREFIX
    if origin.name.startswith(prefix):
        raise PluginLoadError(
            f"Plugin {origin.label()} uses the reserved prefix {prefix!r}, which belongs "
            "to lanner's default plugins. Rename it (a plain name such as "
            f"{origin.name[len(prefix) :]!r}). {origin.how_to_disable()}"
        )
    for other in loaded:
        if other.name == origin.name:
            raise PluginLoadError(
                f"Two plugins are named {origin.name!r}: {other.origin.label()} and "
                f"{origin.label()}. Plugin names must be unique; give the in-process "
                "plugin another `name` attribute, or uninstall one of them. "
                f"{origin.how_to_disable()}"
            )


def _check_not_loaded(origin: Origin, obj: object, loaded: list[_Loaded]) -> None:
    for other in loaded:
        if other.obj is obj:
            raise PluginLoadError(
                f"The in-process plugin {origin.label()} is the same object as the "
                f"{other.layer} plugin {other.origin.label()}, which is already loaded. "
                f"Give it once: drop it from plugins=[...], or keep it there and turn "
                f'the installed one off with disable_plugins=["{other.name}"].'
            )


def _import(origin: Origin, source: str | EntryPoint) -> object:
    try:
        if isinstance(source, EntryPoint):
            return source.load()
        return importlib.import_module(source)
    except Exception as exc:
        target = source.value if isinstance(source, EntryPoint) else source
        raise PluginLoadError(
            f"Error importing plugin {origin.label()}: importing {target!r} raised "
            f"{exc!r}. {origin.how_to_disable()}"
        ) from exc


# --- validating and registering ---------------------------------------------


def _validate(pm: pluggy.PluginManager, plugin: _Loaded) -> tuple[str, ...]:
    """Return the hooks registered ``plugin`` implements; raise for any bad ``lanner_*`` name."""
    found: set[str] = set()
    registered: set[str] = set()
    for caller in pm.get_hookcallers(plugin.obj) or ():
        for impl in caller.get_hookimpls():
            if impl.plugin is not plugin.obj:
                continue
            attr = getattr(impl.function, "__name__", caller.name)
            if caller.name not in HOOK_NAMES:
                raise PluginLoadError(_unknown_hook_message(plugin, attr, caller.name))
            options = ("wrapper", "hookwrapper", "tryfirst", "trylast")
            bad = [o for o in options if getattr(impl, o)]
            if bad:
                raise PluginLoadError(
                    f"Plugin {plugin.origin.label()} marks {attr} with "
                    f"{', '.join(b + '=True' for b in bad)}, which lanner does not support: "
                    "each hook of each plugin is called exactly once, in precedence-layer "
                    "order, and higher layers override lower ones by key. Use a plain "
                    f"@lanner.hookimpl. {plugin.origin.how_to_disable()}"
                )
            found.add(caller.name)
            registered.add(attr)
    for attr in dir(plugin.obj):
        if (
            attr.startswith(_HOOK_PREFIX)
            and attr not in registered
            and pm.parse_hookimpl_opts(plugin.obj, attr) is None
        ):
            _check_unmarked(plugin, attr)
    return tuple(h for h in HOOK_NAMES if h in found)


def _check_unmarked(plugin: _Loaded, attr: str) -> None:
    try:
        value = inspect.getattr_static(plugin.obj, attr)
    except AttributeError:
        return
    if isinstance(value, types.ModuleType) or not callable(value):
        return
    if attr in HOOK_NAMES:
        raise PluginLoadError(
            f"Plugin {plugin.origin.label()} defines {attr} without the @lanner.hookimpl "
            f"marker, so it would never be called. Decorate it: "
            f"`@lanner.hookimpl` above `def {attr}(app): ...`. "
            f"{plugin.origin.how_to_disable()}"
        )
    raise PluginLoadError(_unknown_hook_message(plugin, attr, attr))


def _unknown_hook_message(plugin: _Loaded, attr: str, hook: str) -> str:
    close = difflib.get_close_matches(hook, HOOK_NAMES, n=1, cutoff=0.5)
    hint = f"Did you mean {close[0]}? " if close else ""
    shown = attr if attr == hook else f"{attr} (specname {hook!r})"
    return (
        f"Plugin {plugin.origin.label()} defines {shown}, which is not a lanner hook. {hint}"
        f"The hooks are: {', '.join(HOOK_NAMES)}. Names starting with "
        f"{_HOOK_PREFIX!r} are reserved for hooks; rename the attribute if it is "
        f"not meant to be one. {plugin.origin.how_to_disable()}"
    )


def _register(pm: pluggy.PluginManager, plugin: _Loaded) -> None:
    try:
        pm.register(plugin.obj, name=plugin.name)
    except (pluggy.PluginValidationError, ValueError) as exc:
        detail = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        hint = "Hook functions take only `app`. " if "hookspec" in detail else ""
        raise PluginLoadError(
            f"Plugin {plugin.origin.label()} could not be registered: {detail}. "
            f"{hint}{plugin.origin.how_to_disable()}"
        ) from exc


# --- calling hooks -----------------------------------------------------------


def _configure(pm: pluggy.PluginManager, app: App, loaded: list[_Loaded]) -> None:
    caller = pm.hook.lanner_configure
    try:
        caller.call_historic(kwargs={"app": app})
    except Exception as exc:
        culprit = _raising_plugin(exc, caller.get_hookimpls())
        if culprit is not None:
            plugin = next(p for p in loaded if p.name == culprit)
            _add_note(exc, plugin, "lanner_configure")
        raise


def _raising_plugin(exc: BaseException, impls: Sequence[pluggy.HookImpl]) -> str | None:
    """Return which hook implementation the traceback of ``exc`` passes through."""
    by_code: dict[object, str] = {}
    for impl in impls:
        func = inspect.unwrap(getattr(impl.function, "__func__", impl.function))
        by_code[getattr(func, "__code__", None)] = impl.plugin_name
    tb = exc.__traceback__
    while tb is not None:
        name = by_code.get(tb.tb_frame.f_code)
        if name is not None:
            return name
        tb = tb.tb_next
    return None


def _call_all(
    pm: pluggy.PluginManager, hook: str, app: App, loaded: list[_Loaded]
) -> list[tuple[_Loaded, object]]:
    """Call ``hook`` of each plugin in call order; return the non-``None`` results."""
    impls = {impl.plugin_name: impl for impl in getattr(pm.hook, hook).get_hookimpls()}
    results: list[tuple[_Loaded, object]] = []
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


def _add_note(exc: BaseException, plugin: _Loaded, hook: str) -> None:
    add_note: Callable[[str], None] | None = getattr(exc, "add_note", None)
    if add_note is not None:  # Python 3.11+
        add_note(
            f"Raised by plugin {plugin.origin.label()} in {hook}. {plugin.origin.how_to_disable()}"
        )


def _collect_lists(
    assembly: PluginAssembly, results: Mapping[str, list[tuple[_Loaded, object]]]
) -> None:
    for plugin, result in results["lanner_lifespan"]:
        if not (hasattr(result, "__aenter__") and hasattr(result, "__aexit__")):
            raise plugin.origin.shape_error("lanner_lifespan", "an async context manager", result)
        assembly.lifespans.append(cast("AbstractAsyncContextManager[Any]", result))
        assembly._lifespan_owners.append(plugin.name)
    for plugin, result in results["lanner_middleware"]:
        for mw in sequence_result(plugin.origin, "lanner_middleware", result, "middleware objects"):
            assembly.middleware.append(mw)
            assembly._middleware_owners.append(plugin.name)


def _apply_keyed(
    assembly: PluginAssembly,
    app: App,
    results: Mapping[str, list[tuple[_Loaded, object]]],
) -> None:
    targets: dict[str, list[tuple[str, OwnedDict[Any, Any]]]] = {
        "lanner_http_media_handlers": [
            ("req_options.media_handlers", app.req_options.media_handlers),
            ("resp_options.media_handlers", app.resp_options.media_handlers),
        ],
        "lanner_ws_media_handlers": [("ws_options.media_handlers", app.ws_options.media_handlers)],
        "lanner_error_handlers": [("error_handlers", app.error_handlers)],
    }
    assembly._typed_slots = [slot for hook in _KEYED_HOOKS for slot in targets[hook]]
    sinks_by_layer: dict[Layer, list[tuple[str | re.Pattern[str], Sink, str]]] = {}
    for layer in LAYERS:
        claims: dict[tuple[str, object], str] = {}
        for hook in _KEYED_HOOKS:
            for plugin, result in results[hook]:
                if plugin.layer != layer:
                    continue
                for key, value in mapping_entries(plugin.origin, hook, result):
                    for target, mapping in targets[hook]:
                        _contribute(assembly, plugin, hook, target, mapping, key, value, claims)
        sinks_by_layer[layer] = _layer_sinks(assembly, layer, results["lanner_sinks"], claims)
    for layer in reversed(LAYERS):
        assembly.sinks.extend(sinks_by_layer[layer])


def _contribute(
    assembly: PluginAssembly,
    plugin: _Loaded,
    hook: str,
    target: str,
    mapping: OwnedDict[Any, Any],
    key: object,
    value: object,
    claims: dict[tuple[str, object], str],
) -> None:
    holder = claims.get((target, key))
    assembly._contributions.append(_Contribution(plugin.name, hook, target, key, value, mapping))
    if holder is not None:
        assembly.conflicts.append(
            PluginConflict(plugin.layer, hook, target, key, holder, plugin.name, mapping)
        )
        return
    claims[(target, key)] = plugin.name
    mapping.contribute(key, value, plugin.name)


def _layer_sinks(
    assembly: PluginAssembly,
    layer: Layer,
    results: list[tuple[_Loaded, object]],
    claims: dict[tuple[str, object], str],
) -> list[tuple[str | re.Pattern[str], Sink, str]]:
    sinks: list[tuple[str | re.Pattern[str], Sink, str]] = []
    for plugin, result in results:
        if plugin.layer != layer:
            continue
        for item in sequence_result(plugin.origin, "lanner_sinks", result, "(prefix, sink) pairs"):
            prefix, sink = sink_pair(plugin.origin, item)
            key = prefix_text(prefix)
            holder = claims.get(("sinks", key))
            assembly._contributions.append(
                _Contribution(plugin.name, "lanner_sinks", "sinks", key, sink, None)
            )
            if holder is not None:
                assembly.conflicts.append(
                    PluginConflict(layer, "lanner_sinks", "sinks", key, holder, plugin.name)
                )
                continue
            claims[("sinks", key)] = plugin.name
            sinks.append((prefix, sink, plugin.name))
    return sinks


_version_cache: list[str | None] = []


def _lanner_version() -> str | None:
    """Return the installed lanner version, looked up once per process."""
    if not _version_cache:
        from importlib.metadata import PackageNotFoundError, version

        try:
            _version_cache.append(version("lanner"))
        except PackageNotFoundError:
            _version_cache.append(None)
    return _version_cache[0]
