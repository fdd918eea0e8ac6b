"""Hook specifications: the contract between lanner and its plugins.

A plugin is a module (or any object) with functions marked ``@lanner.hookimpl``
whose names are the hooks below. Every hook runs synchronously, once per
``App``, while the app is assembled inside ``App()``; none runs per request or
per message. Hooks *return objects* (middleware, handlers, context managers),
and those objects do the work at run time.

Plugins are called layer by layer: the default plugins (``lanner.json``,
``lanner.msgpack``, ``lanner.errors``, ``lanner.memory``), then installed plugins
(in the order ``LANNER_PLUGINS`` or ``autoload_plugins=[...]`` lists them, else by
entry-point name), then in-process plugins in ``App(plugins=[...])`` order. For
keyed results (media handlers, error handlers, sink prefixes, broadcast schemes) a
higher layer overrides a lower one, the app author's own settings override every
plugin, and two plugins of one layer claiming the same key raise
``PluginConflictError`` when the app starts, unless the app author set that
key. A hook may return ``None`` to contribute nothing; a hook may also leave
out the ``app`` parameter if it does not need it.

The hooks are listed here in the order lanner calls them. Each one also has a
record in lanner's hook table (``lanner/plugins/_hooks.py``) saying how its
results combine; a new hook needs both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Final

import pluggy

from lanner._types import ErrorHandler, Sink

if TYPE_CHECKING:
    from lanner.app import App
    from lanner.broadcast.backend import BackendFactory
    from lanner.media.base import BaseHandler, BinaryBaseHandlerWS, TextBaseHandlerWS
    from lanner.ws_options import WebSocketPayloadType

__all__ = [
    "ErrorHandler",
    "Sink",
    "hookimpl",
    "lanner_broadcast_backends",
    "lanner_configure",
    "lanner_error_handlers",
    "lanner_http_media_handlers",
    "lanner_lifespan",
    "lanner_middleware",
    "lanner_sinks",
    "lanner_ws_media_handlers",
]

PROJECT_NAME: Final = "lanner"
"""The pluggy project name, and the entry-point group plugins register under."""

hookspec: Final = pluggy.HookspecMarker(PROJECT_NAME)
"""Marks a hook specification in this module."""

hookimpl: Final = pluggy.HookimplMarker(PROJECT_NAME)
"""Marks a plugin's hook implementation: ``@lanner.hookimpl``."""


@hookspec
def lanner_configure(app: App) -> None:
    """Validate this plugin's configuration and fail fast.

    Runs first, once per App, before every other hook, in plugin call order.
    Read the section with ``app.plugin_config("<plugin name>")`` (``{"$env": ...}``
    and ``{"$file": ...}`` references are already resolved) and raise an
    exception with a helpful message for a missing or unknown key: the error
    reaches the caller of ``App()`` unchanged. The return value is ignored.

    Args:
        app: The app being assembled; its options already exist.
    """


@hookspec
def lanner_lifespan(app: App) -> AbstractAsyncContextManager[Any] | None:
    """Return an async context manager that lives as long as the app serves.

    Called once per App at assembly. The managers of all plugins are entered
    at lifespan startup in call order (before any middleware
    ``process_startup``), and exited in reverse order at shutdown (after
    ``process_shutdown``). Return ``None`` for no lifespan work.

    Args:
        app: The app being assembled.

    Returns:
        An object with ``__aenter__`` and ``__aexit__`` (for instance the result
        of a ``contextlib.asynccontextmanager`` function), or ``None``.
    """


@hookspec
def lanner_middleware(app: App) -> Sequence[object] | None:
    """Return middleware objects to add around the app's own middleware.

    Called once per App at assembly. The results of all plugins are
    concatenated in call order (defaults, installed plugins by name, in-process
    plugins in the given order) and this block wraps the middleware the app
    author added: plugin middleware sees a request first and a response last.

    Args:
        app: The app being assembled.

    Returns:
        A sequence of middleware objects (with ``process_request``,
        ``process_resource``, ``process_response``, ``process_request_ws``, ...
        as the app's own middleware), or ``None``.
    """


@hookspec
def lanner_http_media_handlers(app: App) -> Mapping[str, BaseHandler] | None:
    """Return HTTP media handlers by media type, such as ``"application/cbor"``.

    Called once per App at assembly. Each entry is written into both
    ``app.req_options.media_handlers`` and ``app.resp_options.media_handlers``;
    a higher layer overrides a lower one per media type, and the app author's
    own assignment overrides every plugin.

    Args:
        app: The app being assembled.

    Returns:
        A mapping from bare media type to a ``lanner.media.BaseHandler``, or
        ``None``.
    """


@hookspec
def lanner_ws_media_handlers(
    app: App,
) -> Mapping[WebSocketPayloadType, TextBaseHandlerWS | BinaryBaseHandlerWS] | None:
    """Return WebSocket media handlers by payload type.

    Called once per App at assembly; entries land in
    ``app.ws_options.media_handlers``, a higher layer overriding a lower one
    per slot. The TEXT slot takes a ``TextBaseHandlerWS`` and the BINARY slot
    a ``BinaryBaseHandlerWS``; any other value is a ``TypeError`` naming the
    plugin. Return a slot only when the app opts in through the plugin's
    config: an installed distribution never changes the WebSocket wire format
    of an app that did not ask for it.

    Args:
        app: The app being assembled.

    Returns:
        A mapping from ``WebSocketPayloadType`` to a handler, or ``None``.
    """


@hookspec
def lanner_error_handlers(app: App) -> Mapping[type[BaseException], ErrorHandler] | None:
    """Return error handlers by exception class.

    Called once per App at assembly; entries land in ``app.error_handlers``, a
    higher layer overriding a lower one per class. When an error occurs, lanner
    walks the exception's MRO and uses the most specific class that has a
    handler, whichever layer it came from.

    Args:
        app: The app being assembled.

    Returns:
        A mapping from exception class to an async error handler, or ``None``.
    """


@hookspec
def lanner_sinks(app: App) -> Sequence[tuple[str | re.Pattern[str], Sink]] | None:
    """Return sinks as ``(prefix, sink)`` pairs.

    Called once per App at assembly. A prefix is a regular expression matched
    at the start of the path. Routes always beat sinks; among plugin sinks,
    higher layers are tried first, and within a layer the plugin called first.
    Two plugins of one layer giving the same prefix conflict.

    Args:
        app: The app being assembled.

    Returns:
        A sequence of ``(prefix, sink)`` pairs, or ``None``.
    """


@hookspec
def lanner_broadcast_backends(app: App) -> Mapping[str, BackendFactory] | None:
    """Return broadcast backend factories by bare URL scheme, such as ``"redis"``.

    Called once per App at assembly; entries land in ``app.broadcast_backends``,
    a higher layer overriding a lower one per scheme. ``App()`` then picks the
    factory for the scheme of its broadcast URL (``App(broadcast=URL)``, else
    ``LANNER_BROADCAST_URL``, else ``memory://``, which the default plugin
    ``lanner.memory`` provides) and calls it as ``factory(url, app)``: it returns a
    ``lanner.BroadcastBackend`` and raises ``ValueError`` for an option it does
    not know.

    Args:
        app: The app being assembled.

    Returns:
        A mapping from scheme (no ``://``) to backend factory, or ``None``.
    """
