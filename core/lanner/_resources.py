"""Turning a resource object into the responders a route dispatches to."""

from __future__ import annotations

import inspect
from typing import Any, Final

from lanner._types import Responder
from lanner.errors import HTTPMethodNotAllowed

__all__ = ["HTTP_METHODS", "RouteTarget", "build_route_target"]

HTTP_METHODS: Final = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class RouteTarget:
    """What a route resolves to: the resource and its responders by method.

    Built once at ``add_route``, so dispatch is a dict lookup.
    """

    __slots__ = ("allowed_methods", "not_allowed", "resource", "responders", "ws_responder")

    def __init__(
        self,
        resource: object,
        responders: dict[str, Responder],
        ws_responder: Responder | None,
    ) -> None:
        self.resource = resource
        self.responders = responders
        self.ws_responder = ws_responder
        self.allowed_methods = tuple(m for m in HTTP_METHODS if m in responders)
        allowed = self.allowed_methods

        async def not_allowed(req: Any, resp: Any, **params: Any) -> None:
            raise HTTPMethodNotAllowed(allowed)

        self.not_allowed: Responder = not_allowed
        """The responder for a method the resource does not implement (405)."""


def _check_async(resource: object, name: str, responder: object) -> Responder:
    if not callable(responder):
        raise TypeError(f"{type(resource).__name__}.{name} must be a method, got {responder!r}.")
    if not inspect.iscoroutinefunction(responder):
        raise TypeError(
            f"Responder {type(resource).__name__}.{name} must be a coroutine function "
            f"(async def {name}(...)): lanner awaits every responder. Make it async, "
            "and move blocking work to a thread with asyncio.to_thread()."
        )
    return responder


def build_route_target(resource: object, suffix: str | None = None) -> RouteTarget:
    """Collect ``on_<method>[_<suffix>]`` responders of ``resource``.

    HEAD falls back to GET (the body is dropped) and OPTIONS gets a default
    responder that lists the allowed methods.

    Raises:
        TypeError: A responder is not ``async def``, or the resource has none.
    """
    tail = f"_{suffix}" if suffix else ""
    responders: dict[str, Responder] = {}
    for method in HTTP_METHODS:
        name = f"on_{method.lower()}{tail}"
        found = getattr(resource, name, None)
        if found is not None:
            responders[method] = _check_async(resource, name, found)
    ws_name = f"on_websocket{tail}"
    ws_found = getattr(resource, ws_name, None)
    ws_responder = _check_async(resource, ws_name, ws_found) if ws_found is not None else None
    if not responders and ws_responder is None:
        expected = ", ".join(f"on_{m.lower()}{tail}" for m in HTTP_METHODS)
        raise TypeError(
            f"{type(resource).__name__} has no responder: expected at least one of "
            f"{expected} or {ws_name}."
        )
    if "GET" in responders and "HEAD" not in responders:
        responders["HEAD"] = responders["GET"]
    if "OPTIONS" not in responders:
        allowed = ", ".join([m for m in HTTP_METHODS if m in responders] + ["OPTIONS"])

        async def on_options(req: Any, resp: Any, **params: Any) -> None:
            resp.status = 200
            resp.set_header("Allow", allowed)
            resp.data = b""

        responders["OPTIONS"] = on_options
    return RouteTarget(resource, responders, ws_responder)
