"""Test helpers: drive an app in-process (HTTP, SSE, WebSocket), or serve it for real."""

from lanner.testing._http import Result, StreamedResult
from lanner.testing._pipe import QUEUE_SIZE
from lanner.testing._sse_parser import ParsedEvent, SSEParser
from lanner.testing._ws import SimulatedWebSocket
from lanner.testing.broadcast_kit import BroadcastCheck, broadcast_checks
from lanner.testing.client import SyncStreamedResult, TestClient
from lanner.testing.conductor import ASGIConductor
from lanner.testing.plugin_app import plugin_app
from lanner.testing.server import LiveServer, free_port, serve

__all__ = [
    "QUEUE_SIZE",
    "ASGIConductor",
    "BroadcastCheck",
    "LiveServer",
    "ParsedEvent",
    "Result",
    "SSEParser",
    "SimulatedWebSocket",
    "StreamedResult",
    "SyncStreamedResult",
    "TestClient",
    "broadcast_checks",
    "free_port",
    "plugin_app",
    "serve",
]
