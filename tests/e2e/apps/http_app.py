"""The HTTP app the end-to-end tests serve under a real uvicorn.

Each route exercises one part of lanner's HTTP core: routing and converters,
query parameters, media in and out, errors, middleware order (reported in
an ``X-Trace`` response header), sinks, lifespan state and the root path.
"""

from __future__ import annotations

from typing import Any

import lanner


class Trace:
    """Middleware recording each stage in ``req.context.trace`` and the X-Trace header."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def process_request(self, req: lanner.Request, resp: lanner.Response) -> None:
        if not hasattr(req.context, "trace"):
            req.context.trace = []
        req.context.trace.append(f"{self.name}.request")

    async def process_resource(
        self, req: lanner.Request, resp: lanner.Response, resource: object, params: dict[str, Any]
    ) -> None:
        req.context.trace.append(f"{self.name}.resource")

    async def process_response(
        self, req: lanner.Request, resp: lanner.Response, resource: object, req_succeeded: bool
    ) -> None:
        req.context.trace.append(f"{self.name}.response")
        resp.set_header("X-Trace", ",".join(req.context.trace))


class State:
    """Middleware whose startup hook records that the app started."""

    def __init__(self) -> None:
        self.events: list[str] = []

    async def process_startup(self, scope: dict[str, Any], event: dict[str, Any]) -> None:
        self.events.append("startup")

    async def process_shutdown(self, scope: dict[str, Any], event: dict[str, Any]) -> None:
        self.events.append("shutdown")


STATE = State()


class Hello:
    async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
        req.context.trace.append("responder")
        resp.text = "Hello, world!"


class Item:
    async def on_get(self, req: lanner.Request, resp: lanner.Response, id: int) -> None:
        resp.media = {"id": id, "type": type(id).__name__}

    async def on_delete(self, req: lanner.Request, resp: lanner.Response, id: int) -> None:
        raise lanner.HTTPConflict(description=f"Item {id} is in use.")


class Search:
    async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
        resp.media = {
            "q": req.get_param("q", required=True),
            "limit": req.get_param_as_int("limit", default=10, min_value=1, max_value=100),
            "exact": req.get_param_as_bool("exact", default=False),
            "tags": req.get_param_as_list("tags", default=[]),
        }


class Echo:
    """Echoes the decoded body back in the same media type."""

    async def on_post(self, req: lanner.Request, resp: lanner.Response) -> None:
        media = await req.get_media()
        resp.content_type = req.content_type
        resp.media = {"echo": media}


class Lifespan:
    async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
        resp.media = {"events": STATE.events}


class Where:
    async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
        resp.media = {
            "path": req.path,
            "root_path": req.root_path,
            "url": req.url,
            "client": req.remote_addr,
            "host": req.host,
        }


class Crash:
    async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
        raise RuntimeError("e2e-secret-detail")


async def files(req: lanner.Request, resp: lanner.Response, rest: str) -> None:
    resp.media = {"sink": "files", "rest": rest}


app = lanner.App(middleware=[Trace("a"), Trace("b"), STATE], autoload_plugins=False)
app.add_route("/hello", Hello())
app.add_route("/items/{id:int}", Item())
app.add_route("/search", Search())
app.add_route("/echo", Echo())
app.add_route("/lifespan", Lifespan())
app.add_route("/where", Where())
app.add_route("/crash", Crash())
app.add_sink(files, r"/files/(?P<rest>.*)")
