"""MessagePack media handlers, for HTTP and for WebSocket BINARY messages."""

from __future__ import annotations

from typing import Any

import msgpack

from lanner.media.base import BaseHandler, BinaryBaseHandlerWS

__all__ = ["MessagePackHandler", "MessagePackHandlerWS"]


def _unpack(payload: bytes | bytearray | memoryview) -> Any:
    # NOTE: unpackb bounds every declared length by the payload's own size, so a
    # hostile header cannot make it allocate more than it was sent.
    return msgpack.unpackb(payload, raw=False, strict_map_key=True)


class MessagePackHandler(BaseHandler):
    """``application/msgpack`` bodies."""

    __slots__ = ("_packer",)

    def __init__(self) -> None:
        self._packer = msgpack.Packer(use_bin_type=True, autoreset=True)

    def serialize(self, media: object, content_type: str) -> bytes:
        """Return ``media`` packed as MessagePack."""
        return self._packer.pack(media)  # type: ignore[no-any-return]

    def deserialize(self, data: bytes, content_type: str) -> object:
        """Return the object unpacked from a MessagePack body.

        Raises:
            ValueError: The body is not valid MessagePack (lanner turns it into 400).
        """
        return _unpack(data)


class MessagePackHandlerWS(BinaryBaseHandlerWS):
    """MessagePack over WebSocket BINARY messages, the default BINARY handler."""

    __slots__ = ("_packer",)

    def __init__(self) -> None:
        self._packer = msgpack.Packer(use_bin_type=True, autoreset=True)

    def serialize(self, media: object) -> bytes:
        """Return ``media`` packed as MessagePack."""
        return self._packer.pack(media)  # type: ignore[no-any-return]

    def deserialize(self, payload: bytes) -> object:
        """Return the object unpacked from a BINARY message; errors reach the responder."""
        return _unpack(payload)
