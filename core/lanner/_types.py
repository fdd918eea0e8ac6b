"""ASGI type aliases shared across lanner's modules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
"""The ASGI connection scope."""

Message = MutableMapping[str, Any]
"""One ASGI event, sent or received."""

Receive = Callable[[], Awaitable[Message]]
"""The ASGI ``receive`` callable."""

Send = Callable[[Message], Awaitable[None]]
"""The ASGI ``send`` callable."""

ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
"""An ASGI 3 application."""

Headers = list[tuple[bytes, bytes]]
"""Raw response headers as ASGI wants them: lower-case latin-1 names and values."""
