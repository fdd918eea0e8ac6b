"""The CBOR media handlers: HTTP ``application/cbor`` bodies and WebSocket BINARY messages."""

from __future__ import annotations

from lanner.media import BaseHandler, BinaryBaseHandlerWS
from lanner_media_cbor._codec import MEDIA_TYPE, decode, encode

__all__ = ["MEDIA_TYPE", "CBORHandler", "CBORHandlerWS"]


class CBORHandler(BaseHandler):
    """``application/cbor`` request and response bodies.

    A body that does not decode raises
    :class:`~lanner_media_cbor.CBORPayloadError`, which lanner answers with 400.
    """

    __slots__ = ()

    def serialize(self, media: object, content_type: str) -> bytes:
        """Return ``media`` encoded as CBOR."""
        return encode(media)

    def deserialize(self, data: bytes, content_type: str) -> object:
        """Return the object decoded from a CBOR body (hardened against hostile input)."""
        return decode(data)


class CBORHandlerWS(BinaryBaseHandlerWS):
    """CBOR over WebSocket BINARY messages.

    ``ws.receive_media()`` raises :class:`~lanner_media_cbor.CBORPayloadError`
    for a BINARY message that does not decode; the connection stays usable, so
    the responder can catch it and carry on.
    """

    __slots__ = ()

    def serialize(self, media: object) -> bytes:
        """Return ``media`` encoded as the bytes of one BINARY message."""
        return encode(media)

    def deserialize(self, payload: bytes) -> object:
        """Return the object decoded from a BINARY message (hardened against hostile input)."""
        return decode(payload)
