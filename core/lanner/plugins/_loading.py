"""Choosing, importing, registering and validating the plugins of one App.

Nothing here calls a hook: this module turns plugin sources (default plugin
modules, installed entry points, in-process objects) into :class:`LoadedPlugin`
plugins registered in a fresh ``pluggy.PluginManager``, and refuses, with a
message naming the plugin and how to disable it, anything that could not be
called the way lanner calls hooks.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import types
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from typing import Any, Final

import pluggy

from lanner.errors import PluginLoadError
from lanner.plugins import _entry_points, hookspecs
from lanner.plugins._hooks import HOOK_NAMES
from lanner.plugins._model import (
    Layer,
    PluginInfo,
    PluginSource,
    UnknownPluginWarning,
)
from lanner.plugins.defaults import DEFAULT_PLUGINS

__all__ = [
    "LoadedPlugin",
    "as_plugin_list",
    "check_config_sections",
    "check_installed",
    "import_plugin",
    "lanner_version",
    "load_all",
    "plugin_manager",
    "plugin_name",
    "register",
    "register_all",
    "validate",
    "warn_unknown_disabled",
]

_HOOK_PREFIX: Final = "lanner_"
_MARKER: Final = hookspecs.PROJECT_NAME + "_impl"


@dataclass
class LoadedPlugin:
    """A plugin that is imported and about to be registered.

    Attributes:
        source: Where the plugin comes from, for messages.
        obj: The plugin object pluggy registers (a module or an instance).
        hooks: The hooks it implements, in call order, once validated.
    """

    source: PluginSource
    obj: object
    hooks: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The name the plugin is registered under."""
        return self.source.name

    @property
    def layer(self) -> Layer:
        """The precedence layer the plugin belongs to."""
        return self.source.layer

    def info(self) -> PluginInfo:
        """Return what ``lanner plugins`` and the assembly report about this plugin."""
        s = self.source
        return PluginInfo(s.name, s.distribution, s.version, s.layer, self.hooks)


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


# --- choosing and importing -------------------------------------------------


def as_plugin_list(plugins: Iterable[object]) -> list[object]:
    """Return ``App(plugins=...)`` as a list; refuse a single plugin, a string or a class."""
    if isinstance(plugins, str | bytes | types.ModuleType) or not isinstance(plugins, Iterable):
        raise TypeError(
            f"plugins= takes a list of plugin objects (modules or instances), found "
            f"{plugins!r}; write plugins=[my_plugin]."
        )
    listed = list(plugins)
    for obj in listed:
        if isinstance(obj, type):
            raise TypeError(
                f"plugins= got the class {obj.__qualname__}; pass an instance: "
                f"App(plugins=[{obj.__qualname__}()]). lanner calls a plugin's hooks as "
                "methods of the object it is given."
            )
    return listed


def check_installed(selection: _entry_points.Selection) -> None:
    """Refuse an allow-list (``autoload_plugins``, ``LANNER_PLUGINS``) naming a missing plugin.

    A typo there would otherwise load nothing, silently: an auth plugin the app
    relies on would simply be missing, and its routes open.
    """
    if not selection.autoload or not selection.named:
        return
    installed = sorted({ep.name for ep in _entry_points.scan()})
    for where, names in selection.named:
        missing = [name for name in names if name not in installed]
        if missing:
            raise PluginLoadError(
                f"{where} names {', '.join(map(repr, missing))}, which "
                f"{'is' if len(missing) == 1 else 'are'} not installed (installed plugins: "
                f"{', '.join(installed) or 'none'}). Install the distribution "
                "(pip install lanner-<name>) or fix the name; `lanner plugins` lists "
                "what is installed."
            )


def warn_unknown_disabled(selection: _entry_points.Selection, in_process: Sequence[object]) -> None:
    """Warn about names in the disable lists that no plugin has.

    A disabled plugin may legitimately be absent, so this is an
    :class:`UnknownPluginWarning`, not an error; but a typo would leave the
    plugin it meant running.
    """
    known = {name for name, _ in DEFAULT_PLUGINS} | {plugin_name(obj) for obj in in_process}
    unknown = selection.disabled - known
    if not unknown:
        return
    installed = {ep.name for ep in _entry_points.scan()}
    unknown -= installed
    if unknown:
        warnings.warn(
            f"disable_plugins / {_entry_points.DISABLE_ENV} / --disable-plugin name "
            f"{', '.join(map(repr, sorted(unknown)))}, which no plugin has (known plugins: "
            f"{', '.join(sorted(known | installed))}). Check the spelling; if the plugin is "
            "merely not installed here, this is harmless.",
            UnknownPluginWarning,
            stacklevel=4,
        )


