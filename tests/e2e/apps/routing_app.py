"""The app the routing end-to-end tests serve: hostile-looking templates and a ``/ping``.

Each template here once took seconds to refuse a long crafted path (regular
expression backtracking), freezing every other request on the server.
"""

from __future__ import annotations

import lanner


class Ping:
    """Answers ``pong``: the request that must not wait for a hostile one."""

    async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
        resp.text = "pong"


class Fields:
    """Echoes the matched fields, so a test can see which route won."""

    async def on_get(self, req: lanner.Request, resp: lanner.Response, **fields: object) -> None:
        resp.media = {key: str(value) for key, value in fields.items()}


TEMPLATES = (
    "/archive/{year}-{month}-{day}.json",
    "/a/{a}-{b}-{c}-{d}",
    "/{name}.{ext}.bak",
    "/zoom/{level:float}x",
    "/p/{page:int}.{rest}",
    "/v/{a:float}.{b:float}.{c:float}",
)

app = lanner.App()
app.add_route("/ping", Ping())
for template in TEMPLATES:
    app.add_route(template, Fields())
