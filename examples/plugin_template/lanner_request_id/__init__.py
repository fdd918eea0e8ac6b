"""lanner_request_id: an ID for every request, in req.context and a response header."""

from __future__ import annotations

import re
import uuid

import lanner

name = "request_id"
"""The plugin name: its entry-point name and its plugin_config key."""

_DEFAULTS = {"header": "X-Request-ID", "trust_incoming": False}
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # what a header name may contain


class RequestIdMiddleware:
    """Set req.context.request_id, and echo it in a response header."""

    def __init__(self, header: str, trust_incoming: bool) -> None:
        self.header = header
        self.trust_incoming = trust_incoming

    async def process_request(self, req: lanner.Request, resp: lanner.Response) -> None:
        incoming = req.get_header(self.header) if self.trust_incoming else None
        req.context.request_id = incoming or uuid.uuid4().hex

    async def process_response(
        self, req: lanner.Request, resp: lanner.Response, resource: object, req_succeeded: bool
    ) -> None:
        # Middleware that ran before this one (an auth check) may have refused the
        # request before process_request above ran: the ID may not exist yet.
        request_id = getattr(req.context, "request_id", None) or uuid.uuid4().hex
        resp.set_header(self.header, request_id)


def _settings(app: lanner.App) -> tuple[str, bool]:
    config = {**_DEFAULTS, **app.plugin_config(name)}
    unknown = sorted(set(config) - set(_DEFAULTS))
    if unknown:
        raise ValueError(
            f"plugin_config[{name!r}] has unknown key(s) {unknown}; "
            f"the valid keys are {sorted(_DEFAULTS)}."
        )
    header, trust = config["header"], config["trust_incoming"]
    if not isinstance(header, str) or not _TOKEN.fullmatch(header):
        raise ValueError(
            f"plugin_config[{name!r}]['header'] must be a header name, got {header!r}."
        )
    if not isinstance(trust, bool):
        raise ValueError(f"plugin_config[{name!r}]['trust_incoming'] must be True or False.")
    return header, trust


@lanner.hookimpl
def lanner_configure(app: lanner.App) -> None:
    """Check the config when the App is built, so a mistake fails before serving."""
    _settings(app)


@lanner.hookimpl
def lanner_middleware(app: lanner.App) -> list[object]:
    """One middleware per App, configured from this App's plugin_config."""
    return [RequestIdMiddleware(*_settings(app))]