def check_config_sections(
    sections: Iterable[str], loaded: Sequence[LoadedPlugin], selection: _entry_points.Selection
) -> None:
    """Refuse a ``plugin_config`` section that names no plugin.

    A misspelt section name would otherwise leave the plugin unconfigured (an
    auth plugin then refuses to start, with a message about missing config
    that hides the typo). Sections for disabled or installed-but-not-loaded
    plugins are fine: the same config serves every way the app is started.
    """
    known = {plugin.name for plugin in loaded} | selection.disabled
    unknown = [name for name in sections if name not in known]
    if not unknown:
        return
    installed = {ep.name for ep in _entry_points.scan()}
    unknown = [name for name in unknown if name not in installed]
    if unknown:
        raise PluginLoadError(
            f"plugin_config has a section for {', '.join(map(repr, sorted(unknown)))}, "
            "but no plugin has that name (loaded: "
            f"{', '.join(sorted(p.name for p in loaded))}; installed: "
            f"{', '.join(sorted(installed)) or 'none'}). Fix the section name to the "
            "plugin's name (as `lanner plugins` shows it), or install the plugin."
        )


def load_all(selection: _entry_points.Selection, in_process: list[object]) -> list[LoadedPlugin]:
    """Import the plugins ``selection`` allows, in call order: defaults, installed, in-process.

    Installed plugins come in the order the app author listed them
    (``LANNER_PLUGINS``, else ``autoload_plugins=[...]``), else by name.

    Raises:
        PluginLoadError: A plugin cannot be imported, uses the reserved prefix,
            shares a name with another, or is given twice.
    """
    loaded: list[LoadedPlugin] = []
    version = lanner_version()
    for name, module in DEFAULT_PLUGINS:
        if name not in selection.disabled:
            source = PluginSource(name, "default", "lanner", version)
            loaded.append(LoadedPlugin(source, import_plugin(source, module)))
    if selection.autoload:
        for ep in selection.ordered(_entry_points.scan()):
            source = PluginSource(ep.name, "installed", *_entry_points.distribution_of(ep))
            _check_name(source, loaded)
            loaded.append(LoadedPlugin(source, import_plugin(source, ep)))
    for obj in in_process:
        source = PluginSource(plugin_name(obj), "in-process")
        if source.name not in selection.disabled:
            _check_name(source, loaded)
            _check_not_loaded(source, obj, loaded)
            loaded.append(LoadedPlugin(source, obj))
    return loaded


def _check_name(source: PluginSource, loaded: list[LoadedPlugin]) -> None:
    prefix = _entry_points.RESERVED_PREFIX
    if source.name.startswith(prefix):
        raise PluginLoadError(
            f"Plugin {source.label()} uses the reserved prefix {prefix!r}, which belongs "
            "to lanner's default plugins. Rename it (a plain name such as "
            f"{source.name[len(prefix) :]!r}). {source.how_to_disable()}"
        )
    for other in loaded:
        if other.name == source.name:
            if source.layer == "in-process" and other.layer == "installed":
                raise PluginLoadError(_twice_message(source, other, same_object=False))
            raise PluginLoadError(
                f"Two plugins are named {source.name!r}: {other.source.label()} and "
                f"{source.label()}. Plugin names must be unique; give the in-process "
                "plugin another `name` attribute, or uninstall one of them. "
                f"{source.how_to_disable()}"
            )


def _check_not_loaded(source: PluginSource, obj: object, loaded: list[LoadedPlugin]) -> None:
    for other in loaded:
        if other.obj is obj and other.layer == "installed":
            raise PluginLoadError(_twice_message(source, other, same_object=True))
        if other.obj is obj:
            raise PluginLoadError(
                f"The in-process plugin {source.label()} is the same object as the "
                f"{other.layer} plugin {other.source.label()}, which is already loaded. "
                "Drop it from App(plugins=[...])."
            )


def _twice_message(source: PluginSource, installed: LoadedPlugin, *, same_object: bool) -> str:
    """Explain an installed plugin also given in-process, without suggesting a rename.

    Renaming the copy would orphan its ``plugin_config`` section, and a disable
    list would turn off both copies (it names plugins, whatever their layer).
    """
    what = "is the same object as" if same_object else "has the same name as"
    name = installed.name
    return (
        f"The in-process plugin {source.label()} {what} the installed plugin "
        f"{installed.source.label()}, which is already loaded. Load it once: drop it from "
        f"App(plugins=[...]) and let the installed one load, or keep the in-process copy and "
        f"stop the installed one from autoloading (App(autoload_plugins=[...]) without "
        f"{name!r}, or autoload_plugins=False). Keep its name: plugin_config[{name!r}] "
        "configures it either way."
    )


def import_plugin(source: PluginSource, importable: str | EntryPoint) -> object:
    """Import a plugin from a module name or an entry point.

    Raises:
        PluginLoadError: The import raised; the message names the plugin and
            how to disable it, and the original error is its cause.
    """
    try:
        if isinstance(importable, EntryPoint):
            return importable.load()
        return importlib.import_module(importable)
    except Exception as exc:
        target = importable.value if isinstance(importable, EntryPoint) else importable
        raise PluginLoadError(
            f"Error importing plugin {source.label()}: importing {target!r} raised "
            f"{exc!r}. {source.how_to_disable()}"
        ) from exc


# --- registering and validating ---------------------------------------------


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


def plugin_manager() -> pluggy.PluginManager:
    """Return a new plugin manager that knows lanner's hook specifications."""
    pm = _PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    return pm


