"""The endpoints every adapter serves, and the payloads they exchange.

Every framework's app serves the same paths with the same behaviour, so a
ratio between two frameworks compares the same work:

- ``/echo`` (WebSocket): accept, then echo each text message until the client leaves.
- ``/media`` (WebSocket): accept, then decode each text message as JSON and send
  the object back encoded as JSON, until the client leaves.
- ``/lifecycle`` (WebSocket): accept, echo one text message, close with 1000.
- ``/push`` (WebSocket): accept, send ``push_count`` text messages, close with 1000.
- ``/sse`` (HTTP GET): a ``text/event-stream`` of ``sse_count`` events, each
  ``data: <SSE_TEXT>``.
- ``/json`` (HTTP GET): ``JSON_BODY`` serialized with the framework's JSON media
  handling (the bare app calls ``json.dumps`` itself).
"""

from __future__ import annotations

from typing import Final

ECHO_PATH: Final = "/echo"
MEDIA_PATH: Final = "/media"
LIFECYCLE_PATH: Final = "/lifecycle"
PUSH_PATH: Final = "/push"
SSE_PATH: Final = "/sse"
JSON_PATH: Final = "/json"

ECHO_TEXT: Final = "hello, world"
"""What clients send to ``/echo`` and ``/lifecycle``."""

MEDIA_OBJECT: Final = {"op": "echo", "n": 1, "text": "hello"}
"""What clients send to ``/media``, as JSON text."""

PUSH_TEXT: Final = "tick"
"""Each message ``/push`` sends."""

SSE_TEXT: Final = "tick"
"""The data of each event ``/sse`` sends."""

JSON_BODY: Final = {"hello": "world", "n": 1}
"""The body ``/json`` returns."""

DEFAULT_PUSH_COUNT: Final = 1000
DEFAULT_SSE_COUNT: Final = 1000

FANOUT_SUB_PATH: Final = "/sub"
"""Fan-out apps (WebSocket): accept, forward every message of :data:`FANOUT_CHANNEL`
as text until the client leaves (the handler keeps its own receive loop)."""

FANOUT_PUB_PATH: Final = "/pub"
"""Fan-out apps (WebSocket): publish each text message received to :data:`FANOUT_CHANNEL`."""

FANOUT_CHANNEL: Final = "fan"
"""The one channel every fan-out subscriber listens to."""

FANOUT_BACKLOG: Final = 256
"""Messages a subscriber may fall behind before it is closed (or, for a peer that
cannot close, before it drops), in every fan-out app."""
