"""The default error handlers, which the ``lanner.errors`` default plugin installs.

Every error handler has the signature
``async handler(req, resp, ex, params, *, ws=None)``: for an HTTP request
``resp`` is the response and ``ws`` is ``None``; for a WebSocket connection
``resp`` is ``None`` and ``ws`` is the connection. Handlers whose signature has
no ``ws`` parameter are called without it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lanner.errors import HTTPError, HTTPInternalServerError, HTTPStatus, WebSocketDisconnected
from lanner.media.json import compact_dumps

if TYPE_CHECKING:
    from lanner.request import Request
    from lanner.response import Response
    from lanner.ws import WebSocket

__all__ = [
    "handle_http_error",
    "handle_http_status",
    "handle_unexpected_error",
    "handle_ws_disconnected",
    "logger",
    "render_http_error",
]

logger = logging.getLogger("lanner")
"""The ``lanner`` logger: unhandled errors (ERROR, with traceback) and lost clients."""


def render_http_error(resp: Response, ex: HTTPError) -> None:
    """Make ``resp`` the JSON rendering of ``ex``, discarding any earlier body."""
    resp.status = ex.status
    resp.text = None
    resp.stream = None
    resp.sse = None
    resp.media = None
    resp.data = compact_dumps(ex.to_dict()).encode()
    resp.content_type = "application/json"
    for name, value in ex.headers.items():
        resp.set_header(name, value)


async def handle_http_error(
    req: Request,
    resp: Response | None,
    ex: BaseException,
    params: dict[str, Any],
    *,
    ws: WebSocket | None = None,
) -> None:
    """Render an :class:`~lanner.HTTPError`: a JSON body, or close code 3000 + status.

    Before a WebSocket is accepted, the close denies the handshake (the client
    gets HTTP 403, and the test conductor reports the code).
    """
    assert isinstance(ex, HTTPError)
    if ws is not None:
        await ws.close(3000 + ex.status if 100 <= ex.status <= 1999 else 3000)
    elif resp is not None:
        render_http_error(resp, ex)


async def handle_http_status(
    req: Request,
    resp: Response | None,
    ex: BaseException,
    params: dict[str, Any],
    *,
    ws: WebSocket | None = None,
) -> None:
    """Answer a raised :class:`~lanner.HTTPStatus`: that response, or close code 3000 + status.

    Over HTTP the response becomes the status, its headers and its text (any
    earlier body is discarded). On a WebSocket the close denies the handshake
    before accept (the client gets HTTP 403) and closes the connection after.
    """
    assert isinstance(ex, HTTPStatus)
    if ws is not None:
        await ws.close(3000 + ex.status)
    elif resp is not None:
        resp.status = ex.status
        resp.data = None
        resp.stream = None
        resp.sse = None
        del resp.media
        resp.text = ex.text
        resp.content_type = None
        for name, value in ex.headers:
            resp.set_header(name, value)


async def handle_unexpected_error(
    req: Request,
    resp: Response | None,
    ex: BaseException,
    params: dict[str, Any],
    *,
    ws: WebSocket | None = None,
) -> None:
    """Log an unhandled exception once, with its traceback, and answer 500 or 1011.

    The client never sees the exception's text: internals stay in the log.
    """
    kind = "WebSocket" if ws is not None else req.method
    logger.error("Unhandled %s in %s %s", type(ex).__name__, kind, req.path, exc_info=ex)
    if ws is not None:
        await ws.close(ws.error_close_code)
    elif resp is not None:
        render_http_error(resp, HTTPInternalServerError())


async def handle_ws_disconnected(
    req: Request,
    resp: Response | None,
    ex: BaseException,
    params: dict[str, Any],
    *,
    ws: WebSocket | None = None,
) -> None:
    """Log a :class:`~lanner.WebSocketDisconnected` the responder let escape, as a warning.

    The connection is already gone; lanner cleans up after this handler.
    """
    assert isinstance(ex, WebSocketDisconnected)
    if ws is None:
        await handle_unexpected_error(req, resp, ex, params)
        return
    logger.warning(
        "WebSocket client on %s went away (close code %s) and on_websocket did not "
        "catch WebSocketDisconnected; the connection was cleaned up.",
        req.path,
        ex.code,
    )
