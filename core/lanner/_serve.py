"""The frozen serving path: what an App becomes once it starts.

``App`` collects routes, middleware, plugins and options; at the first request
or lifespan startup it builds one :class:`Server` from them. Everything a
request or message needs is resolved here, once, so the per-request path does
no registry walk and no plugin lookup.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

from lanner._headers import check_header
from lanner._lifecycle import LiveConnections, stopped_by_server
from lanner._middleware import MiddlewareChain
from lanner._resources import Responder, RouteTarget
from lanner._sse_stream import stream_sse
from lanner._types import Headers, Message, Receive, Scope, Send
from lanner.error_handlers import (
    handle_http_error,
    handle_http_status,
    handle_unexpected_error,
    logger,
)
from lanner.errors import HTTPError, HTTPRouteNotFound, HTTPStatus, UnsupportedScopeError
from lanner.media.handlers import Handlers
from lanner.media.json import compact_dumps
from lanner.options import RequestOptions, ResponseOptions
from lanner.request import Request
from lanner.response import Response
from lanner.routing import CompiledRouter
from lanner.sse import SSE_HEADERS, SSEvent
from lanner.ws import _CLOSED as _WS_CLOSED
from lanner.ws import WebSocket, WebSocketContext

__all__ = ["ErrorHandler", "Server", "Sink", "accepts_ws"]

ErrorHandler = Callable[..., Awaitable[None]]
Sink = Callable[..., Awaitable[None]]
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


class Server:
    """An app's serving path, built once and never changed.

    Args:
        router: Routes, already checked for conflicts.
        middleware: Every middleware, plugins' first (outermost).
        sinks: ``(pattern, sink, takes_ws)``, most preferred first.
        error_handlers: Exception class to handler, after precedence.
        lifespans: Plugin lifespan managers, entered in order at startup.
        sse_send_timeout: ``app.sse_options.send_timeout``.

    The server keeps its open WebSockets and event streams in two
    :class:`~lanner._lifecycle.LiveConnections` sets, which enforce the send
    timeouts and carry out :meth:`go_away` at shutdown.
    """

    __slots__ = (
        "_content_types",
        "_default_media_type",
        "_error_cache",
        "_error_handlers",
        "_json_dumps",
        "_lifespan_stack",
        "_lifespans",
        "_ping_interval",
        "_resp_handlers",
        "_router",
        "_sinks",
        "mw",
        "req_options",
        "resp_options",
        "sse_live",
        "startup_error",
        "ws_ctx",
        "ws_live",
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
        ws_ctx: WebSocketContext,
        ping_interval: float | None,
        sse_send_timeout: float | None = None,
    ) -> None:
        self._router = router
        self.mw = MiddlewareChain(middleware)
        self._sinks = tuple(sinks)
        self._error_handlers: dict[type[BaseException], _HandlerEntry] = {
            cls: (handler, accepts_ws(handler)) for cls, handler in error_handlers.items()
        }
        self._error_cache: dict[type[BaseException], _HandlerEntry | None] = {}
        self._lifespans = tuple(lifespans)
        self._lifespan_stack: contextlib.AsyncExitStack | None = None
        self.req_options = req_options
        self.resp_options = resp_options
        self._resp_handlers: Handlers = resp_options.media_handlers
        self._default_media_type = resp_options.default_media_type
        self.ws_ctx = ws_ctx
        self._ping_interval = ping_interval
        self._content_types: dict[str, bytes] = {}
        self._json_dumps = _json_dumps_for(resp_options.media_handlers)
        self.startup_error: BaseException | None = None
        self.ws_live = LiveConnections(ws_ctx.send_timeout)
        self.sse_live = LiveConnections(sse_send_timeout)

    def go_away(self) -> list[asyncio.Task[None]]:
        """Close every open WebSocket with 1001 and end every event stream, now and later.

        This is what ``lanner serve`` does when its process is told to stop; the
        connections close in the background (the returned tasks, one per
        connection), each bounded by its send timeout.
        """
        return self.ws_live.go_away() + self.sse_live.go_away()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self.handle_http(scope, receive, send)
        elif kind == "websocket":
            await self.handle_ws(scope, receive, send)
        elif kind == "lifespan":
            await self.handle_lifespan(scope, receive, send)
        else:
            raise UnsupportedScopeError(
                f"lanner serves ASGI 'http', 'websocket' and 'lifespan' scopes; got {kind!r}."
            )

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
        mw = self.mw
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
        await self._send_response(req, resp, receive, send)

    def _content_type_bytes(self, content_type: str) -> bytes:
        cached = self._content_types.get(content_type)
        if cached is None:
            # resp.content_type is a plain attribute: check it here, once per value.
            check_header("Content-Type", content_type)
            cached = content_type.encode("latin-1")
            if len(self._content_types) < 64:
                self._content_types[content_type] = cached
        return cached

    def _head(self, resp: Response, content_type: str | None) -> Headers:
        headers: Headers = []
        if content_type is not None:
            headers.append((b"content-type", self._content_type_bytes(content_type)))
        extra = resp._headers
        if extra:
            headers.extend((n.encode("latin-1"), v.encode("latin-1")) for n, v in extra)
        return headers

    async def _send_response(
        self, req: Request, resp: Response, receive: Receive, send: Send
    ) -> None:
        sse = resp.sse
        if sse is not None:
            await self._send_sse(req, resp, sse, receive, send)
            return
        if resp.stream is not None:
            await self._send_stream(req, resp, resp.stream, send)
            return
        # PERF: the plain-body path is inlined; it runs once per request.
        content_type: str | None
        body: bytes
        try:
            if resp.data is not None:
                content_type, body = resp.content_type or "application/octet-stream", resp.data
            elif resp.text is not None:
                content_type = resp.content_type or "text/plain; charset=utf-8"
                body = resp.text.encode()
            elif resp.has_media:
                content_type = resp.content_type or self._default_media_type
                body = self._serialize_media(resp.media, content_type)
            else:
                content_type, body = resp.content_type, b""
            headers = self._head(resp, content_type)  # raises for a bad resp.content_type
        except Exception as ex:
            await self.handle_error(req, resp, ex, {})
            content_type, body = resp.content_type, resp.data or b""
            headers = self._head(resp, content_type)
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": int(resp.status), "headers": headers})
        await send({"type": "http.response.body", "body": b"" if req.method == "HEAD" else body})

    def _serialize_media(self, media: object, content_type: str) -> bytes:
        found = self._resp_handlers.find(content_type)
        if found is None:
            raise TypeError(
                f"resp.media was set but no response media handler serves "
                f"{content_type!r}; register one in app.resp_options.media_handlers "
                "or set resp.content_type to one of: "
                f"{', '.join(sorted(self._resp_handlers))}."
            )
        return found[1].serialize(media, content_type)

    async def _send_stream(
        self, req: Request, resp: Response, stream: AsyncIterator[bytes], send: Send
    ) -> None:
        headers = self._head(resp, resp.content_type or "application/octet-stream")
        await send({"type": "http.response.start", "status": int(resp.status), "headers": headers})
        try:
            if req.method != "HEAD":
                async for chunk in stream:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except OSError:
            return  # the client left (ASGI spec 2.4 servers raise on send)
        except Exception as ex:
            logger.error("Error in resp.stream for %s %s", req.method, req.path, exc_info=ex)
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
        with contextlib.suppress(OSError):
            await send({"type": "http.response.body", "body": b""})

    async def _send_sse(
        self,
        req: Request,
        resp: Response,
        events: AsyncIterator[SSEvent | None],
        receive: Receive,
        send: Send,
    ) -> None:
        extra = self._head(resp, None)
        headers: Headers = list(SSE_HEADERS)
        if extra:
            # A header the responder set replaces lanner's default of that name
            # (its own cache-control, say); the content-type stays text/event-stream.
            names = {name for name, _ in extra}
            headers = [h for h in headers if h[0] == b"content-type" or h[0] not in names]
            headers.extend(h for h in extra if h[0] != b"content-type")
        if req.method == "HEAD":
            await _send_sse_head(int(resp.status), headers, events, send)
            return
        try:
            await stream_sse(
                events,
                receive,
                send,
                ping_interval=self._ping_interval,
                json_dumps=self._json_dumps,
                status=int(resp.status),
                headers=headers,
                live=self.sse_live,
            )
        except asyncio.CancelledError:
            # The server stopped this response's task (uvicorn does at the end of its
            # graceful shutdown); the generator is closed and the body ended by now.
            if not stopped_by_server(asyncio.current_task()):
                raise
        except Exception as ex:
            logger.error("Error in resp.sse for %s %s", req.method, req.path, exc_info=ex)

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
        ws = WebSocket(scope, receive, send, self.ws_ctx)
        params: dict[str, Any] = {}
        mw = self.mw
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
            # PERF: "close if still open, stop the reader" written out with the
            # connection's own fields: this runs once per connection. The close
            # stays watched, so a client that does not read cannot hold it.
            try:
                if ws._state is not _WS_CLOSED and ws._lost_code is None:
                    await ws.close(final_code)
                if ws._pump_task is not None:
                    ws._stop_pump()
            finally:
                live.discard(ws)

    # -- lifespan -------------------------------------------------------------

    async def handle_lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the ASGI lifespan protocol: plugin lifespans, then middleware."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup(scope, message)
                except Exception as ex:
                    self.startup_error = ex
                    logger.error("Startup failed", exc_info=ex)
                    await send({"type": "lifespan.startup.failed", "message": _describe(ex)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await self.shutdown(scope, message)
                except Exception as ex:
                    logger.error("Shutdown failed", exc_info=ex)
                    await send({"type": "lifespan.shutdown.failed", "message": _describe(ex)})
                    return
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def startup(self, scope: Scope, event: Message) -> None:
        """Enter plugin lifespans in order, then run ``process_startup`` middleware."""
        stack = contextlib.AsyncExitStack()
        try:
            for manager in self._lifespans:
                await stack.enter_async_context(manager)
            for process_startup in self.mw.startup:
                await process_startup(scope, event)
        except BaseException:
            await stack.aclose()
            raise
        self._lifespan_stack = stack

    async def shutdown(self, scope: Scope, event: Message) -> None:
        """Run ``process_shutdown`` middleware in reverse, then exit plugin lifespans.

        Every hook runs even if one fails, so each can release what it holds;
        the first failure is raised afterwards and any later ones are logged.
        """
        first_error: Exception | None = None
        try:
            for process_shutdown in self.mw.shutdown:
                try:
                    await process_shutdown(scope, event)
                except Exception as ex:
                    if first_error is None:
                        first_error = ex
                    else:
                        logger.error("process_shutdown failed too", exc_info=ex)
        finally:
            stack, self._lifespan_stack = self._lifespan_stack, None
            if stack is not None:
                await stack.aclose()
        if first_error is not None:
            raise first_error


async def _send_sse_head(
    status: int, headers: Headers, events: AsyncIterator[SSEvent | None], send: Send
) -> None:
    """Answer HEAD on an SSE route: the stream's headers, no body, the generator closed.

    The generator is closed before it starts, so none of its code runs.
    """
    try:
        with contextlib.suppress(OSError):  # the client left (ASGI spec 2.4 servers)
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()


def _describe(ex: BaseException) -> str:
    return f"{type(ex).__name__}: {ex}"


def _json_dumps_for(handlers: Handlers) -> Callable[[object], str]:
    handler = handlers.get("application/json")
    dumps = getattr(handler, "dumps", None)
    if callable(dumps):
        return dumps  # type: ignore[no-any-return]
    if handler is not None:
        json_handler = handler
        return lambda obj: json_handler.serialize(obj, "application/json").decode()
    return compact_dumps
