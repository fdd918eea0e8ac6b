"""Encoding and hardened decoding of CBOR (RFC 8949) with cbor2.

The decoder faces payloads from the network, so it refuses everything that
could make one small payload cost a lot, and says why:

- a truncated item, or a length header larger than the data (cbor2 reads
  lengths lazily, so a header claiming 2**63 bytes allocates nothing);
- nesting deeper than :data:`MAX_DEPTH` (arrays, maps and tags all count);
- map keys and set elements other than text or byte strings, whose hashes
  Python does not randomise: a map of integer keys chosen to collide takes
  seconds to build from a few hundred kilobytes;
- integers longer than :data:`MAX_BIGNUM_BYTES` (tags 2 and 3), since turning
  a huge one into a ``Decimal`` or ``Fraction`` takes time quadratic in its size;
- value sharing (tags 28/29, which build cyclic objects), string references
  (tags 25/256, which turn a short payload into a huge one when re-encoded),
  regular expressions (tag 35, compiled from attacker text) and MIME
  messages (tag 36);
- any tag cbor2 has no decoder for, and bytes after the first data item.

Every refusal raises :class:`CBORPayloadError`, a :class:`lanner.MediaMalformedError`
(so a ``ValueError``, and a 400 for an HTTP body).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, Final, NoReturn

import cbor2

from lanner import MediaMalformedError

__all__ = [
    "MAX_BIGNUM_BYTES",
    "MAX_DEPTH",
    "MEDIA_TYPE",
    "REFUSED_TAGS",
    "CBORPayloadError",
    "decode",
    "encode",
]

MEDIA_TYPE: Final = "application/cbor"
"""The media type of CBOR bodies (RFC 8949)."""

MAX_DEPTH: Final = 64
"""How deeply arrays, maps and tags may nest in a decoded payload."""

MAX_BIGNUM_BYTES: Final = 1024
"""The longest big integer (tags 2 and 3) decoded, in bytes: 8192 bits."""

REFUSED_TAGS: Final[dict[int, str]] = {
    25: "a string reference",
    28: "a shareable value",
    29: "a shared-value reference",
    35: "a regular expression",
    36: "a MIME message",
    256: "a string-reference namespace",
}
"""Tags cbor2 would decode that this decoder refuses, with what each means."""

_RULES: Final = (
    f"expected one complete CBOR data item, nested at most {MAX_DEPTH} levels deep, with "
    "text or byte-string map keys, integers of at most "
    f"{MAX_BIGNUM_BYTES} bytes, and no tag outside those lanner_media_cbor decodes"
)


class CBORPayloadError(MediaMalformedError):
    """A CBOR payload is malformed, or uses a feature refused for safety.

    Raised by :func:`decode`, so by ``ws.receive_media()`` on a BINARY message
    (the connection stays usable) and by ``req.get_media()`` on an
    ``application/cbor`` body, which lanner answers with 400. It is lanner's
    one media error, :class:`lanner.MediaMalformedError` (a ``ValueError``),
    so apps that catch that, or ``ValueError``, need nothing CBOR-specific.

    Args:
        message: What was wrong and how to fix it: ``str()`` of the error. The
            400 response's description adds the media type in front.
    """

    def __init__(self, message: str) -> None:
        super().__init__(MEDIA_TYPE, message)
        self.args = (message,)


def encode(media: object) -> bytes:
    """Return ``media`` encoded as one CBOR data item.

    Raises:
        TypeError: ``media`` holds something CBOR cannot express as it is: an
            object of an unsupported type, or a naive ``datetime``.
        ValueError: ``media`` is cyclic.
    """
    try:
        return cbor2.dumps(media)
    except cbor2.CBOREncodeError as exc:
        # NOTE: cbor2's own error classes derive from neither TypeError nor
        # ValueError at run time, whatever its stubs say.
        if isinstance(exc, cbor2.CBOREncodeValueError):
            raise ValueError(f"Cannot encode the value as CBOR: {exc}.") from exc
        raise TypeError(
            f"Cannot encode {type(media).__name__} {media!r:.80} as CBOR: {exc}. Give it "
            "dicts, lists, strings, bytes, numbers, booleans, None, timezone-aware "
            "datetimes, UUIDs or Decimals."
        ) from exc


def decode(payload: bytes | bytearray | memoryview) -> Any:
    """Return the object decoded from ``payload``, one CBOR data item.

    Raises:
        CBORPayloadError: The payload is malformed, truncated, followed by extra
            bytes, or uses something this decoder refuses (see the module doc).
    """
    data = bytes(payload)
    stream = io.BytesIO(data)
    decoder = cbor2.CBORDecoder(
        stream,
        tag_hook=_refuse_unknown_tag,
        semantic_decoders=_SEMANTIC_DECODERS,
        max_depth=MAX_DEPTH,
        strict_hashable_types=True,
    )
    try:
        value = decoder.decode()
    except CBORPayloadError:
        raise
    except cbor2.CBORDecodeEOF as exc:
        raise CBORPayloadError(
            f"Invalid CBOR payload: it ends inside a data item after {len(data)} bytes (it is "
            f"truncated, or a length header claims more bytes than were sent); {_RULES}."
        ) from exc
    except cbor2.CBORDecodeError as exc:
        # A refusal raised in one of our callbacks arrives wrapped by cbor2.
        cause = exc.__cause__
        if isinstance(cause, CBORPayloadError):
            raise CBORPayloadError(str(cause)) from None
        raise CBORPayloadError(f"Invalid CBOR payload: {exc}; {_RULES}.") from exc
    except (ValueError, TypeError, OverflowError, ArithmeticError, RecursionError) as exc:
        raise CBORPayloadError(f"Invalid CBOR payload: {exc!r}; {_RULES}.") from exc
    used = stream.tell()
    if used != len(data):
        raise CBORPayloadError(
            f"Invalid CBOR payload: {len(data) - used} extra bytes follow the first data item "
            f"(which ends at byte {used}); send exactly one data item per message or body."
        )
    return value


def _refuse_unknown_tag(tag: cbor2.CBORTag, immutable: bool) -> NoReturn:
    raise CBORPayloadError(
        f"Invalid CBOR payload: tag {tag.tag} is not supported; {_RULES}. Send the value "
        "without the tag, or decode the payload yourself with cbor2 (receive_data())."
    )


def _refuser(tag: int) -> Callable[[Any, bool], NoReturn]:
    def refuse(value: Any, immutable: bool) -> NoReturn:
        raise CBORPayloadError(
            f"Invalid CBOR payload: tag {tag} ({REFUSED_TAGS[tag]}) is refused, because a "
            "hostile payload can use it to build cyclic, huge or costly objects; "
            "encode the value without it (cbor2.dumps does so by default)."
        )

    return refuse


def _bignum(value: Any, negative: bool) -> int:
    if not isinstance(value, bytes):
        raise CBORPayloadError(
            f"Invalid CBOR payload: a big integer (tag {3 if negative else 2}) must wrap a "
            f"byte string, found {type(value).__name__}."
        )
    if len(value) > MAX_BIGNUM_BYTES:
        raise CBORPayloadError(
            f"Invalid CBOR payload: a big integer of {len(value)} bytes exceeds the limit of "
            f"{MAX_BIGNUM_BYTES} bytes; send such numbers as byte strings instead."
        )
    magnitude = int.from_bytes(value, "big")
    return -1 - magnitude if negative else magnitude


def _positive_bignum(value: Any, immutable: bool) -> int:
    return _bignum(value, negative=False)


def _negative_bignum(value: Any, immutable: bool) -> int:
    return _bignum(value, negative=True)


_SEMANTIC_DECODERS: Final[dict[int, Callable[[Any, bool], Any]]] = {
    2: _positive_bignum,
    3: _negative_bignum,
    **{tag: _refuser(tag) for tag in REFUSED_TAGS},
}
