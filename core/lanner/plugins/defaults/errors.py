"""The ``lanner.errors`` default plugin: the default HTTP and WebSocket error handling.

``HTTPError`` renders as a JSON error body (or closes a WebSocket with
``3000 + status``), ``HTTPStatus`` becomes its response (or that close code),
a ``WebSocketDisconnected`` ends the connection quietly, and any other
``Exception`` is logged with its traceback and answered with 500
(or closes the WebSocket with ``ws_options.error_close_code``). Because lanner
looks handlers up along the exception's MRO, a plugin or app handler for a
more specific class wins without replacing these. This plugin cannot be
disabled; override a key with ``app.add_error_handler`` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from lanner.error_handlers import (
    handle_http_error,
    handle_http_status,
    handle_unexpected_error,
    handle_ws_disconnected,
)
from lanner.errors import HTTPError, HTTPStatus, WebSocketDisconnected
from lanner.plugins.hookspecs import ErrorHandler, hookimpl

if TYPE_CHECKING:
    from lanner.app import App

__all__ = ["lanner_error_handlers"]


@hookimpl
def lanner_error_handlers(app: App) -> Mapping[type[BaseException], ErrorHandler]:
    """Install the default handlers for HTTP errors and statuses, disconnects and crashes."""
    return {
        HTTPError: handle_http_error,
        HTTPStatus: handle_http_status,
        WebSocketDisconnected: handle_ws_disconnected,
        Exception: handle_unexpected_error,
    }
