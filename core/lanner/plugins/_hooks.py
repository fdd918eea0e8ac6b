"""The hook table: what each hook is, in one place.

One record per hook, in call order, says what a plugin returns from it and how
the results of several plugins combine:

- :class:`EffectHook`: called for its effect, the result ignored (``lanner_configure``);
- :class:`SequenceHook`: items added to one of the assembly's lists; unkeyed
  items add up in call order (middleware, lifespans), keyed items (sinks, by
  prefix) are claimed within a layer and listed highest layer first;
- :class:`MappingHook`: keyed entries written into the app's mappings, a
  higher layer overriding a lower one, and a slot check for every value.

Calling (:mod:`._calls`), merging (:mod:`._merge`), the slot checks at freeze
and the ``lanner plugins`` report (:mod:`._assembly`), name validation
(:mod:`._loading`) and the hook reference test all read :data:`HOOKS`. Adding a
hook is its specification in :mod:`lanner.plugins.hookspecs` plus one record
here (docs/writing_plugins.md, "Adding a hook to lanner").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, TypeAlias, cast

from lanner._checks import ERROR_HANDLER_SHAPE, is_error_handler
from lanner._middleware import check_middleware
from lanner.media.base import BaseHandler, BinaryBaseHandlerWS, TextBaseHandlerWS
from lanner.media.handlers import bare_media_type
from lanner.plugins._model import PluginSource, prefix_text, short_repr, slot_error
from lanner.ws_options import WebSocketPayloadType

__all__ = [
    "HOOKS",
    "HOOK_NAMES",
    "EffectHook",
    "Hook",
    "MappingHook",
    "SequenceHook",
    "SlotCheck",
    "hook_named",
    "slot",
]

SlotCheck: TypeAlias = Callable[[object, object], "str | None"]
"""Says what is wrong with ``target[key] = value``, or ``None`` if it fits."""

ItemCheck: TypeAlias = Callable[[PluginSource, str, object], object]
"""Checks one item a plugin returned from a hook (raising ``TypeError``) and returns it."""


@dataclass(frozen=True)
class EffectHook:
    """A hook called for its effect: each plugin once, in call order; results ignored.

    Attributes:
        name: The hook's name, as in ``hookspecs``.
    """

    name: str


@dataclass(frozen=True)
class SequenceHook:
    """A hook whose results are items of one of the assembly's lists.

    Attributes:
        name: The hook's name, as in ``hookspecs``.
        target: The :class:`~lanner.plugins.PluginAssembly` list it fills.
        what: What the items are, for messages ("middleware objects").
        check: Checks one item and returns it.
        one: ``True`` if a plugin returns one item rather than a list of them.
        key: For keyed items, ``item -> (key, value shown in reports)``. Two
            plugins of one layer giving one key conflict (the first called keeps
            it), and the list is ordered highest layer first, because its items
            are tried in order. Unkeyed items are listed in call order.
        settle: For keyed items: how the app author settles a conflict on
            ``{key}``, the end of a sentence.
    """

    name: str
    target: str
    what: str
    check: ItemCheck
    one: bool = False
    key: Callable[[object], tuple[str, object]] | None = None
    settle: str = ""

    def items(self, source: PluginSource, result: object) -> list[object]:
        """Return the checked items of one plugin's result.

        Raises:
            TypeError: The result or an item has the wrong shape.
        """
        if self.one:
            return [self.check(source, self.name, result)]
        if isinstance(result, str | bytes) or not isinstance(result, Sequence):
            raise source.shape_error(self.name, f"a list of {self.what}", result)
        return [self.check(source, self.name, item) for item in result]


@dataclass(frozen=True)
class MappingHook:
    """A hook returning a mapping whose entries fill keyed slots of the app.

    Attributes:
        name: The hook's name, as in ``hookspecs``.
        target: What it fills, as messages name it (``"ws_options.media_handlers"``).
        slot: The slot type: what is wrong with a key or value, or ``None``. It
            checks plugin results at assembly and every value at freeze.
        mappings: The app attributes (dotted paths to ``OwnedDict`` mappings)
            each entry is written into; by default ``target`` alone.
        normalise: Turns a key into the form the mapping stores it in, so two
            spellings of one key claim the same slot.
    """

    name: str
    target: str
    slot: SlotCheck
    mappings: tuple[str, ...] = ()
    normalise: Callable[[object], object] | None = None

    @property
    def paths(self) -> tuple[str, ...]:
        """The app mappings this hook writes into."""
        return self.mappings or (self.target,)

    def entries(self, source: PluginSource, result: object) -> Iterator[tuple[object, object]]:
        """Yield the checked, normalised ``(key, value)`` pairs of one plugin's result.

        Raises:
            TypeError: The result is not a mapping, or an entry does not fit its slot.
        """
        if not isinstance(result, Mapping):
            raise source.shape_error(self.name, "a mapping (dict)", result)
        for key, value in result.items():
            if self.normalise is not None:
                key = self.normalise(key)
            problem = self.slot(key, value)
            if problem is not None:
                raise TypeError(slot_error(self.paths, key, problem, source.name, self.name))
            yield key, value


Hook: TypeAlias = EffectHook | SequenceHook | MappingHook
"""One record of the hook table."""


# -- slot types and item checks ------------------------------------------------------


def slot(
    key: Callable[[object], bool], key_is: str, value: Callable[[object], bool], value_is: str
) -> SlotCheck:
    """Return a slot check: keys must pass ``key``, values ``value``.

    Args:
        key: Whether a key fits.
        key_is: What a key must be, for messages ("a media type string").
        value: Whether a value fits.
        value_is: The rule for values, for messages ("a media handler must be ...").
    """

    def check(k: object, v: object) -> str | None:
        if not key(k):
            return f"the key must be {key_is}, found {k!r}"
        if not value(v):
            return f"{value_is}, found {short_repr(v)}"
        return None

    return check


def _ws_media_slot(key: object, value: object) -> str | None:
    if key is WebSocketPayloadType.TEXT:
        ok, expected = isinstance(value, TextBaseHandlerWS), "a TextBaseHandlerWS"
    elif key is WebSocketPayloadType.BINARY:
        ok, expected = isinstance(value, BinaryBaseHandlerWS), "a BinaryBaseHandlerWS"
    else:
        return f"the key must be WebSocketPayloadType.TEXT or .BINARY, found {key!r}"
    return None if ok else f"the {key.name} slot takes {expected}, found {short_repr(value)}"


def _media_type(key: object) -> object:
    """Store media types as the registries do (``bare_media_type``): bare and lower-case."""
    return bare_media_type(key) if isinstance(key, str) else key


def _is_scheme(key: object) -> bool:
    return isinstance(key, str) and re.fullmatch(r"[a-z][a-z0-9+.-]*", key) is not None


def _scheme(key: object) -> object:
    """Store schemes as URLs compare them: lower-case."""
    return key.lower() if isinstance(key, str) else key


def _is_exception_class(key: object) -> bool:
    return isinstance(key, type) and issubclass(key, BaseException)


def _lifespan(source: PluginSource, hook: str, item: object) -> object:
    if not (hasattr(item, "__aenter__") and hasattr(item, "__aexit__")):
        raise source.shape_error(hook, "an async context manager", item)
    return item


def _middleware(source: PluginSource, hook: str, item: object) -> object:
    """Check plugin middleware as ``App(middleware=...)`` checks the app's own."""
    try:
        check_middleware(item)
    except TypeError as exc:
        raise TypeError(
            f"Plugin {source.label()} returned unusable middleware from {hook}: {exc} "
            f"Fix the plugin. {source.how_to_disable()}"
        ) from exc
    return item


