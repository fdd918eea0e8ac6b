"""Test helpers: drive a lanner app in-process, over HTTP, SSE and WebSocket."""

from lanner.testing._http import Result, StreamedResult
from lanner.testing._sse_parser import ParsedEvent, SSEParser
from lanner.testing._ws import SimulatedWebSocket
from lanner.testing.broadcast_kit import BroadcastCheck, broadcast_checks
from lanner.testing.client import SyncStreamedResult, TestClient
from lanner.testing.conductor import ASGIConductor
from lanner.testing.plugin_app import plugin_app

__all__ = [
    "ASGIConductor",
    "BroadcastCheck",
    "ParsedEvent",
    "Result",
    "SSEParser",
    "SimulatedWebSocket",
    "StreamedResult",
    "SyncStreamedResult",
    "TestClient",
    "broadcast_checks",
    "plugin_app",
]