def register_all(loaded: list[LoadedPlugin]) -> pluggy.PluginManager:
    """Register ``loaded`` in a new plugin manager and validate each; return the manager.

    Sets each plugin's ``hooks``.

    Raises:
        PluginLoadError: See :func:`register` and :func:`validate`.
    """
    pm = plugin_manager()
    for plugin in loaded:
        register(pm, plugin)
    for plugin in loaded:
        plugin.hooks = validate(pm, plugin)
    return pm


def register(pm: pluggy.PluginManager, plugin: LoadedPlugin) -> None:
    """Register ``plugin`` in ``pm`` under its name.

    Raises:
        PluginLoadError: pluggy refused it (a hook taking arguments other than
            ``app``, or a name already registered).
    """
    try:
        pm.register(plugin.obj, name=plugin.name)
    except (pluggy.PluginValidationError, ValueError) as exc:
        detail = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        hint = "Hook functions take only `app`. " if "hookspec" in detail else ""
        raise PluginLoadError(
            f"Plugin {plugin.source.label()} could not be registered: {detail}. "
            f"{hint}{plugin.source.how_to_disable()}"
        ) from exc


def validate(pm: pluggy.PluginManager, plugin: LoadedPlugin) -> tuple[str, ...]:
    """Return the hooks registered ``plugin`` implements; raise for any bad ``lanner_*`` name.

    Raises:
        PluginLoadError: A ``lanner_*`` attribute is not a hook, a hook lacks
            the marker, or a hook is marked with an option lanner does not support.
    """
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
                    f"Plugin {plugin.source.label()} marks {attr} with "
                    f"{', '.join(b + '=True' for b in bad)}, which lanner does not support: "
                    "each hook of each plugin is called exactly once, in precedence-layer "
                    "order, and higher layers override lower ones by key. Use a plain "
                    "@lanner.hookimpl; the app author orders installed plugins with "
                    f"LANNER_PLUGINS or autoload_plugins=[...]. {plugin.source.how_to_disable()}"
                )
            if inspect.iscoroutinefunction(impl.function) or inspect.isasyncgenfunction(
                impl.function
            ):
                raise PluginLoadError(
                    f"Plugin {plugin.source.label()} defines {attr} with async def; hooks are "
                    "plain functions called once at startup; return the object instead "
                    f"(def {attr}(app): return ...), and put async work in what it returns "
                    f"(middleware methods, handlers, a lanner_lifespan context manager). "
                    f"{plugin.source.how_to_disable()}"
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


def _check_unmarked(plugin: LoadedPlugin, attr: str) -> None:
    """Refuse an unmarked function that looks like a hook; leave anything else alone.

    The rule (docs/writing_plugins.md): only functions marked ``@lanner.hookimpl``
    are hooks. An unmarked function or method named exactly like a hook, or
    close to one (``lanner_midleware``), is an error, because it would silently
    never run. Other ``lanner_*`` attributes (a constant ``lanner_min_version``,
    an imported module ``lanner_media_yaml``, a helper ``lanner_helper``) are
    not hooks, and are ignored.
    """
    try:
        value = inspect.getattr_static(plugin.obj, attr)
    except AttributeError:
        return
    if isinstance(value, staticmethod | classmethod):
        value = value.__func__
    if not inspect.isroutine(value):
        return
    if attr in HOOK_NAMES:
        raise PluginLoadError(
            f"Plugin {plugin.source.label()} defines {attr} without the @lanner.hookimpl "
            f"marker, so it would never be called. Decorate it: "
            f"`@lanner.hookimpl` above `def {attr}(app): ...`. "
            f"{plugin.source.how_to_disable()}"
        )
    if _close_hook(attr) is not None:
        raise PluginLoadError(_unknown_hook_message(plugin, attr, attr))


def _close_hook(name: str) -> str | None:
    """Return the hook ``name`` is likely a misspelling of, or ``None``.

    Only the part after ``lanner_`` is compared, so the shared prefix alone
    never makes two names look alike.
    """
    strip = len(_HOOK_PREFIX)
    suffixes = {hook[strip:]: hook for hook in HOOK_NAMES}
    close = difflib.get_close_matches(name[strip:], list(suffixes), n=1, cutoff=0.75)
    return suffixes[close[0]] if close else None


def _unknown_hook_message(plugin: LoadedPlugin, attr: str, hook: str) -> str:
    close = _close_hook(hook)
    hint = f"Did you mean {close}? " if close else ""
    shown = attr if attr == hook else f"{attr} (specname {hook!r})"
    return (
        f"Plugin {plugin.source.label()} defines {shown}, which is not a lanner hook. {hint}"
        f"The hooks are: {', '.join(HOOK_NAMES)}. Only functions marked @lanner.hookimpl "
        f"are hooks; rename the function if it is not meant to be one. "
        f"{plugin.source.how_to_disable()}"
    )


def lanner_version() -> str:
    """Return the installed lanner version (``lanner.__version__``, read once at import)."""
    import lanner  # at call time: this module is imported while lanner itself is

    return lanner.__version__