def _sink_pair(source: PluginSource, hook: str, item: object) -> object:
    expected = "a (prefix, sink) pair: a str or re.Pattern prefix and an async callable"
    if not (isinstance(item, tuple) and len(item) == 2):
        raise source.shape_error(hook, expected, item)
    prefix, sink = item
    if not isinstance(prefix, str | re.Pattern) or not callable(sink):
        raise source.shape_error(hook, expected, item)
    if isinstance(prefix, str):
        try:
            re.compile(prefix)
        except re.error as exc:
            raise source.shape_error(
                hook, f"a valid regular expression as prefix ({exc})", prefix
            ) from exc
    return item


def _sink_key(item: object) -> tuple[str, object]:
    prefix, sink = cast("tuple[str | re.Pattern[str], object]", item)  # checked by _sink_pair
    return prefix_text(prefix), sink


# -- the table -------------------------------------------------------------------------

HOOKS: Final[tuple[Hook, ...]] = (
    EffectHook("lanner_configure"),
    SequenceHook("lanner_lifespan", "lifespans", "async context managers", _lifespan, one=True),
    SequenceHook("lanner_middleware", "middleware", "middleware objects", _middleware),
    MappingHook(
        "lanner_http_media_handlers",
        "media_handlers",
        slot(
            lambda k: isinstance(k, str),
            "a media type string",
            lambda v: isinstance(v, BaseHandler),
            "a media handler must be a lanner.media.BaseHandler",
        ),
        mappings=("req_options.media_handlers", "resp_options.media_handlers"),
        normalise=_media_type,
    ),
    MappingHook("lanner_ws_media_handlers", "ws_options.media_handlers", _ws_media_slot),
    MappingHook(
        "lanner_error_handlers",
        "error_handlers",
        slot(
            _is_exception_class,
            "an exception class",
            is_error_handler,
            f"an error handler must be {ERROR_HANDLER_SHAPE}",
        ),
    ),
    SequenceHook(
        "lanner_sinks",
        "sinks",
        "(prefix, sink) pairs",
        _sink_pair,
        key=_sink_key,
        settle="add your own sink for {key!r} with app.add_sink(...)",
    ),
    MappingHook(
        "lanner_broadcast_backends",
        "broadcast_backends",
        slot(
            _is_scheme,
            "a bare URL scheme such as 'redis' (no '://')",
            callable,
            "a broadcast backend factory must be callable as factory(url, app)",
        ),
        normalise=_scheme,
    ),
)
"""Every hook, in the order lanner calls them during assembly."""

HOOK_NAMES: Final[tuple[str, ...]] = tuple(hook.name for hook in HOOKS)
"""The names of :data:`HOOKS`, in call order."""

_BY_NAME: Final = {hook.name: hook for hook in HOOKS}


def hook_named(name: str) -> Hook:
    """Return the record of the hook called ``name``."""
    return _BY_NAME[name]
