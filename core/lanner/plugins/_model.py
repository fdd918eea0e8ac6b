"""What plugin assembly records and checks, and the messages that explain a failure.

Every message names the plugin (and, for installed ones, its distribution and
version), says what was expected and what was found, and how to run without
the plugin.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from lanner._owned import APP_OWNER, OwnedDict
from lanner.plugins.defaults import ESSENTIAL_PLUGINS
from lanner.ws_options import WebSocketPayloadType

__all__ = [
    "LAYERS",
    "Layer",
    "PluginConflict",
    "PluginInfo",
    "PluginSource",
    "UnknownPluginWarning",
    "disable_advice",
    "prefix_text",
    "short_repr",
    "show_key",
    "slot_error",
]

Layer = Literal["default", "installed", "in-process"]
"""A precedence layer, lowest first: defaults, installed, in-process."""

LAYERS: Final[tuple[Layer, ...]] = ("default", "installed", "in-process")
"""The precedence layers, lowest first."""


class UnknownPluginWarning(UserWarning):
    """A disable list names a plugin that is neither installed, a default, nor given in-process.

    A warning rather than an error: a disabled plugin may legitimately be
    absent (one deployment's ``LANNER_DISABLE_PLUGINS`` serving several
    environments). It usually means a typo, so the message names the plugin
    and lists the known ones. Silence it with
    ``warnings.filterwarnings("ignore", category=lanner.plugins.UnknownPluginWarning)``.
    """


def disable_advice(name: str) -> str:
    """Return the three ways to disable plugin ``name``: code, environment and command line."""
    return (
        f'App(disable_plugins=["{name}"]), or LANNER_DISABLE_PLUGINS={name}, or '
        f"lanner serve --disable-plugin {name}"
    )


@dataclass(frozen=True)
class PluginSource:
    """Where a plugin comes from (its name, layer and distribution): enough to name it in a message.

    Not to be confused with the HTTP ``Origin`` header: this is the plugin's source.
    """

    name: str
    layer: Layer
    distribution: str | None = None
    version: str | None = None

    def label(self) -> str:
        """Return ``'name' (distribution x 1.0)`` or the like, for messages."""
        if self.layer == "default":
            return f"{self.name!r} (built into lanner)"
        if self.layer == "in-process":
            return f"{self.name!r} (in-process plugin)"
        dist = self.distribution or "unknown"
        return f"{self.name!r} (distribution {dist} {self.version or 'unknown version'})"

    def how_to_disable(self) -> str:
        """Return a sentence saying how to run without this plugin."""
        name = self.name
        if self.layer == "in-process":
            return (
                f"To run without it, remove it from App(plugins=[...]) or "
                f'disable_plugins=["{name}"].'
            )
        if name in ESSENTIAL_PLUGINS:
            return "This plugin cannot be disabled; please report the problem to lanner."
        return f"To run without it, disable it: {disable_advice(name)}."

    def shape_error(self, hook: str, expected: str, found: object) -> TypeError:
        """Return the error for a hook result of the wrong shape."""
        return TypeError(
            f"Plugin {self.label()} returned {short_repr(found)} from {hook}; expected "
            f"{expected} or None. Fix the plugin. {self.how_to_disable()}"
        )


@dataclass(frozen=True)
class PluginInfo:
    """What is known about one plugin: where it comes from and what it implements.

    Attributes:
        name: The plugin name (entry-point name, ``lanner.<x>`` for defaults).
        distribution: The distribution that installed it, if any.
        version: That distribution's version, if known.
        layer: ``"default"``, ``"installed"`` or ``"in-process"``.
        hooks: The full names of the hooks it implements, in call order.
        error: Why it could not load, or ``None``.
        enabled: Whether it loads (``lanner plugins`` lists disabled ones too).
    """

    name: str
    distribution: str | None
    version: str | None
    layer: Layer
    hooks: tuple[str, ...] = ()
    error: str | None = None
    enabled: bool = True

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON form ``lanner plugins`` prints."""
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "layer": self.layer,
            "hooks": list(self.hooks) if self.enabled and self.error is None else None,
            "error": self.error,
            "enabled": self.enabled,
        }


