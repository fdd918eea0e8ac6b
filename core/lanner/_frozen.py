"""The frozen app: what an ``App`` becomes once it starts serving.

``App`` collects routes, middleware, plugins and options; at the first request
or lifespan startup it builds one :class:`FrozenApp` from them. Everything a
request or message needs is resolved here, once, so the per-request path does
no registry walk and no plugin lookup. Writing the response is
:mod:`lanner._response_writer`'s job and the lifespan protocol
:mod:`lanner._lifespan`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from lanner._lifecycle import LiveConnections, stopped_by_server
from lanner._lifespan import Lifespan
from lanner._middleware import MiddlewareChain
from lanner._resources import RouteTarget
from lanner._response_writer import ResponseWriter
from lanner._types import ErrorHandler, Message, Receive, Responder, Scope, Send, Sink
from lanner._ws_settings import WebSocketSettings
from lanner.error_handlers import (
    handle_http_error,
    handle_http_status,
    handle_unexpected_error,
)
from lanner.errors import HTTPError, HTTPRouteNotFound, HTTPStatus
from lanner.options import RequestOptions, ResponseOptions
from lanner.request import Request
from lanner.response import Response
from lanner.routing import CompiledRouter
from lanner.ws import WebSocket

__all__ = ["FrozenApp", "accepts_ws"]

_HandlerEntry = tuple[ErrorHandler, bool]


def accepts_ws(func: Callable[..., Any]) -> bool:
    """Return whether ``func`` can be called with a ``ws=`` keyword argument."""
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "ws" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


async def _route_not_found(req: Request, resp: Response | None, **params: Any) -> None:
    raise HTTPRouteNotFound()


class FrozenApp:
    """An app's serving path, built once and never changed.

    Args:
        router: Routes, already checked for conflicts.
        middleware: Every middleware, plugins' first (outermost).
        sinks: ``(pattern, sink, takes_ws)``, most preferred first.
        error_handlers: Exception class to handler, after precedence.
        lifespans: Plugin lifespan managers, entered in order at startup.
        ws_settings: The app's ``ws_options``, checked and prepared.
        sse_send_timeout: ``app.sse_options.send_timeout``.

    ``App.__call__`` routes each scope: HTTP to :meth:`handle_http`, WebSocket
    to :meth:`handle_ws`, lifespan to :attr:`lifespan`. The open WebSockets and
    event streams are kept in two :class:`~lanner._lifecycle.LiveConnections`
    sets, which enforce the send timeouts and carry out :meth:`go_away` at shutdown.
    """

    __slots__ = (
        "_error_cache",
        "_error_handlers",
        "_router",
        "_sinks",
        "_write_response",
        "lifespan",
        "middleware",
        "req_options",
        "resp_options",
        "sse_live",
        "ws_live",
        "ws_settings",
    )

    def __init__(
        self,
        *,
        router: CompiledRouter[RouteTarget],
        middleware: Sequence[object],
        sinks: Sequence[tuple[re.Pattern[str], Sink, bool]],
        error_handlers: Mapping[type[BaseException], ErrorHandler],
        lifespans: Sequence[contextlib.AbstractAsyncContextManager[Any]],
        req_options: RequestOptions,
        resp_options: ResponseOptions,
        ws_settings: WebSocketSettings,
        ping_interval: float | None,
        sse_send_timeout: float | None = None,
    ) -> None:
        self._router = router
        self.middleware = MiddlewareChain(middleware)
        """Every middleware's methods, per stage, in the order they run."""
        self._sinks = tuple(sinks)
        self._error_handlers: dict[type[BaseException], _HandlerEntry] = {
            cls: (handler, accepts_ws(handler)) for cls, handler in error_handlers.items()
        }
        self._error_cache: dict[type[BaseException], _HandlerEntry | None] = {}
        self.req_options = req_options
        self.resp_options = resp_options
        self.ws_settings = ws_settings
        self.ws_live = LiveConnections(ws_settings.send_timeout)
        self.sse_live = LiveConnections(sse_send_timeout)
        self.lifespan = Lifespan(lifespans, self.middleware.startup, self.middleware.shutdown)
        """The ASGI lifespan protocol's handler."""
        # PERF: the bound method is kept, so each request calls it without a lookup.
        self._write_response = ResponseWriter(
            resp_options,
            ping_interval=ping_interval,
            sse_live=self.sse_live,
            handle_error=self.handle_error,
        ).send

    @property
    def startup_error(self) -> BaseException | None:
        """Why lifespan startup failed, once it has (the test conductor raises it)."""
        return self.lifespan.startup_error

    def go_away(self) -> list[asyncio.Task[None]]:
        """Close every open WebSocket with 1001 and end every event stream, now and later.

        This is what ``lanner serve`` does when its process is told to stop; the
        connections close in the background (the returned tasks, one per
        connection), each bounded by its send timeout.
        """
        return self.ws_live.go_away() + self.sse_live.go_away()

    # -- errors ---------------------------------------------------------------

    def _handler_for(self, exc_type: type[BaseException]) -> _HandlerEntry | None:
        try:
            return self._error_cache[exc_type]
        except KeyError:
            pass
        found = None
        for cls in exc_type.__mro__:
            found = self._error_handlers.get(cls)
            if found is not None:
                break
        if len(self._error_cache) < 1024:
            self._error_cache[exc_type] = found
        return found

    async def handle_error(
        self,
        req: Request,
        resp: Response | None,
        ex: Exception,
        params: dict[str, Any],
        ws: WebSocket | None = None,
    ) -> None:
        """Run the error handler for ``ex`` (most specific class first)."""
        entry = self._handler_for(type(ex))
        try:
            if entry is None:
                raise ex
            handler, takes_ws = entry
            if takes_ws:
                await handler(req, resp, ex, params, ws=ws)
            else:
                await handler(req, resp, ex, params)
        except Exception as failure:
            await self._fallback(req, resp, failure, ws)

    async def _fallback(
        self, req: Request, resp: Response | None, ex: Exception, ws: WebSocket | None
    ) -> None:
        # An error handler raised (or none matched): the default handlers take
        # over, so an HTTPError is still rendered as such and anything else is
        # logged once and becomes 500 / the error close code. An HTTPStatus an
        # error handler raised ends the request with that status.
        if isinstance(ex, HTTPError):
            await handle_http_error(req, resp, ex, {}, ws=ws)
        elif isinstance(ex, HTTPStatus):
            await handle_http_status(req, resp, ex, {}, ws=ws)
        else:
            await handle_unexpected_error(req, resp, ex, {}, ws=ws)

    # -- HTTP -----------------------------------------------------------------

    def _resolve_http(self, req: Request) -> tuple[Responder, object, dict[str, Any]]:
        found = self._router.find(req.path)
        if found is not None:
            target, params, _template = found
            responder = target.responders.get(req.method)
            if responder is None:
                return target.not_allowed, target.resource, params
            return responder, target.resource, params
        path = req.path
        for pattern, sink, _takes_ws in self._sinks:
            match = pattern.match(path)
            if match is not None:
                return sink, None, match.groupdict()
        return _route_not_found, None, {}

    async def handle_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one HTTP request: middleware, routing, responder, errors, response."""
        req = Request(scope, receive, self.req_options)
        resp = Response(self.resp_options)
        params: dict[str, Any] = {}
        resource: object = None
        succeeded = False
        mw = self.middleware
        try:
            # A middleware that sets resp.complete skips the stages after it.
            for process_request in mw.request:
                await process_request(req, resp)
                if resp.complete:
                    break
            else:
                responder, resource, params = self._resolve_http(req)
                # Only a matched route has a resource: sinks and unknown paths
                # skip process_resource.
                if resource is not None:
                    for process_resource in mw.resource:
                        await process_resource(req, resp, resource, params)
                        if resp.complete:
                            break
                if not resp.complete:
                    if params:
                        await responder(req, resp, **params)
                    else:  # PERF: a call without ** unpacking is cheaper
                        await responder(req, resp)
            succeeded = True
        except Exception as ex:
            await self.handle_error(req, resp, ex, params)
        for process_response in mw.response:
            try:
                await process_response(req, resp, resource, succeeded)
            except Exception as ex:
                succeeded = False
                await self.handle_error(req, resp, ex, params)
        await self._write_response(req, resp, receive, send)

    # -- WebSocket --------------------------------------------------------------

    def _resolve_ws_sink(
        self, req: Request
    ) -> tuple[Responder, RouteTarget | None, dict[str, Any]]:
        path = req.path
        for pattern, sink, takes_ws in self._sinks:
            if takes_ws:
                match = pattern.match(path)
                if match is not None:
                    return sink, None, match.groupdict()
        return _route_not_found, None, {}

    async def handle_ws(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one WebSocket connection from handshake to close."""
        first: Message = await receive()
        if first["type"] != "websocket.connect":
            return  # the client left before the handshake reached the app
        req = Request(scope, receive, self.req_options)
        ws = WebSocket(scope, receive, send, self.ws_settings)
        params: dict[str, Any] = {}
        mw = self.middleware
        live = self.ws_live
        live.add(ws)
        final_code = 1000
        try:
            for process_request_ws in mw.request_ws:
                await process_request_ws(req, ws)
                if ws.closed:
                    return
            found = self._router.find(req.path)
            target: RouteTarget | None
            if found is not None:
                target, params, _template = found
                responder = target.ws_responder or target.not_allowed
            else:
                responder, target, params = self._resolve_ws_sink(req)
            if target is None:
                if responder is _route_not_found:
                    await responder(req, None)
                else:
                    await responder(req, None, ws=ws, **params)
            else:
                for process_resource_ws in mw.resource_ws:
                    await process_resource_ws(req, ws, target.resource, params)
                    if ws.closed:
                        return
                if params:
                    await responder(req, ws, **params)
                else:  # PERF: a call without ** unpacking is cheaper
                    await responder(req, ws)
        except asyncio.CancelledError:
            # The server stopped this connection's task (uvicorn does for responders
            # still running when its graceful shutdown times out): close it as going
            # away and return, rather than hand the server a traceback to print.
            if not stopped_by_server(asyncio.current_task()):
                raise
            final_code = 1001
        except Exception as ex:
            await self.handle_error(req, None, ex, params, ws)
        finally:
            try:
                closing = ws._teardown(final_code)
                if closing is not None:
                    await closing
            finally:
                live.discard(ws)
