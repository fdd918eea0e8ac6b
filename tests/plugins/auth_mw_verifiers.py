"""``verify`` callables for the auth_mw tests, imported by ``"module:callable"`` strings."""

from __future__ import annotations

import asyncio
from typing import Any

from lanner import Request

SERVICE_TOKEN = "svc-token-0123456789"
"""The one token the verifiers accept."""

calls: list[tuple[str, str]] = []
"""``(token, path)`` of every call to :func:`verify_recording`."""

not_callable = 42
"""Something a config might wrongly name as ``verify``."""


def verify_sync(token: str, req: Request) -> dict[str, Any] | None:
    """Accept :data:`SERVICE_TOKEN` as the service identity."""
    return {"service": "billing", "via": "sync"} if token == SERVICE_TOKEN else None


async def verify_async(token: str, req: Request) -> dict[str, Any] | None:
    """Like :func:`verify_sync`, awaiting first."""
    await asyncio.sleep(0)
    return {"service": "billing", "via": "async"} if token == SERVICE_TOKEN else None


def verify_false(token: str, req: Request) -> bool:
    """Return ``False`` for every token (a refusal, not an identity)."""
    return False


def verify_recording(token: str, req: Request) -> str | None:
    """Record the call, then accept :data:`SERVICE_TOKEN` as ``"recorded"``."""
    calls.append((token, req.path))
    return "recorded" if token == SERVICE_TOKEN else None
