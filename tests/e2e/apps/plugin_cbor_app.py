"""CBOR over HTTP and WebSocket, with ``lanner_media_cbor`` loaded as an in-process plugin.

Served by a real uvicorn for ``tests/plugins/test_plugins_e2e.py``.
"""

from __future__ import annotations

import lanner
import lanner_media_cbor
from lanner import Request, Response, WebSocket, WebSocketDisconnected, WebSocketPayloadType
from lanner_media_cbor import CBORPayloadError


class Echo:
    """``POST /echo`` and ``/echo`` (WebSocket): CBOR in, the same CBOR back."""

    async def on_post(self, req: Request, resp: Response) -> None:
        """Decode the body (a bad one is a 400) and send it back as CBOR."""
        resp.media = await req.get_media()
        resp.content_type = lanner_media_cbor.MEDIA_TYPE

    async def on_websocket(self, req: Request, ws: WebSocket) -> None:
        """Echo BINARY messages; answer a bad one with a TEXT error and carry on."""
        await ws.accept()
        while True:
            try:
                media = await ws.receive_media()
            except CBORPayloadError as exc:
                await ws.send_text(f"CBORPayloadError: {exc}")
                continue
            except WebSocketDisconnected:
                return
            await ws.send_media(media, WebSocketPayloadType.BINARY)


app = lanner.App(
    autoload_plugins=False,
    plugins=[lanner_media_cbor],
    plugin_config={"media_cbor": {"ws_binary": True}},  # the WebSocket slot is opt-in
)
app.add_route("/echo", Echo())
