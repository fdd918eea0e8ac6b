"""The plugin's hook implementations: CBOR for HTTP bodies; the WebSocket BINARY slot on request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import lanner
from lanner import WebSocketPayloadType
from lanner.media import BaseHandler, BinaryBaseHandlerWS, TextBaseHandlerWS
from lanner_media_cbor._config import PLUGIN_NAME, parse_config
from lanner_media_cbor.handlers import MEDIA_TYPE, CBORHandler, CBORHandlerWS

if TYPE_CHECKING:
    from lanner import App

__all__ = ["lanner_configure", "lanner_http_media_handlers", "lanner_ws_media_handlers"]


@lanner.hookimpl
def lanner_configure(app: App) -> None:
    """Check the ``media_cbor`` config section, so a typo fails when ``App()`` is built."""
    parse_config(app.plugin_config(PLUGIN_NAME))


@lanner.hookimpl
def lanner_http_media_handlers(app: App) -> Mapping[str, BaseHandler]:
    """Handle ``application/cbor`` request and response bodies."""
    return {MEDIA_TYPE: CBORHandler()}


@lanner.hookimpl
def lanner_ws_media_handlers(
    app: App,
) -> Mapping[WebSocketPayloadType, TextBaseHandlerWS | BinaryBaseHandlerWS] | None:
    """Take the WebSocket BINARY slot, only if the app opts in with ``ws_binary: True``."""
    if not parse_config(app.plugin_config(PLUGIN_NAME)).ws_binary:
        return None
    return {WebSocketPayloadType.BINARY: CBORHandlerWS()}
