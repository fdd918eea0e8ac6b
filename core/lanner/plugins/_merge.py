"""Combining the plugins' hook results into what the App installs, as the hook table says.

Mapping hooks write their entries into the app's mappings lowest layer first,
so a higher layer overrides a lower one and a key the app author set is never
overwritten. Within a layer the plugin called first keeps a contested key and
the clash is recorded as a :class:`~lanner.plugins._model.PluginConflict`, for
the App to raise at freeze unless someone above both settles it. Keyed
sequence items (sinks, by prefix) follow the same rules and are listed highest
layer first; unkeyed ones (middleware, lifespans) simply add up in call order.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from lanner._owned import OwnedDict
from lanner.plugins._hooks import HOOKS, MappingHook, SequenceHook
from lanner.plugins._loading import LoadedPlugin
from lanner.plugins._model import LAYERS, PluginConflict, show_key

if TYPE_CHECKING:
    from lanner.app import App

__all__ = ["Claim", "Contributions", "merge"]

Results = Mapping[str, list[tuple[LoadedPlugin, object]]]
"""Per hook, the ``(plugin, result)`` pairs of the plugins that returned something."""


@dataclass(frozen=True)
class Claim:
    """One key a plugin provided, whether or not it ended up in use.

    Attributes:
        plugin: The plugin that provided it.
        hook: The hook it came from.
        target: Where it goes, such as ``"ws_options.media_handlers"`` or ``"sinks"``.
        key: The key (a media type, payload type, exception class or sink prefix).
        value: What the plugin gave for the key.
        mapping: The app mapping the key lives in; ``None`` for an assembly list.
    """

    plugin: str
    hook: str
    target: str
    key: object
    value: object
    mapping: OwnedDict[Any, Any] | None = field(repr=False)


@dataclass
class Contributions:
    """What the plugins' hook results add up to.

    Attributes:
        lists: Per sequence target (``"middleware"``, ``"lifespans"``,
            ``"sinks"``), ``(owner, item)`` pairs in the order they apply.
        conflicts: Keys two plugins of one layer both provided.
        claims: Every key every plugin provided, in the order applied.
        mappings: ``(hook, path, mapping)`` for every app mapping a hook fills;
            their values are slot-checked at freeze.
    """

    lists: dict[str, list[tuple[str, object]]] = field(
        default_factory=lambda: {h.target: [] for h in HOOKS if isinstance(h, SequenceHook)}
    )
    conflicts: list[PluginConflict] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    mappings: list[tuple[MappingHook, str, OwnedDict[Any, Any]]] = field(default_factory=list)


_MAPPING_HOOKS: Final = tuple(h for h in HOOKS if isinstance(h, MappingHook))
_UNKEYED_HOOKS: Final = tuple(h for h in HOOKS if isinstance(h, SequenceHook) and h.key is None)
_KEYED_HOOKS: Final[tuple[MappingHook | SequenceHook, ...]] = tuple(
    h for h in HOOKS if isinstance(h, MappingHook) or (isinstance(h, SequenceHook) and h.key)
)
"""Mapping hooks and keyed sequences, in table order: applied layer by layer."""


def merge(app: App, results: Results) -> Contributions:
    """Combine every hook's results and write the keyed ones into ``app``'s mappings.

    Args:
        app: The App being built; the mappings the hook table names receive
            the keyed contributions.
        results: For each hook, the ``(plugin, result)`` pairs of the plugins
            that returned something, in call order.

    Raises:
        TypeError: A hook returned something of the wrong shape.
    """
    merged = Contributions()
    paths: dict[str, list[tuple[str, OwnedDict[Any, Any]]]] = {}
    for mapping_hook in _MAPPING_HOOKS:
        found = [(path, _mapping(app, path)) for path in mapping_hook.paths]
        paths[mapping_hook.name] = found
        merged.mappings.extend((mapping_hook, path, mapping) for path, mapping in found)
    for sequence in _UNKEYED_HOOKS:
        for plugin, result in results[sequence.name]:
            for item in sequence.items(plugin.source, result):
                merged.lists[sequence.target].append((plugin.name, item))
    keyed_lists: dict[str, list[list[tuple[str, object]]]] = {}
    for layer in LAYERS:
        holders: dict[tuple[str, object], str] = {}
        for hook in _KEYED_HOOKS:
            layer_results = [(p, r) for p, r in results[hook.name] if p.layer == layer]
            if isinstance(hook, MappingHook):
                _apply_mapping(merged, hook, paths[hook.name], layer_results, holders)
            else:
                kept = _claim_items(merged, hook, layer_results, holders)
                keyed_lists.setdefault(hook.target, []).append(kept)
    for target, per_layer in keyed_lists.items():
        for kept in reversed(per_layer):  # tried in order: the highest layer first
            merged.lists[target].extend(kept)
    return merged


def _mapping(app: App, path: str) -> OwnedDict[Any, Any]:
    mapping = operator.attrgetter(path)(app)
    if not isinstance(mapping, OwnedDict):
        raise TypeError(f"app.{path} must be an OwnedDict to take plugin contributions")
    return mapping


def _apply_mapping(
    merged: Contributions,
    hook: MappingHook,
    paths: list[tuple[str, OwnedDict[Any, Any]]],
    results: list[tuple[LoadedPlugin, object]],
    holders: dict[tuple[str, object], str],
) -> None:
    for plugin, result in results:
        for key, value in hook.entries(plugin.source, result):
            for path, mapping in paths:
                merged.claims.append(Claim(plugin.name, hook.name, path, key, value, mapping))
                holder = holders.get((path, key))
                if holder is not None:
                    merged.conflicts.append(
                        PluginConflict(
                            plugin.layer, hook.name, path, key, holder, plugin.name, mapping=mapping
                        )
                    )
                    continue
                holders[(path, key)] = plugin.name
                mapping.contribute(key, value, plugin.name)


def _claim_items(
    merged: Contributions,
    hook: SequenceHook,
    results: list[tuple[LoadedPlugin, object]],
    holders: dict[tuple[str, object], str],
) -> list[tuple[str, object]]:
    assert hook.key is not None  # only keyed sequences are claimed
    kept: list[tuple[str, object]] = []
    for plugin, result in results:
        for item in hook.items(plugin.source, result):
            key, shown = hook.key(item)
            merged.claims.append(Claim(plugin.name, hook.name, hook.target, key, shown, None))
            holder = holders.get((hook.target, key))
            if holder is not None:
                settle = hook.settle.format(key=key, where=f"app.{hook.target}[{show_key(key)}]")
                merged.conflicts.append(
                    PluginConflict(
                        plugin.layer, hook.name, hook.target, key, holder, plugin.name, settle
                    )
                )
                continue
            holders[(hook.target, key)] = plugin.name
            kept.append((plugin.name, item))
    return kept
