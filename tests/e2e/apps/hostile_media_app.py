"""Endpoints that face hostile media and header values, for ``test_hostile_media_e2e.py``.

* ``WEBSOCKET /ws/media``: the media docs' loop: decode each message with
  ``receive_media()``, answer ``{"error": ...}`` for a ``ValueError`` and echo
  the rest (TEXT as JSON, BINARY as MessagePack).
* ``WEBSOCKET /ws/unescape``: decodes each TEXT message with the stdlib ``json``
  (which lets lone surrogates through) and sends the string back with
  ``send_text()``; a ``ValueError`` from the send is answered as ``refused: ...``.
* ``POST /echo``: echoes the decoded body in its own media type (JSON,
  MessagePack, CBOR).
* ``GET /header?value=...``: sets ``X-Echo`` to the value, uncaught, so a bad
  value shows what the server answers; ``GET /header-caught`` reports the error.
"""

from __future__ import annotations

import json

import lanner
import lanner_media_cbor
from lanner import Request, Response, WebSocket


class Media:
    async def on_websocket(self, req: Request, ws: WebSocket) -> None:
        await ws.accept()
        while True:
            try:
                media = await ws.receive_media()
            except lanner.WebSocketDisconnected:
                return
            except ValueError as exc:
                await ws.send_media({"error": str(exc), "type": type(exc).__name__})
                continue
            await ws.send_media({"echo": media})


class Unescape:
    async def on_websocket(self, req: Request, ws: WebSocket) -> None:
        await ws.accept()
        while True:
            try:
                text = json.loads(await ws.receive_text())
            except lanner.WebSocketDisconnected:
                return
            try:
                await ws.send_text(text)
            except ValueError as exc:
                await ws.send_text(f"refused: {exc}")


class Echo:
    async def on_post(self, req: Request, resp: Response) -> None:
        media = await req.get_media()
        resp.content_type = req.content_type
        resp.media = {"echo": media}


class Header:
    async def on_get(self, req: Request, resp: Response) -> None:
        resp.set_header("X-Echo", req.get_param("value", default="") or "")
        resp.text = "set"


class HeaderCaught:
    async def on_get(self, req: Request, resp: Response) -> None:
        try:
            resp.set_header("X-Echo", req.get_param("value", default="") or "")
        except ValueError as exc:
            resp.status = 422
            resp.text = str(exc)
        else:
            resp.text = "set"


app = lanner.App(
    autoload_plugins=False,
    plugins=[lanner_media_cbor],
    plugin_config={"media_cbor": {"ws_binary": False}},
)
app.add_route("/ws/media", Media())
app.add_route("/ws/unescape", Unescape())
app.add_route("/echo", Echo())
app.add_route("/header", Header())
app.add_route("/header-caught", HeaderCaught())
