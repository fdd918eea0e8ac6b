"""Combining the plugins' hook results into what the App installs.

Keyed contributions (media handlers, error handlers) are written into the
app's option mappings lowest layer first, so a higher layer overrides a lower
one and a key the app author set is never overwritten. Within a layer the
plugin called first keeps a contested key and the clash is recorded as a
:class:`~lanner.plugins._model.PluginConflict`, for the App to raise at
freeze unless someone above both settles it. Sinks follow the same rules by
prefix; middleware and lifespans simply add up in call order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, cast

from lanner._owned import OwnedDict
from lanner.plugins._loading import Loaded
from lanner.plugins._model import (
    Layer,
    PluginConflict,
    mapping_entries,
    prefix_text,
    sequence_result,
    sink_pair,
)
from lanner.plugins.hookspecs import Sink

if TYPE_CHECKING:
    from lanner.app import App

__all__ = ["LAYERS", "Contribution", "Merged", "merge"]

LAYERS: Final[tuple[Layer, ...]] = ("default", "installed", "in-process")
"""The precedence layers, lowest first."""

_KEYED_HOOKS: Final = (
    "lanner_http_media_handlers",
    "lanner_ws_media_handlers",
    "lanner_error_handlers",
)


@dataclass(frozen=True)
class Contribution:
    """One key a plugin provided, whether or not it ended up in use.

    Attributes:
        plugin: The plugin that provided it.
        hook: The hook it came from.
        target: Where it goes, such as ``"ws_options.media_handlers"`` or ``"sinks"``.
        key: The key (a media type, payload type, exception class or sink prefix).
        value: What the plugin gave for the key.
        mapping: The app mapping the key lives in; ``None`` for sinks.
    """

    plugin: str
    hook: str
    target: str
    key: object
    value: object
    mapping: OwnedDict[Any, Any] | None = field(repr=False)


@dataclass
class Merged:
    """What the plugins' hook results add up to.

    Attributes:
        middleware: All plugins' middleware, in call order.
        middleware_owners: The plugin that gave each of ``middleware``.
        lifespans: The plugins' lifespan context managers, in call order.
        lifespan_owners: The plugin that gave each of ``lifespans``.
        sinks: ``(prefix, sink, owner)`` triples, highest precedence first.
        conflicts: Keys two plugins of one layer both provided.
        contributions: Every key every plugin provided, in the order applied.
        typed_slots: ``(target, mapping)`` pairs whose values are type-checked at freeze.
    """

    middleware: list[object] = field(default_factory=list)
    middleware_owners: list[str] = field(default_factory=list)
    lifespans: list[AbstractAsyncContextManager[Any]] = field(default_factory=list)
    lifespan_owners: list[str] = field(default_factory=list)
    sinks: list[tuple[str | re.Pattern[str], Sink, str]] = field(default_factory=list)
    conflicts: list[PluginConflict] = field(default_factory=list)
    contributions: list[Contribution] = field(default_factory=list)
    typed_slots: list[tuple[str, OwnedDict[Any, Any]]] = field(default_factory=list)


def merge(app: App, results: Mapping[str, list[tuple[Loaded, object]]]) -> Merged:
    """Combine every hook's results and write the keyed ones into ``app``'s mappings.

    Args:
        app: The App being built; its option mappings and ``error_handlers``
            receive the keyed contributions.
        results: For each hook but ``lanner_configure``, the ``(plugin, result)``
            pairs of the plugins that returned something, in call order.

    Raises:
        TypeError: A hook returned something of the wrong shape.
    """
    merged = Merged()
    _collect_lists(merged, results)
    _apply_keyed(merged, app, results)
    return merged


def _collect_lists(merged: Merged, results: Mapping[str, list[tuple[Loaded, object]]]) -> None:
    for plugin, result in results["lanner_lifespan"]:
        if not (hasattr(result, "__aenter__") and hasattr(result, "__aexit__")):
            raise plugin.origin.shape_error("lanner_lifespan", "an async context manager", result)
        merged.lifespans.append(cast("AbstractAsyncContextManager[Any]", result))
        merged.lifespan_owners.append(plugin.name)
    for plugin, result in results["lanner_middleware"]:
        for mw in sequence_result(plugin.origin, "lanner_middleware", result, "middleware objects"):
            merged.middleware.append(mw)
            merged.middleware_owners.append(plugin.name)


def _apply_keyed(
    merged: Merged,
    app: App,
    results: Mapping[str, list[tuple[Loaded, object]]],
) -> None:
    targets: dict[str, list[tuple[str, OwnedDict[Any, Any]]]] = {
        "lanner_http_media_handlers": [
            ("req_options.media_handlers", app.req_options.media_handlers),
            ("resp_options.media_handlers", app.resp_options.media_handlers),
        ],
        "lanner_ws_media_handlers": [("ws_options.media_handlers", app.ws_options.media_handlers)],
        "lanner_error_handlers": [("error_handlers", app.error_handlers)],
    }
    merged.typed_slots = [slot for hook in _KEYED_HOOKS for slot in targets[hook]]
    sinks_by_layer: dict[Layer, list[tuple[str | re.Pattern[str], Sink, str]]] = {}
    for layer in LAYERS:
        claims: dict[tuple[str, object], str] = {}
        for hook in _KEYED_HOOKS:
            for plugin, result in results[hook]:
                if plugin.layer != layer:
                    continue
                for key, value in mapping_entries(plugin.origin, hook, result):
                    for target, mapping in targets[hook]:
                        _contribute(merged, plugin, hook, target, mapping, key, value, claims)
        sinks_by_layer[layer] = _layer_sinks(merged, layer, results["lanner_sinks"], claims)
    for layer in reversed(LAYERS):
        merged.sinks.extend(sinks_by_layer[layer])


def _contribute(
    merged: Merged,
    plugin: Loaded,
    hook: str,
    target: str,
    mapping: OwnedDict[Any, Any],
    key: object,
    value: object,
    claims: dict[tuple[str, object], str],
) -> None:
    holder = claims.get((target, key))
    merged.contributions.append(Contribution(plugin.name, hook, target, key, value, mapping))
    if holder is not None:
        merged.conflicts.append(
            PluginConflict(plugin.layer, hook, target, key, holder, plugin.name, mapping)
        )
        return
    claims[(target, key)] = plugin.name
    mapping.contribute(key, value, plugin.name)


def _layer_sinks(
    merged: Merged,
    layer: Layer,
    results: list[tuple[Loaded, object]],
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
            merged.contributions.append(
                Contribution(plugin.name, "lanner_sinks", "sinks", key, sink, None)
            )
            if holder is not None:
                merged.conflicts.append(
                    PluginConflict(layer, "lanner_sinks", "sinks", key, holder, plugin.name)
                )
                continue
            claims[("sinks", key)] = plugin.name
            sinks.append((prefix, sink, plugin.name))
    return sinks
