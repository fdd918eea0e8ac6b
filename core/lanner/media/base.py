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


class TextBaseHandlerWS:
    """Serialises media to, and from, WebSocket TEXT payloads (``str``).

    Override :meth:`serialize` to send media and :meth:`deserialize` to receive
    it; a handler used in one direction only may implement just that method.
    The other one raises ``NotImplementedError`` naming the handler when it is
    called.
    """

    def serialize(self, media: object) -> str:
        """Return ``media`` encoded as the text of one TEXT message."""
        raise _not_implemented(self, "serialize", "send_media()")

    def deserialize(self, payload: str) -> object:
        """Return the object decoded from a TEXT message.

        Raise :class:`~lanner.MediaMalformedError` for a payload that does not
        decode, as the built-in handlers do, so one ``except ValueError``
        serves apps; errors propagate to the responder unchanged, and the
        connection stays usable.
        """
        raise _not_implemented(self, "deserialize", "receive_media()")


class BinaryBaseHandlerWS:
    """Serialises media to, and from, WebSocket BINARY payloads (``bytes``).

    As with :class:`TextBaseHandlerWS`, a handler may implement only the
    direction it is used in; the other method raises ``NotImplementedError``.
    """

    def serialize(self, media: object) -> bytes | bytearray | memoryview:
        """Return ``media`` encoded as the bytes of one BINARY message."""
        raise _not_implemented(self, "serialize", "send_media()")

    def deserialize(self, payload: bytes) -> object:
        """Return the object decoded from a BINARY message.

        Raise :class:`~lanner.MediaMalformedError` for a payload that does not
        decode (see :meth:`TextBaseHandlerWS.deserialize`); errors propagate to
        the responder unchanged, and the connection stays usable.
        """
        raise _not_implemented(self, "deserialize", "receive_media()")


def _not_implemented(handler: object, method: str, caller: str) -> NotImplementedError:
    return NotImplementedError(
        f"{type(handler).__name__} does not implement {method}(), so it cannot serve "
        f"{caller}; override {method}() in the handler (or use a handler that has it)."
    )
