"""The ASGI lifespan protocol: plugin lifespans, then middleware startup and shutdown."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from lanner._types import LifespanStage, Message, Receive, Scope, Send
from lanner.error_handlers import logger

__all__ = ["Lifespan"]


class Lifespan:
    """Starts and stops an app: what runs once per server, not per request.

    Args:
        lifespans: Plugin lifespan managers, entered in order at startup.
        startup: ``process_startup`` middleware methods, in order.
        shutdown: ``process_shutdown`` middleware methods, in the order they run
            (the reverse of startup's).
    """

    __slots__ = ("_managers", "_shutdown", "_stack", "_startup", "startup_error")

    def __init__(
        self,
        lifespans: Sequence[contextlib.AbstractAsyncContextManager[Any]],
        startup: Sequence[LifespanStage],
        shutdown: Sequence[LifespanStage],
    ) -> None:
        self._managers = tuple(lifespans)
        self._startup = tuple(startup)
        self._shutdown = tuple(shutdown)
        self._stack: contextlib.AsyncExitStack | None = None
        self.startup_error: BaseException | None = None
        """Why startup failed, once it has (the test conductor raises it)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the ASGI lifespan protocol: plugin lifespans, then middleware."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup(scope, message)
                except Exception as ex:
                    self.startup_error = ex
                    logger.error("Startup failed", exc_info=ex)
                    await send({"type": "lifespan.startup.failed", "message": _failure(ex)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await self.shutdown(scope, message)
                except Exception as ex:
                    logger.error("Shutdown failed", exc_info=ex)
                    await send({"type": "lifespan.shutdown.failed", "message": _failure(ex)})
                    return
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def startup(self, scope: Scope, event: Message) -> None:
        """Enter plugin lifespans in order, then run ``process_startup`` middleware."""
        stack = contextlib.AsyncExitStack()
        try:
            for manager in self._managers:
                await stack.enter_async_context(manager)
            for process_startup in self._startup:
                await process_startup(scope, event)
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack

    async def shutdown(self, scope: Scope, event: Message) -> None:
        """Run ``process_shutdown`` middleware in reverse, then exit plugin lifespans.

        Every hook runs even if one fails, so each can release what it holds;
        the first failure is raised afterwards and any later ones are logged.
        """
        first_error: Exception | None = None
        try:
            for process_shutdown in self._shutdown:
                try:
                    await process_shutdown(scope, event)
                except Exception as ex:
                    if first_error is None:
                        first_error = ex
                    else:
                        logger.error("process_shutdown failed too", exc_info=ex)
        finally:
            stack, self._stack = self._stack, None
            if stack is not None:
                await stack.aclose()
        if first_error is not None:
            raise first_error


def _failure(ex: BaseException) -> str:
    """The ``message`` of a ``lifespan.*.failed`` event: the error's class and text."""
    return f"{type(ex).__name__}: {ex}"
