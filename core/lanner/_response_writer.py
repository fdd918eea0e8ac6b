"""Writing a finished ``Response`` to the ASGI server: a body, a stream or an event stream.

The frozen app builds one :class:`ResponseWriter` at startup; the content-type
encodings and the JSON function for events are prepared there, so writing a
response looks nothing up.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from lanner._headers import check_header
from lanner._lifecycle import LiveConnections, stopped_by_server
from lanner._sse_stream import stream_sse
from lanner._types import Headers, Receive, Send
from lanner.error_handlers import logger
from lanner.media.handlers import Handlers
from lanner.media.json import compact_dumps
from lanner.options import ResponseOptions
from lanner.request import Request
from lanner.response import Response
from lanner.sse import SSE_HEADERS, SSEvent

__all__ = ["ResponseWriter"]

# handle_error(req, resp, ex, params): the frozen app's, for a body that fails to serialise.
_ErrorReporter = Callable[[Request, Response, Exception, dict[str, Any]], Coroutine[Any, Any, None]]


class ResponseWriter:
    """Sends each response as its responder left it.

    Args:
        options: The app's response options (media handlers, default media type).
        ping_interval: ``app.sse_options.ping_interval``.
        sse_live: The app's open event streams, which send timeouts and
            shutdown act on.
        handle_error: The app's error handling, for a body that cannot be
            written (a bad content type, media no handler serves).
    """

    __slots__ = (
        "_content_types",
        "_default_media_type",
        "_handle_error",
        "_json_dumps",
        "_media_handlers",
        "_ping_interval",
        "_sse_live",
    )

    def __init__(
        self,
        options: ResponseOptions,
        *,
        ping_interval: float | None,
        sse_live: LiveConnections,
        handle_error: _ErrorReporter,
    ) -> None:
        self._media_handlers: Handlers = options.media_handlers
        self._default_media_type = options.default_media_type
        self._json_dumps = _json_dumps_for(options.media_handlers)
        self._content_types: dict[str, bytes] = {}
        self._ping_interval = ping_interval
        self._sse_live = sse_live
        self._handle_error = handle_error

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
        headers = resp._encoded_headers()
        if content_type is not None:
            headers.insert(0, (b"content-type", self._content_type_bytes(content_type)))
        return headers

    async def send(self, req: Request, resp: Response, receive: Receive, send: Send) -> None:
        """Send ``resp``: its SSE events, its stream, or its body with a content length."""
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
            await self._handle_error(req, resp, ex, {})
            content_type, body = resp.content_type, resp.data or b""
            headers = self._head(resp, content_type)
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": int(resp.status), "headers": headers})
        await send({"type": "http.response.body", "body": b"" if req.method == "HEAD" else body})

    def _serialize_media(self, media: object, content_type: str) -> bytes:
        found = self._media_handlers.find(content_type)
        if found is None:
            raise TypeError(
                f"resp.media was set but no response media handler serves "
                f"{content_type!r}; register one in app.resp_options.media_handlers "
                "or set resp.content_type to one of: "
                f"{', '.join(sorted(self._media_handlers))}."
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
                live=self._sse_live,
            )
        except asyncio.CancelledError:
            # The server stopped this response's task (uvicorn does at the end of its
            # graceful shutdown); the generator is closed and the body ended by now.
            if not stopped_by_server(asyncio.current_task()):
                raise
        except Exception as ex:
            logger.error("Error in resp.sse for %s %s", req.method, req.path, exc_info=ex)


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


def _json_dumps_for(handlers: Handlers) -> Callable[[object], str]:
    handler = handlers.get("application/json")
    dumps = getattr(handler, "dumps", None)
    if callable(dumps):
        return dumps  # type: ignore[no-any-return]
    if handler is not None:
        json_handler = handler
        return lambda obj: json_handler.serialize(obj, "application/json").decode()
    return compact_dumps
