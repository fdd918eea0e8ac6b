"""The ``lanner.msgpack`` default plugin: MessagePack for HTTP and WebSocket BINARY.

It adds ``application/msgpack`` request and response media and fills the
WebSocket BINARY slot with ``MessagePackHandlerWS``, used by
``ws.send_media(obj, payload_type=BINARY)``. A plugin such as ``media_cbor``
takes the BINARY slot over simply by providing it from a higher layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from lanner.media.base import BaseHandler, BinaryBaseHandlerWS, TextBaseHandlerWS
from lanner.media.msgpack import MessagePackHandler, MessagePackHandlerWS
from lanner.plugins.hookspecs import hookimpl
from lanner.ws_options import WebSocketPayloadType

if TYPE_CHECKING:
    from lanner.app import App

__all__ = ["lanner_http_media_handlers", "lanner_ws_media_handlers"]


@hookimpl
def lanner_http_media_handlers(app: App) -> Mapping[str, BaseHandler]:
    """Handle ``application/msgpack`` request and response bodies."""
    return {"application/msgpack": MessagePackHandler()}


@hookimpl
def lanner_ws_media_handlers(
    app: App,
) -> Mapping[WebSocketPayloadType, TextBaseHandlerWS | BinaryBaseHandlerWS]:
    """Fill the WebSocket BINARY slot with MessagePack."""
    return {WebSocketPayloadType.BINARY: MessagePackHandlerWS()}
