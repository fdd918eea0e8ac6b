"""``lanner.create_task``: background tasks that cannot be garbage-collected mid-run."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["create_task"]

T = TypeVar("T")

# NOTE: the event loop keeps only weak references to tasks; a task nobody
# references can be collected while it is still running.
_running: set[asyncio.Task[Any]] = set()


def create_task(coro: Coroutine[Any, Any, T], *, name: str | None = None) -> asyncio.Task[T]:
    """Start ``coro`` as a task and keep a reference to it until it finishes.

    Use it in a responder that runs a reader beside a writer; cancel and await
    the task before the responder returns, so nothing outlives the connection.
    """
    task = asyncio.get_running_loop().create_task(coro, name=name)
    _running.add(task)
    task.add_done_callback(_running.discard)
    return task
