"""Finding installed plugins, and deciding which of them may load.

The scan of the ``lanner`` entry-point group happens at the first ``App()``
that wants installed plugins (never at import), and is cached for the process:
installing a distribution while a process runs has no effect on it. Deciding
which plugins load only reads names and the environment; nothing here imports
a plugin, so a disabled plugin is never imported.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Final

from lanner.plugins.hookspecs import PROJECT_NAME

__all__ = [
    "ALLOW_ENV",
    "AUTOLOAD_OFF_ENV",
    "DISABLE_ENV",
    "ENTRY_POINT_GROUP",
    "RESERVED_PREFIX",
    "Selection",
    "clear_cache",
    "distribution_of",
    "env_list",
    "env_names",
    "env_switch",
    "scan",
    "select",
]

ENTRY_POINT_GROUP: Final = PROJECT_NAME
"""The entry-point group installed plugins register under."""

RESERVED_PREFIX: Final = "lanner."
"""Plugin names starting with this belong to lanner's own default plugins."""

AUTOLOAD_OFF_ENV: Final = "LANNER_DISABLE_PLUGIN_AUTOLOAD"
"""Set to ``1`` to load no installed plugin, whatever the code asks for."""

ALLOW_ENV: Final = "LANNER_PLUGINS"
"""Comma-separated entry-point names: only these installed plugins may load."""

DISABLE_ENV: Final = "LANNER_DISABLE_PLUGINS"
"""Comma-separated plugin names that must not load."""

_FALSE_WORDS: Final = frozenset({"", "0", "false", "no", "off"})

_cache: tuple[EntryPoint, ...] | None = None


def scan() -> tuple[EntryPoint, ...]:
    """Return the installed ``lanner`` entry points, sorted by name; cached.

    The same distribution found twice on ``sys.path`` (say, an editable and a
    regular install) yields its entry point once.
    """
    global _cache
    if _cache is None:
        seen: dict[tuple[str, str], EntryPoint] = {}
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            seen.setdefault((ep.name, ep.value), ep)
        _cache = tuple(sorted(seen.values(), key=lambda ep: ep.name))
    return _cache


def clear_cache() -> None:
    """Forget the scan, so the next :func:`scan` looks again (for tests)."""
    global _cache
    _cache = None


def distribution_of(ep: EntryPoint) -> tuple[str | None, str | None]:
    """Return ``(distribution name, version)`` of an entry point, if known."""
    dist = ep.dist
    if dist is None:
        return None, None
    return dist.name, dist.version


def env_switch(variable: str) -> bool:
    """Return whether a boolean environment switch is on.

    Any value other than empty, ``0``, ``false``, ``no`` or ``off`` counts as
    on: a switch that disables something errs on the side of disabling.
    """
    return os.environ.get(variable, "").strip().lower() not in _FALSE_WORDS


def env_names(variable: str) -> frozenset[str]:
    """Return the comma-separated names in an environment variable."""
    return frozenset(env_list(variable))


def env_list(variable: str) -> tuple[str, ...]:
    """Return the comma-separated names in an environment variable, in order, once each."""
    names = (n.strip() for n in os.environ.get(variable, "").split(","))
    return tuple(dict.fromkeys(n for n in names if n))


@dataclass(frozen=True)
class Selection:
    """Which plugins may load, from code arguments and the environment.

    Attributes:
        autoload: Whether installed plugins may load at all.
        allow: Installed plugin names allowed to load, or ``None`` for all.
        disabled: Names that must not load, in any layer.
        order: The call order the app author chose for installed plugins
            (``LANNER_PLUGINS``, else ``autoload_plugins=[...]``); empty for
            name order.
        named: Where each allow-list came from and what it named, for the
            check that every name is installed.
    """

    autoload: bool
    allow: frozenset[str] | None
    disabled: frozenset[str]
    order: tuple[str, ...] = ()
    named: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def ordered(self, found: Iterable[EntryPoint]) -> list[EntryPoint]:
        """Return the installed entry points this selection loads, in call order.

        Names listed in :attr:`order` come first, in that order; any other
        (only possible without an allow-list) follow in name order.
        """
        allowed = [ep for ep in found if self.allows_installed(ep.name)]
        position = {name: i for i, name in enumerate(self.order)}
        return sorted(allowed, key=lambda ep: (position.get(ep.name, len(position)), ep.name))

    def allows_installed(self, name: str) -> bool:
        """Return whether the installed plugin ``name`` may load."""
        return (
            self.autoload
            and (self.allow is None or name in self.allow)
            and name not in self.disabled
        )


def select(
    autoload: bool | Iterable[str] = True,
    disable: Iterable[str] = (),
    *,
    essential: Collection[str] = (),
) -> Selection:
    """Combine code arguments and environment into one :class:`Selection`.

    Disabling always wins: ``LANNER_DISABLE_PLUGIN_AUTOLOAD`` turns installed
    plugins off whatever ``autoload`` says; an allow-list from code
    (``autoload=[names]``) and one from ``LANNER_PLUGINS`` both apply; names in
    ``disable`` and ``LANNER_DISABLE_PLUGINS`` add up. The order of
    ``LANNER_PLUGINS``, else of ``autoload``, is the call order of installed
    plugins.

    Args:
        autoload: ``True`` (all installed plugins), ``False`` (none) or the
            names of the installed plugins that may load.
        disable: Plugin names that must not load.
        essential: Names that cannot be disabled.

    Raises:
        TypeError: ``autoload`` or ``disable`` is a plain string.
        ValueError: An essential plugin is named for disabling.
    """
    if isinstance(autoload, str) or isinstance(disable, str):
        raise TypeError(
            "autoload_plugins and disable_plugins take a list of plugin names, found "
            f"the string {autoload if isinstance(autoload, str) else disable!r}; "
            'write ["name"].'
        )
    disabled = frozenset(disable) | env_names(DISABLE_ENV)
    blocked = disabled & frozenset(essential)
    if blocked:
        raise ValueError(
            f"The plugin {min(blocked)!r} cannot be disabled: it provides lanner's default "
            "error handling, which HTTP and WebSocket correctness rely on. Remove it "
            f"from disable_plugins / {DISABLE_ENV}; to change how an error is "
            "handled, use app.add_error_handler(ExceptionClass, handler)."
        )
    allow: frozenset[str] | None = None
    order: tuple[str, ...] = ()
    named: list[tuple[str, tuple[str, ...]]] = []
    if autoload is not True and autoload is not False:
        order = tuple(dict.fromkeys(autoload))
        allow = frozenset(order)
        named.append(("autoload_plugins", order))
    env_allow = env_list(ALLOW_ENV)
    if env_allow:
        allow = frozenset(env_allow) if allow is None else allow & frozenset(env_allow)
        order = env_allow  # the environment is where the deployer chooses the order
        named.append((ALLOW_ENV, env_allow))
    return Selection(
        autoload=autoload is not False and not env_switch(AUTOLOAD_OFF_ENV),
        allow=allow,
        disabled=disabled,
        order=order,
        named=tuple(named),
    )
