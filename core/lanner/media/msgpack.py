"""MessagePack media handlers, for HTTP and for WebSocket BINARY messages."""

from __future__ import annotations

from typing import Any, Final

import msgpack

from lanner.media._malformed import DECODER_ERRORS, malformed
from lanner.media.base import BaseHandler, BinaryBaseHandlerWS

__all__ = ["MessagePackHandler", "MessagePackHandlerWS"]

_MEDIA_TYPE: Final = "application/msgpack"
_TOO_DEEP: Final = "it nests deeper than 1024 levels (the unpacker's limit); flatten the structure"


def _unpack(payload: bytes | bytearray | memoryview, where: str) -> Any:
    # NOTE: unpackb bounds every declared length by the payload's own size, so a
    # hostile header cannot make it allocate more than it was sent.
    try:
        return msgpack.unpackb(payload, raw=False, strict_map_key=True)
    except msgpack.StackError as exc:
        raise malformed(_MEDIA_TYPE, where, exc, _TOO_DEEP) from exc
    except DECODER_ERRORS as exc:
        raise malformed(_MEDIA_TYPE, where, exc) from exc


class MessagePackHandler(BaseHandler):
    """``application/msgpack`` bodies.

    A body that is not one complete MessagePack object (truncated, followed by
    extra bytes, bad UTF-8 in a string, map keys other than ``str`` or
    ``bytes``, nesting over 1024 levels) raises
    :class:`~lanner.MediaMalformedError` (400).
    """

    __slots__ = ("_packer",)

    def __init__(self) -> None:
        self._packer = msgpack.Packer(use_bin_type=True, autoreset=True)

    def serialize(self, media: object, content_type: str) -> bytes:
        """Return ``media`` packed as MessagePack."""
        return self._packer.pack(media)  # type: ignore[no-any-return]

    def deserialize(self, data: bytes, content_type: str) -> object:
        """Return the object unpacked from a MessagePack body.

        Raises:
            MediaMalformedError: The body is not valid MessagePack (a 400).
        """
        return _unpack(data, "request body")


class MessagePackHandlerWS(BinaryBaseHandlerWS):
    """MessagePack over WebSocket BINARY messages, the default BINARY handler.

    ``ws.receive_media()`` raises :class:`~lanner.MediaMalformedError` for a
    message that does not decode; the connection stays usable.
    """

    __slots__ = ("_packer",)

    def __init__(self) -> None:
        self._packer = msgpack.Packer(use_bin_type=True, autoreset=True)

    def serialize(self, media: object) -> bytes:
        """Return ``media`` packed as MessagePack."""
        return self._packer.pack(media)  # type: ignore[no-any-return]

    def deserialize(self, payload: bytes) -> object:
        """Return the object unpacked from a BINARY message.

        Raises:
            MediaMalformedError: The message is not valid MessagePack.
        """
        return _unpack(payload, "message")
