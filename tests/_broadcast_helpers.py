"""Shared helpers for the broadcast tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import lanner


async def until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Wait until ``condition()`` holds; fail after a generous ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"Timed out after {timeout} s waiting until {what}.")
        await asyncio.sleep(0.001)


async def subscribers(app: lanner.App, count: int) -> None:
    """Wait until ``app.broadcast`` has ``count`` local subscribers."""
    await until(lambda: app.broadcast.stats()["subscribers"] >= count, f"{count} subscribers")
