"""The lanner application: an ASGI 3 callable assembled from routes, middleware and plugins."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable, Mapping, Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from lanner import plugins as _plugins
from lanner._checks import ERROR_HANDLER_SHAPE, is_error_handler
from lanner._frozen import FrozenApp, accepts_ws
from lanner._middleware import check_middleware
from lanner._owned import OwnedDict
from lanner._resources import RouteTarget, build_route_target
from lanner._spec_version import SERVED_SPECS, check_scope, unsupported_scope_type
from lanner._types import ErrorHandler, Receive, Scope, Send, Sink
from lanner._ws_settings import WebSocketSettings
from lanner.broadcast.backend import BackendFactory
from lanner.broadcast.hub import Broadcast
from lanner.broadcast.select import open_broadcast
from lanner.error_handlers import logger
from lanner.options import RequestOptions, ResponseOptions
from lanner.plugins._config import resolve_section
from lanner.routing import CompiledRouter
from lanner.sse import SSEOptions
from lanner.ws_options import WebSocketOptions

if TYPE_CHECKING:
    from lanner.plugins import PluginAssembly

__all__ = ["App"]

_FIELD_NAME = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)")
# Responders take (self, req, resp_or_ws, **fields): a field cannot reuse these names.
_RESERVED_FIELDS = frozenset({"self", "req", "resp", "ws"})


class App:
    """An ASGI application serving HTTP, WebSocket and Server-Sent Events.

    Args:
        middleware: One middleware object or a sequence of them; see
            :meth:`add_middleware`.
        plugins: In-process plugin objects (modules, or instances with
            ``@lanner.hookimpl`` methods), called in this order.
        autoload_plugins: ``True`` loads every installed plugin (entry-point
            group ``lanner``); ``False`` none; a list of names only those, in
            that call order (``LANNER_PLUGINS``, if set, orders them instead).
        disable_plugins: Names of plugins never to load (or import).
        plugin_config: Configuration per plugin name; values may be
            ``{"$env": "VAR"}`` or ``{"$file": "path"}``.
        broadcast: The broadcast backend URL for :attr:`broadcast` (such as
            ``"memory://?history=100"`` or ``"redis://localhost:6379/0"``);
            default ``LANNER_BROADCAST_URL``, else ``"memory://"``.

    The app is assembled when created (plugins are loaded and their
    contributions are visible in ``app.ws_options`` and friends) and frozen at
    its first request or lifespan startup; ``add_*`` after that raises
    ``RuntimeError``.
    """

    def __init__(
        self,
        *,
        middleware: object | Sequence[object] | None = None,
        plugins: Sequence[object] = (),
        autoload_plugins: bool | Sequence[str] = True,
        disable_plugins: Sequence[str] = (),
        plugin_config: Mapping[str, Any] | None = None,
        broadcast: str | None = None,
    ) -> None:
        self.req_options = RequestOptions()
        """How requests are read: media handlers and body size limit."""
        self.resp_options = ResponseOptions()
        """How responses are written: media handlers and default media type."""
        self.ws_options = WebSocketOptions()
        """Options shared by every WebSocket connection."""
        self.sse_options = SSEOptions()
        """Server-Sent Events options (keep-alive ping interval)."""
        self.error_handlers: OwnedDict[type[BaseException], ErrorHandler] = OwnedDict(
            "error handlers"
        )
        """Error handler per exception class, after plugin precedence."""
        self.broadcast_backends: OwnedDict[str, BackendFactory] = OwnedDict("broadcast backends")
        """Broadcast backend factories by URL scheme (the ``lanner_broadcast_backends`` hook)."""
        self._router: CompiledRouter[RouteTarget] = CompiledRouter()
        self._sinks: list[tuple[re.Pattern[str], Sink, bool]] = []
        self._middleware: list[object] = []
        self._plugin_config_raw: dict[str, Any] = dict(plugin_config or {})
        self._plugin_names: tuple[str, ...] = ()
        self._plugin_state: dict[str, SimpleNamespace] = {}
        self._frozen: FrozenApp | None = None
        if middleware is not None:
            self.add_middleware(middleware)
        self._plugins: PluginAssembly = _plugins.assemble(
            self,
            plugins=plugins,
            autoload=autoload_plugins,
            disable=disable_plugins,
            config_sections=self._plugin_config_raw,
            on_loaded=self._set_plugin_names,
        )
        self.broadcast: Broadcast = open_broadcast(broadcast, self, self.broadcast_backends)
        """The broadcast hub: fan-out to WebSockets and SSE streams (see docs/broadcast.md)."""

    def __repr__(self) -> str:
        state = "serving" if self._frozen is not None else "assembling"
        return f"<lanner.App {state}, {len(self._router.templates)} routes>"

    # -- configuration ----------------------------------------------------------

    def plugin_config(self, name: str) -> dict[str, Any]:
        """Return plugin ``name``'s config section with ``$env``/``$file`` resolved.

        Returns an empty dict when the app gives no config for a loaded plugin.
        ``$env`` values are always strings: convert them in the plugin.

        Raises:
            ValueError: ``name`` is neither a loaded plugin nor a section of
                ``plugin_config`` (a typo would otherwise read as "no config").
        """
        self._check_plugin_name(name, "plugin_config")
        return resolve_section(self._plugin_config_raw, name)

    def plugin_state(self, name: str) -> SimpleNamespace:
        """Return plugin ``name``'s state for this app: a namespace it may set attributes on.

        One namespace per plugin and app, created empty on first use, so hooks
        of one plugin can share objects (a connection pool its lifespan opens
        and its middleware uses) without module globals or attributes on the
        app. Other plugins' state is theirs: read it only where documented.

        Raises:
            ValueError: ``name`` is not a loaded plugin.
        """
        self._check_plugin_name(name, "plugin_state", sections=False)
        return self._plugin_state.setdefault(name, SimpleNamespace())

    def _set_plugin_names(self, names: list[str]) -> None:
        self._plugin_names = tuple(names)

    def _check_plugin_name(self, name: str, method: str, *, sections: bool = True) -> None:
        if name in self._plugin_names or (sections and name in self._plugin_config_raw):
            return
        raise ValueError(
            f"app.{method}({name!r}): no loaded plugin is named {name!r} (loaded: "
            f"{', '.join(self._plugin_names) or 'none'}). Use the plugin's name as "
            "`lanner plugins --app` shows it (its entry-point name, or an in-process "
            "plugin's `name` attribute)."
        )

    @property
    def plugin_assembly(self) -> PluginAssembly:
        """The loaded plugins and what each contributed (for tools and tests)."""
        return self._plugins

    def _check_open(self, what: str) -> None:
        if self._frozen is not None:
            raise RuntimeError(
                f"Cannot {what} after the app has started: lanner compiles routes, "
                "middleware, sinks and error handlers into its serving path at the "
                "first request or lifespan startup. Do it before serving the app."
            )

    def add_route(self, uri_template: str, resource: object, *, suffix: str | None = None) -> None:
        """Route ``uri_template`` to ``resource``'s responders.

        Responders are ``async def on_<method>(self, req, resp, **fields)`` and
        ``async def on_websocket(self, req, ws, **fields)``; with ``suffix``,
        ``on_<method>_<suffix>`` (so one class can serve several routes).

        Raises:
            ValueError: The template is malformed or conflicts with a route.
            TypeError: A responder is not ``async def``, or there is none.
            RuntimeError: The app has started.
        """
        self._check_open("add a route")
        for name in _RESERVED_FIELDS.intersection(_FIELD_NAME.findall(uri_template)):
            raise ValueError(
                f"URI template {uri_template!r} has a field named {name!r}, which would "
                "clash with the responder's own parameter of that name; rename the field."
            )
        self._router.add(uri_template, build_route_target(resource, suffix))

    def add_sink(self, sink: Sink, prefix: str | re.Pattern[str] = "/") -> None:
        """Send every request whose path matches ``prefix`` and no route to ``sink``.

        ``prefix`` is a regular expression matched at the start of the path
        (``"/foo"`` also matches ``"/foobar"``); its named groups become
        keyword arguments. Routes always win over sinks, and the sink added
        last is tried first. A sink is called as ``sink(req, resp, **groups)``
        for HTTP and ``sink(req, None, ws=ws, **groups)`` for a WebSocket
        handshake, the latter only if its signature accepts ``ws``.

        Raises:
            TypeError: ``sink`` is not ``async def``.
            RuntimeError: The app has started.
        """
        self._check_open("add a sink")
        self._sinks.insert(0, _compile_sink(sink, prefix, owner="the app"))

    def add_error_handler(
        self,
        exception: type[BaseException] | Iterable[type[BaseException]],
        handler: ErrorHandler,
    ) -> None:
        """Handle ``exception`` (and subclasses) with ``handler``.

        ``handler`` is ``async def handler(req, resp, ex, params, *, ws=None)``;
        for WebSocket connections ``resp`` is ``None`` and ``ws`` is given
        (only if the signature accepts it). The most specific class wins.

        Raises:
            TypeError: ``handler`` is not ``async def`` or ``exception`` is not
                an exception class.
            RuntimeError: The app has started.
        """
        self._check_open("add an error handler")
        given: object = exception
        if isinstance(given, Iterable) and not isinstance(given, (type, str, bytes)):
            classes: list[object] = list(given)
        else:
            classes = [given]  # one class; anything else is refused below
        if not is_error_handler(handler):
            raise TypeError(f"Error handler {handler!r} must be {ERROR_HANDLER_SHAPE}.")
        checked: list[type[BaseException]] = []
        for cls in classes:
            if not (isinstance(cls, type) and issubclass(cls, BaseException)):
                raise TypeError(
                    f"add_error_handler() takes an exception class or an iterable of them, "
                    f"got {cls!r}; pass the class itself (KeyError, not KeyError())."
                )
            checked.append(cls)
        for cls in checked:
            self.error_handlers[cls] = handler

    def add_middleware(self, middleware: object | Sequence[object]) -> None:
        """Add one middleware object, or a sequence of them, after those already added.

        A middleware has any of ``process_request(req, resp)``,
        ``process_resource(req, resp, resource, params)``,
        ``process_response(req, resp, resource, req_succeeded)``,
        ``process_request_ws(req, ws)``, ``process_resource_ws(req, ws, resource,
        params)``, ``process_startup(scope, event)`` and
        ``process_shutdown(scope, event)``, all ``async``.

        Raises:
            TypeError: The object has no middleware method, an unknown
                ``process_*`` method, or a method that is not ``async``.
            RuntimeError: The app has started.
        """
        self._check_open("add middleware")
        items = list(middleware) if isinstance(middleware, (list, tuple)) else [middleware]
        for item in items:
            check_middleware(item)
        self._middleware.extend(items)

    # -- serving --------------------------------------------------------------

    def freeze(self) -> FrozenApp:
        """Compile the serving path now (it also happens at the first call).

        Raises:
            lanner.PluginConflictError: Two plugins of one layer claim a key
                the app did not settle.
            TypeError: A media handler slot holds the wrong handler type.
        """
        if self._frozen is not None:
            return self._frozen
        assembly = self._plugins
        assembly.check(app_sink_prefixes=[pattern.pattern for pattern, _, _ in self._sinks])
        plugin_sinks = [_compile_sink(s, p, owner=o) for p, s, o in assembly.sinks]
        frozen = FrozenApp(
            router=self._router,
            middleware=[*assembly.middleware, *self._middleware],
            sinks=[*self._sinks, *plugin_sinks],
            error_handlers=dict(self.error_handlers),
            # The hub connects first and closes last, so plugins may use it.
            lifespans=[self.broadcast.lifespan(), *assembly.lifespans],
            req_options=self.req_options,
            resp_options=self.resp_options,
            ws_settings=WebSocketSettings(self.ws_options),
            ping_interval=self.sse_options.ping_interval,
            sse_send_timeout=self.sse_options.send_timeout,
        )
        for owned in assembly.mappings:  # every mapping a hook of the table fills
            owned.freeze()
        self._frozen = frozen
        return frozen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection (``http``, ``websocket`` or ``lifespan``).

        Raises:
            lanner.UnsupportedScopeError: The scope's type, ASGI version or spec
                version is one lanner cannot serve (see ``check_scope``), before
                anything is received or sent.
        """
        kind = scope["type"]
        asgi = scope.get("asgi")
        # PERF: HTTP and WebSocket scopes with a spec version seen before skip
        # the full check; lifespan (once per server) always takes it.
        if kind == "lifespan" or (
            asgi is not None and asgi.get("spec_version") not in SERVED_SPECS
        ):
            check_scope(scope)
        frozen = self._frozen
        if frozen is None:
            try:
                frozen = self.freeze()
            except Exception as ex:
                if scope["type"] != "lifespan":
                    raise
                # Report the assembly error as a failed startup, which servers
                # show and act on, rather than as a crash of the lifespan task.
                logger.error("The app could not start", exc_info=ex)
                await receive()
                await send({"type": "lifespan.startup.failed", "message": f"{ex}"})
                return
        if kind == "http":
            await frozen.handle_http(scope, receive, send)
        elif kind == "websocket":
            await frozen.handle_ws(scope, receive, send)
        elif kind == "lifespan":
            await frozen.lifespan(scope, receive, send)
        else:
            # A type check_scope() did not see: its spec_version is one already served.
            raise unsupported_scope_type(kind)


def _compile_sink(
    sink: Sink, prefix: str | re.Pattern[str], owner: str
) -> tuple[re.Pattern[str], Sink, bool]:
    if not inspect.iscoroutinefunction(sink) and not inspect.iscoroutinefunction(
        getattr(sink, "__call__", None)  # noqa: B004
    ):
        raise TypeError(
            f"Sink {sink!r} from {owner} must be a coroutine function "
            "(async def sink(req, resp, ws=None, **params))."
        )
    if isinstance(prefix, str):
        try:
            pattern = re.compile(prefix)
        except re.error as exc:
            raise ValueError(
                f"Sink prefix {prefix!r} from {owner} is not a valid regular expression "
                f"({exc}); escape literal text with re.escape() if it is not meant as one."
            ) from exc
    else:
        pattern = prefix
    return pattern, sink, accepts_ws(sink)
