"""An app behind ``auth_mw`` (loaded in process) with HTTP, a sink, WebSocket and SSE routes.

Served by a real uvicorn for ``tests/e2e/test_auth_e2e.py`` (CORS preflights,
same-origin handshakes) and ``tests/e2e/test_log_hygiene_e2e.py`` (no secret in
the server's output at any log level). The token comes from
``$AUTH_APP_TOKEN``. ``GET /calls`` (exempt) reports how many times each
responder and the sink ran, so a test in another process can check that a
request never reached them.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import AsyncIterator

import lanner
import lanner_auth_mw
from lanner import Request, Response, SSEvent, WebSocket, WebSocketDisconnected

TOKEN_ENV = "AUTH_APP_TOKEN"
"""The environment variable holding alice's token."""

OTHER_ORIGIN = "https://app.example"
"""An origin allowed besides the page's own."""

_calls: Counter[str] = Counter()


class Private:
    """``/private``: a resource whose body only alice may read."""

    async def on_get(self, req: Request, resp: Response) -> None:
        """Answer with the identity."""
        _calls["on_get"] += 1
        resp.media = {"auth": req.context.auth, "secret": "private body"}

    async def on_options(self, req: Request, resp: Response) -> None:
        """An app's own OPTIONS responder, which a preflight must never reach."""
        _calls["on_options"] += 1
        resp.media = {"secret": "private options body"}


async def sink(req: Request, resp: Response) -> None:
    """``/files/...``: a sink with a private body."""
    _calls[f"sink {req.method}"] += 1
    resp.media = {"secret": "private sink body"}


class Calls:
    """``GET /calls`` (exempt): how often each responder and the sink ran."""

    async def on_get(self, req: Request, resp: Response) -> None:
        """Answer with the counts."""
        resp.media = dict(_calls)


class Echo:
    """``/ws``: greets with the identity, then echoes text until the client leaves."""

    async def on_websocket(self, req: Request, ws: WebSocket) -> None:
        """Accept (selecting ``chat.v1`` if offered), greet, echo."""
        await ws.accept(subprotocol="chat.v1" if "chat.v1" in ws.subprotocols else None)
        await ws.send_media({"auth": req.context.auth})
        while True:
            try:
                await ws.send_text(await ws.receive_text())
            except WebSocketDisconnected:
                return


class Feed:
    """``GET /events``: three events for an authenticated client."""

    async def on_get(self, req: Request, resp: Response) -> None:
        """Stream three events naming the identity."""
        resp.sse = self._events(str(req.context.auth))

    async def _events(self, who: str) -> AsyncIterator[SSEvent]:
        for n in range(3):
            yield SSEvent(json={"n": n, "auth": who}, event_id=str(n))


app = lanner.App(
    autoload_plugins=False,
    plugins=[lanner_auth_mw],
    plugin_config={
        "auth_mw": {
            "tokens": {"alice": os.environ.get(TOKEN_ENV, "unset-token-for-imports")},
            "query_param": "access_token",
            "subprotocol_prefix": "bearer.",
            "allowed_origins": ["self", OTHER_ORIGIN],
            "exempt": ["/calls"],
        },
    },
)
app.add_route("/private", Private())
app.add_route("/calls", Calls())
app.add_route("/ws", Echo())
app.add_route("/events", Feed())
app.add_sink(sink, "/files")
