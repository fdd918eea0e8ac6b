"""Turning a decoder's failure on an untrusted payload into :class:`~lanner.MediaMalformedError`.

Decoders fail in many ways on hostile input: syntax errors and bad UTF-8
(``ValueError``), nesting deeper than Python recurses (``RecursionError``),
integers too long to convert (``ValueError``), odd values in a binary format
(``TypeError``, ``OverflowError``). The built-in handlers catch all of them and
raise the one documented error, so an app needs a single ``except``.
"""

from __future__ import annotations

import re
from typing import Any, Final

from lanner.errors import MediaMalformedError

__all__ = ["DECODER_ERRORS", "check_no_lone_surrogates", "malformed"]

DECODER_ERRORS: Final = (ValueError, TypeError, OverflowError, RecursionError)
"""What a decoder may raise for a bad payload (``UnicodeDecodeError`` is a ``ValueError``)."""

# A JSON escape of a UTF-16 surrogate, high or low; only such an escape can put
# a surrogate into decoded text (UTF-8 decoders refuse encoded surrogates).
_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def malformed(
    media_type: str, where: str, exc: BaseException, reason: str | None = None
) -> MediaMalformedError:
    """Return the error for a payload that ``exc`` says does not decode.

    Args:
        media_type: What the payload should have been (``"application/json"``).
        where: ``"request body"`` or ``"message"``, for the description.
        exc: The decoder's exception.
        reason: What was wrong, when ``exc`` does not say it well.
    """
    if reason is None and isinstance(exc, RecursionError):
        reason = (
            "it nests deeper than the server can decode (Python's recursion limit); "
            "flatten the structure"
        )
    if reason is None:
        reason = str(exc) or type(exc).__name__
    return MediaMalformedError(
        media_type, exc, description=f"The {where} could not be decoded as {media_type}: {reason}"
    )


def check_no_lone_surrogates(text: str, value: object, where: str) -> None:
    """Refuse decoded JSON that holds a lone surrogate (an unpaired ``\\ud800`` escape).

    A lone surrogate is not a Unicode character: it cannot be encoded as UTF-8,
    so text holding one could never be sent on again (RFC 7493 §2.1 forbids it
    in I-JSON). PERF: the common payload has no backslash at all, and finding
    one is a ``memchr``; only a payload with a surrogate escape has its decoded
    value walked.

    Raises:
        MediaMalformedError: ``value`` holds a lone surrogate.
    """
    if "\\" not in text or _SURROGATE_ESCAPE.search(text) is None:
        return
    found = _lone_surrogate(value)
    if found is not None:
        raise MediaMalformedError(
            "application/json",
            description=(
                f"The {where} could not be decoded as application/json: it holds a lone "
                f"surrogate escape (\\u{ord(found):04x}), which is not a Unicode character "
                "and cannot be encoded as UTF-8. Escape a character beyond U+FFFF as a "
                "surrogate pair (\\ud83d\\ude00), or send it as UTF-8."
            ),
        )


def _lone_surrogate(value: object) -> str | None:
    pending: list[Any] = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not item.isascii():
                match = _SURROGATE.search(item)
                if match is not None:
                    return match.group()
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, (list, tuple)):
            pending.extend(item)
    return None
