"""Base classes for media handlers: HTTP bodies and WebSocket payloads.

A handler turns Python objects into bytes or text and back. HTTP handlers are
chosen by media type (``Content-Type``); WebSocket handlers by payload type
(TEXT or BINARY). Handlers are created once and shared by every request, so
they must hold no per-request state.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

__all__ = ["BaseHandler", "BinaryBaseHandlerWS", "TextBaseHandlerWS"]


class BaseHandler(ABC):
    """Serialises HTTP response media and deserialises request bodies.

    Subclasses implement :meth:`serialize` and :meth:`deserialize`. A
    ``deserialize`` that raises makes the request fail with 400 naming the
    media type; lanner wraps the error, so handlers may raise whatever their
    decoder raises.
    """

    @abstractmethod
    def serialize(self, media: object, content_type: str) -> bytes:
        """Return ``media`` encoded as a response body of ``content_type``."""

    @abstractmethod
    def deserialize(self, data: bytes, content_type: str) -> object:
        """Return the object decoded from a request body of ``content_type``."""


class TextBaseHandlerWS(ABC):
    """Serialises media to, and from, WebSocket TEXT payloads (``str``)."""

    @abstractmethod
    def serialize(self, media: object) -> str:
        """Return ``media`` encoded as the text of one TEXT message."""

    @abstractmethod
    def deserialize(self, payload: str) -> object:
        """Return the object decoded from a TEXT message.

        Raise :class:`~lanner.MediaMalformedError` for a payload that does not
        decode, as the built-in handlers do, so one ``except ValueError``
        serves apps; errors propagate to the responder unchanged, and the
        connection stays usable.
        """


class BinaryBaseHandlerWS(ABC):
    """Serialises media to, and from, WebSocket BINARY payloads (``bytes``)."""

    @abstractmethod
    def serialize(self, media: object) -> bytes | bytearray | memoryview:
        """Return ``media`` encoded as the bytes of one BINARY message."""

    @abstractmethod
    def deserialize(self, payload: bytes) -> object:
        """Return the object decoded from a BINARY message.

        Raise :class:`~lanner.MediaMalformedError` for a payload that does not
        decode (see :meth:`TextBaseHandlerWS.deserialize`); errors propagate to
        the responder unchanged, and the connection stays usable.
        """
