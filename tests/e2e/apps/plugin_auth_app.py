"""An app protected by the installed ``auth_mw`` plugin, with CBOR from ``media_cbor``.

Served by a real uvicorn for ``tests/plugins/test_plugins_e2e.py``. Both
plugins load through their entry points (the server runs with
``LANNER_DISABLE_PLUGIN_AUTOLOAD=0``), the way a deployed app gets them, and
the token comes from the environment through a ``{"$env": ...}`` reference.
"""

from __future__ import annotations

import lanner
from lanner import Request, Response, WebSocket, WebSocketDisconnected, WebSocketPayloadType
from lanner_media_cbor import CBORPayloadError

TOKEN_ENV = "LANNER_E2E_AUTH_TOKEN"
"""The environment variable holding alice's token."""

ALLOWED_ORIGIN = "https://app.example"
"""The one origin browsers may open the WebSocket from."""

APP_SUBPROTOCOL = "chat.v1"
"""The subprotocol the WebSocket endpoint speaks (and selects when offered)."""


class Health:
    """``GET /health``: exempt from authentication."""

    async def on_get(self, req: Request, resp: Response) -> None:
        """Answer with the identity, which is ``None`` on an exempt path."""
        resp.media = {"ok": True, "auth": req.context.auth}


class WhoAmI:
    """``GET /whoami``: the identity the plugin found."""

    async def on_get(self, req: Request, resp: Response) -> None:
        """Answer with ``req.context.auth``."""
        resp.media = {"auth": req.context.auth}


class Echo:
    """``/ws``: greets with the identity, then echoes each message back as CBOR."""

    async def on_websocket(self, req: Request, ws: WebSocket) -> None:
        """Accept (selecting ``chat.v1`` if offered), greet in JSON, echo in CBOR."""
        chosen = APP_SUBPROTOCOL if APP_SUBPROTOCOL in ws.subprotocols else None
        await ws.accept(subprotocol=chosen)
        await ws.send_media({"auth": req.context.auth, "subprotocols": list(ws.subprotocols)})
        while True:
            try:
                media = await ws.receive_media()
            except CBORPayloadError as exc:
                await ws.send_media({"error": str(exc)})
                continue
            except WebSocketDisconnected:
                return
            await ws.send_media(media, WebSocketPayloadType.BINARY)


app = lanner.App(
    autoload_plugins=["auth_mw", "media_cbor"],
    plugin_config={
        "auth_mw": {
            "tokens": {"alice": {"$env": TOKEN_ENV}},
            "query_param": "access_token",
            "subprotocol_prefix": "bearer.",
            "allowed_origins": [ALLOWED_ORIGIN],
            "exempt": ["/health"],
        },
        "media_cbor": {"ws_binary": True},  # CBOR BINARY messages: opt-in
    },
)
_loaded = {info.name for info in app.plugin_assembly.plugins}
if not {"auth_mw", "media_cbor"} <= _loaded:
    raise RuntimeError(
        f"plugin_auth_app needs the installed auth_mw and media_cbor plugins, loaded {_loaded}; "
        "install them (pip install -e plugins/auth_mw -e plugins/media_cbor) and serve with "
        "LANNER_DISABLE_PLUGIN_AUTOLOAD=0."
    )
app.add_route("/health", Health())
app.add_route("/whoami", WhoAmI())
app.add_route("/ws", Echo())
