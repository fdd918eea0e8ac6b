"""Media handlers: how lanner turns objects into bodies and messages, and back."""

from lanner.media.base import BaseHandler, BinaryBaseHandlerWS, TextBaseHandlerWS
from lanner.media.handlers import Handlers
from lanner.media.json import JSONHandler, JSONHandlerWS
from lanner.media.msgpack import MessagePackHandler, MessagePackHandlerWS

__all__ = [
    "BaseHandler",
    "BinaryBaseHandlerWS",
    "Handlers",
    "JSONHandler",
    "JSONHandlerWS",
    "MessagePackHandler",
    "MessagePackHandlerWS",
    "TextBaseHandlerWS",
]
