"""The ``lanner.json`` default plugin: JSON for HTTP bodies and WebSocket TEXT.

A complete plugin in two hooks. It makes ``application/json`` request and
response media work, and puts ``JSONHandlerWS`` in the WebSocket TEXT slot
used by ``ws.send_media(obj)`` and ``await ws.receive_media()``. Disable it
with ``App(disable_plugins=["lanner.json"])`` to bring your own JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from lanner.media.base import BaseHandler, BinaryBaseHandlerWS, TextBaseHandlerWS
from lanner.media.json import JSONHandler, JSONHandlerWS
from lanner.plugins.hookspecs import hookimpl
from lanner.ws_options import WebSocketPayloadType

if TYPE_CHECKING:
    from lanner.app import App

__all__ = ["lanner_http_media_handlers", "lanner_ws_media_handlers"]


@hookimpl
def lanner_http_media_handlers(app: App) -> Mapping[str, BaseHandler]:
    """Handle ``application/json`` request and response bodies."""
    return {"application/json": JSONHandler()}


@hookimpl
def lanner_ws_media_handlers(
    app: App,
) -> Mapping[WebSocketPayloadType, TextBaseHandlerWS | BinaryBaseHandlerWS]:
    """Fill the WebSocket TEXT slot with JSON."""
    return {WebSocketPayloadType.TEXT: JSONHandlerWS()}
