"""JSON media handlers (stdlib ``json``), for HTTP and for WebSocket TEXT messages."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

from lanner.media._malformed import DECODER_ERRORS, check_no_lone_surrogates, malformed
from lanner.media.base import BaseHandler, TextBaseHandlerWS

__all__ = ["JSONHandler", "JSONHandlerWS"]

Dumps = Callable[[Any], str]
Loads = Callable[[str], Any]

_LOADS: Loads = json.JSONDecoder().decode
_MEDIA_TYPE: Final = "application/json"


def _compact_dumps() -> Dumps:
    """Return the fastest compact, UTF-8-friendly stdlib encoder available.

    PERF: ``JSONEncoder.encode`` builds a new C encoder on every call; building
    it once and calling it directly halves the cost for small documents. The
    C encoder is an implementation detail of CPython's ``json``, so fall back
    to the public API where it is missing.
    """
    public = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    make_encoder = getattr(json.encoder, "c_make_encoder", None)
    encode_string = getattr(json.encoder, "c_encode_basestring", None)
    if make_encoder is None or encode_string is None:
        return public
    # markers=None skips the circular-reference check: a cyclic object then
    # fails with RecursionError instead of ValueError, which lanner reports
    # the same way (a 500 with the traceback in the log).
    encoder = make_encoder(None, _reject, encode_string, None, ":", ",", False, False, True)

    def dumps(obj: Any) -> str:
        return "".join(encoder(obj, 0))

    return dumps


def _reject(obj: object) -> object:
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


compact_dumps: Final[Dumps] = _compact_dumps()
"""Compact, UTF-8-friendly JSON encoding shared by lanner's JSON users."""


class JSONHandler(BaseHandler):
    """``application/json`` bodies, compact and UTF-8.

    A body that is not UTF-8 JSON, nests too deeply, holds an integer too long
    to convert or a lone surrogate raises :class:`~lanner.MediaMalformedError`
    (400).

    Args:
        dumps: A function from object to ``str``; defaults to a compact stdlib
            encoder (``ensure_ascii=False``).
        loads: A function from ``str`` to object; defaults to the stdlib decoder.
    """

    __slots__ = ("_dumps", "_loads")

    def __init__(self, dumps: Dumps | None = None, loads: Loads | None = None) -> None:
        self._dumps = dumps or compact_dumps
        self._loads = loads or _LOADS

    def serialize(self, media: object, content_type: str) -> bytes:
        """Return ``media`` as UTF-8 JSON bytes.

        Raises:
            ValueError: ``media`` holds a lone surrogate, which UTF-8 cannot
                encode (only possible in data the app made: decoding refuses it).
        """
        text = self._dumps(media)
        try:
            return text.encode()
        except UnicodeEncodeError as exc:
            bad = exc.object[exc.start : exc.end]
            raise ValueError(
                f"Cannot encode the media as UTF-8 JSON: {bad!r} at index {exc.start} of "
                "the JSON text is a lone surrogate, not a Unicode character. Remove or "
                "replace it (s.encode('utf-8', 'replace').decode() turns it into '?')."
            ) from exc

    def deserialize(self, data: bytes, content_type: str) -> object:
        """Return the object decoded from a UTF-8 JSON body.

        Raises:
            MediaMalformedError: The body is not UTF-8 JSON, or holds something
                that cannot be sent on (see the class); a 400.
        """
        try:
            text = data.decode()
            value = self._loads(text)
        except DECODER_ERRORS as exc:
            raise malformed(_MEDIA_TYPE, "request body", exc) from exc
        check_no_lone_surrogates(text, value, "request body")
        return value

    def dumps(self, media: object) -> str:
        """Return ``media`` as a JSON string (used by SSE's ``json=`` field)."""
        return self._dumps(media)


class JSONHandlerWS(TextBaseHandlerWS):
    """JSON over WebSocket TEXT messages, the default TEXT handler.

    ``ws.receive_media()`` raises :class:`~lanner.MediaMalformedError` (a
    ``ValueError``) for a message that does not decode, as
    :class:`JSONHandler` does for a body; the connection stays usable.

    Args:
        dumps: A function from object to ``str`` (default: compact stdlib encoder).
        loads: A function from ``str`` to object (default: stdlib decoder).
    """

    __slots__ = ("_dumps", "_loads")

    def __init__(self, dumps: Dumps | None = None, loads: Loads | None = None) -> None:
        self._dumps = dumps or compact_dumps
        self._loads = loads or _LOADS

    def serialize(self, media: object) -> str:
        """Return ``media`` as JSON text."""
        return self._dumps(media)

    def deserialize(self, payload: str) -> object:
        """Return the object decoded from JSON text.

        Raises:
            MediaMalformedError: The text is not JSON, or holds something that
                cannot be sent on (see :class:`JSONHandler`).
        """
        try:
            value = self._loads(payload)
        except DECODER_ERRORS as exc:
            raise malformed(_MEDIA_TYPE, "message", exc) from exc
        check_no_lone_surrogates(payload, value, "message")
        return value
