"""Middleware: checked when added, flattened into per-stage method lists once."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, Final

from lanner._types import (
    LifespanStage,
    RequestStage,
    RequestWsStage,
    ResourceStage,
    ResourceWsStage,
    ResponseStage,
)

__all__ = ["MIDDLEWARE_METHODS", "MiddlewareChain", "check_middleware"]

MIDDLEWARE_METHODS: Final = (
    "process_request",
    "process_resource",
    "process_response",
    "process_request_ws",
    "process_resource_ws",
    "process_startup",
    "process_shutdown",
)


def check_middleware(middleware: object) -> None:
    """Check that ``middleware`` has at least one known method, each ``async``.

    Raises:
        TypeError: It is a class rather than an instance, has none of
            :data:`MIDDLEWARE_METHODS`, has a
            ``process_*`` method with another name (a likely typo), or one of
            its methods is not a coroutine function.
    """
    if isinstance(middleware, type):
        raise TypeError(
            f"Middleware {middleware.__qualname__} is a class; middleware is an instance "
            f"whose methods lanner calls: pass {middleware.__qualname__}(...) instead."
        )
    kind = type(middleware).__name__
    found = [name for name in MIDDLEWARE_METHODS if getattr(middleware, name, None) is not None]
    unknown = [
        name
        for name in dir(middleware)
        if name.startswith("process_") and name not in MIDDLEWARE_METHODS
    ]
    if unknown:
        raise TypeError(
            f"Middleware {kind} has unknown method(s) {', '.join(unknown)}; "
            f"middleware methods are: {', '.join(MIDDLEWARE_METHODS)}."
        )
    if not found:
        raise TypeError(
            f"Middleware {kind} has none of the middleware methods "
            f"({', '.join(MIDDLEWARE_METHODS)}); was it passed by mistake?"
        )
    for name in found:
        if not inspect.iscoroutinefunction(getattr(middleware, name)):
            raise TypeError(
                f"Middleware method {kind}.{name} must be a coroutine function "
                f"(async def {name}(...)): lanner awaits it."
            )


class MiddlewareChain:
    """Bound middleware methods per stage, in the order they run.

    Request and resource stages run in the order the middleware was given;
    response and shutdown stages in reverse, so each middleware wraps the ones
    after it.
    """

    __slots__ = (
        "request",
        "request_ws",
        "resource",
        "resource_ws",
        "response",
        "shutdown",
        "startup",
    )

    def __init__(self, middleware: Sequence[object]) -> None:
        def stage(name: str) -> tuple[Any, ...]:
            # check_middleware() checked each method when the middleware was added.
            return tuple(getattr(m, name) for m in middleware if getattr(m, name, None))

        self.request: tuple[RequestStage, ...] = stage("process_request")
        self.resource: tuple[ResourceStage, ...] = stage("process_resource")
        self.response: tuple[ResponseStage, ...] = stage("process_response")[::-1]
        self.request_ws: tuple[RequestWsStage, ...] = stage("process_request_ws")
        self.resource_ws: tuple[ResourceWsStage, ...] = stage("process_resource_ws")
        self.startup: tuple[LifespanStage, ...] = stage("process_startup")
        self.shutdown: tuple[LifespanStage, ...] = stage("process_shutdown")[::-1]
