"""The lost-connection fallback for ASGI servers before WebSocket spec 2.4.

Servers on spec 2.4 or later (every current uvicorn implementation) raise on a
send to a closed connection, and lanner turns that into
:class:`~lanner.WebSocketDisconnected`; such connections run no background
task at all. Only on older servers, and only while
``ws_options.max_receive_queue`` is positive, does a connection start the
reader here: it buffers the client's messages and notices the disconnect, so
that an endpoint that only sends still learns the client has gone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final

from lanner._types import Message, Receive

__all__ = ["start_reader"]

_NO_STATUS_RECEIVED: Final = 1005
_ABNORMAL_CLOSURE: Final = 1006


def start_reader(
    server_receive: Receive,
    queue: asyncio.Queue[Message],
    on_lost: Callable[[int], None],
    name: str,
) -> asyncio.Task[None]:
    """Start reading ``server_receive`` into ``queue`` until the client leaves.

    ``on_lost`` gets the close code as soon as the disconnect arrives, before
    the disconnect message is queued (the queue may be full, and a sender must
    learn of the loss without waiting for the app to drain it). Cancel the
    returned task to stop reading.
    """
    return asyncio.get_running_loop().create_task(_read(server_receive, queue, on_lost), name=name)


async def _read(
    server_receive: Receive, queue: asyncio.Queue[Message], on_lost: Callable[[int], None]
) -> None:
    while True:
        try:
            message = await server_receive()
        except Exception:
            # The server's receive failed: treat it as a lost connection so
            # the app's pending receive and later sends end instead of hanging.
            message = {"type": "websocket.disconnect", "code": _ABNORMAL_CLOSURE}
        if message["type"] != "websocket.receive":
            on_lost(int(message.get("code") or _NO_STATUS_RECEIVED))
            await queue.put(message)
            return
        await queue.put(message)