@dataclass(frozen=True)
class PluginConflict:
    """Two plugins of one layer gave the same key; the first one called holds it.

    Attributes:
        layer: The layer both plugins belong to.
        hook: The hook both returned the key from.
        target: Where the key lives, such as ``"ws_options.media_handlers"``.
        key: The contested key.
        holder: The plugin called first, whose value is in place.
        challenger: The plugin called later, whose value was set aside.
        settle: How the app author settles it, the end of a sentence; by
            default, setting the key in the app mapping it lives in.
        mapping: The app mapping the key lives in; ``None`` for an assembly list.
    """

    layer: Layer
    hook: str
    target: str
    key: object
    holder: str
    challenger: str
    settle: str = ""
    mapping: OwnedDict[Any, Any] | None = field(default=None, repr=False, compare=False)

    def settled(self, current_owner: str, rank: Callable[[str], int]) -> bool:
        """Return whether someone above both plugins decides the key.

        The app author setting the key settles the conflict; so does a plugin
        of a higher layer providing it, because its value is the one in use.

        Args:
            current_owner: Who owns the key now: a plugin name or ``"app"``.
            rank: The precedence of an owner; higher wins, the app highest.
        """
        return rank(current_owner) > rank(self.holder)

    def message(self) -> str:
        """Explain the conflict: both plugins, the layer, the key and the fixes."""
        where = f"app.{self.target}[{show_key(self.key)}]"
        fix = self.settle or f"set {where} = ... yourself"
        return (
            f"Plugins {self.holder!r} and {self.challenger!r} (both {self.layer} "
            f"plugins) each provide {where} through {self.hook}; within one layer "
            f"neither outranks the other ({self.holder!r} was called first and holds "
            f"it for now). To settle it, {fix}, or disable one of them: "
            f"{disable_advice(self.challenger)}."
        )


def slot_error(
    target: str | Sequence[str], key: object, problem: str, owner: str, hook: str | None = None
) -> str:
    """Explain a wrongly typed slot, naming who filled it (a plugin or the app).

    ``target`` is the app mapping (``"resp_options.media_handlers"``), or all
    the mappings one entry is written into.
    """
    paths = [target] if isinstance(target, str) else list(target)
    where = " and ".join(f"app.{path}[{_subscript(key)}]" for path in paths)
    if owner == APP_OWNER:
        return f"{where} was set by the app: {problem}. Assign a value of the right type."
    via = f" through {hook}" if hook else ""
    return (
        f"Plugin {owner!r} put a wrong value in {where}{via}: {problem}. Fix the "
        f"plugin, or disable it: {disable_advice(owner)}."
    )


def _subscript(key: object) -> str:
    """Return ``key`` as the app author would write it between brackets."""
    if isinstance(key, WebSocketPayloadType):
        return f"WebSocketPayloadType.{key.name}"
    return repr(key) if isinstance(key, str) else show_key(key)


def show_key(key: object) -> str:
    """Return a key as messages and ``lanner plugins --app`` show it."""
    if isinstance(key, WebSocketPayloadType):
        return key.name
    if isinstance(key, type):
        return key.__qualname__ if key.__module__ == "builtins" else _qualname(key)
    return key if isinstance(key, str) else repr(key)


def prefix_text(prefix: str | re.Pattern[str]) -> str:
    """Return a sink prefix as text, the key sinks are compared by."""
    return prefix.pattern if isinstance(prefix, re.Pattern) else prefix


def short_repr(value: object) -> str:
    """Return a short, stable description: the qualified name of a function, or a type."""
    if isinstance(value, type | types.FunctionType | types.BuiltinFunctionType):
        return _qualname(value)
    if isinstance(value, types.MethodType):
        return _qualname(value.__func__)
    if isinstance(value, str | re.Pattern):
        return repr(value)
    return _qualname(type(value))


def _qualname(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"
