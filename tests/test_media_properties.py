"""Property tests: every media handler against random and mangled payloads.

Each handler (JSON, MessagePack and CBOR; HTTP and WebSocket) fed random bytes
or text either returns a value or raises the one documented error,
``lanner.MediaMalformedError``. Whatever it returns can be encoded again and
sent on (DESIGN.md §7: encoding what was decoded never fails on the wire), and
values the handlers encode decode to themselves.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lanner
from lanner.media import (
    BaseHandler,
    BinaryBaseHandlerWS,
    JSONHandler,
    JSONHandlerWS,
    MessagePackHandler,
    MessagePackHandlerWS,
    TextBaseHandlerWS,
)
from lanner_media_cbor import CBORHandler, CBORHandlerWS, CBORPayloadError

Decode = Callable[[Any], object]
Encode = Callable[[object], bytes | str]


class Format:
    """One media format through both of its handlers: HTTP bodies and WebSocket messages."""

    def __init__(
        self, media_type: str, http: BaseHandler, ws: TextBaseHandlerWS | BinaryBaseHandlerWS
    ) -> None:
        self.media_type = media_type
        self.http = http
        self.ws = ws

    def paths(self, payload: bytes) -> list[tuple[Decode, Encode, Any]]:
        """Return (decode, encode, payload as that path takes it) for each handler."""
        media_type = self.media_type
        paths: list[tuple[Decode, Encode, Any]] = [
            (
                lambda data: self.http.deserialize(data, media_type),
                lambda media: self.http.serialize(media, media_type),
                payload,
            )
        ]
        if isinstance(self.ws, BinaryBaseHandlerWS):
            paths.append((self.ws.deserialize, self.ws.serialize, payload))
        else:
            # A TEXT message is always valid UTF-8 by the time the app sees it.
            with contextlib.suppress(UnicodeDecodeError):
                paths.append((self.ws.deserialize, self.ws.serialize, payload.decode()))
        return paths

    def encode(self, media: object) -> bytes:
        """Return ``media`` as the HTTP handler encodes it."""
        return self.http.serialize(media, self.media_type)


FORMATS = {
    "json": Format("application/json", JSONHandler(), JSONHandlerWS()),
    "msgpack": Format("application/msgpack", MessagePackHandler(), MessagePackHandlerWS()),
    "cbor": Format("application/cbor", CBORHandler(), CBORHandlerWS()),
}

_ANY_TEXT = st.text(st.characters(exclude_categories=()))  # lone surrogates included
_JSONISH_TEXT = st.text(
    st.sampled_from('[]{}:,"\\u0123456789abcdefDE.-+eE ntrufals\ud800\udc00\U0001f600'),
    max_size=40,
)


def _sendable(wire: bytes | bytearray | memoryview | str) -> None:
    """Fail unless ``wire`` can go out as it is: bytes, or text UTF-8 can encode."""
    if isinstance(wire, str):
        wire.encode()
    else:
        assert isinstance(wire, (bytes, bytearray, memoryview))


def _decodes_or_refuses(decode: Decode, encode: Encode, payload: Any) -> bool:
    """Return whether ``payload`` decoded; if it did, its value must encode again."""
    try:
        value = decode(payload)
    except lanner.MediaMalformedError:
        return False
    _sendable(encode(value))
    return True


def _every_path_agrees(fmt: Format, payload: bytes) -> None:
    outcomes = {_decodes_or_refuses(*path) for path in fmt.paths(payload)}
    assert len(outcomes) == 1, f"the HTTP and WebSocket handlers disagree on {payload!r}"


@pytest.mark.parametrize("name", sorted(FORMATS))
@given(payload=st.binary(max_size=48))
def test_random_bytes_decode_or_raise_the_documented_error(name: str, payload: bytes) -> None:
    _every_path_agrees(FORMATS[name], payload)


@pytest.mark.parametrize("name", sorted(FORMATS))
@settings(max_examples=100)
@given(data=st.data())
def test_mangled_valid_payloads_decode_or_raise_the_documented_error(
    name: str, data: st.DataObject
) -> None:
    fmt = FORMATS[name]
    wire = fmt.encode(data.draw(_values(binary=name != "json")))
    cut = data.draw(st.integers(0, len(wire)))
    tail = data.draw(st.binary(max_size=6))
    _every_path_agrees(fmt, wire[:cut] + tail)


@given(text=st.one_of(_ANY_TEXT, _JSONISH_TEXT))
def test_random_text_decodes_as_json_or_raises_the_documented_error(text: str) -> None:
    _every_path_agrees(FORMATS["json"], text.encode("utf-8", "surrogatepass"))
    json_ws = FORMATS["json"].ws
    _decodes_or_refuses(json_ws.deserialize, json_ws.serialize, text)


@given(strings=st.lists(_ANY_TEXT, max_size=3))
def test_json_strings_decode_to_themselves_unless_they_hold_a_lone_surrogate(
    strings: list[str],
) -> None:
    text = json.dumps(strings)  # ASCII: every surrogate travels as a \\uXXXX escape
    json_ws = FORMATS["json"].ws
    try:
        # What a JSON decoder sees: adjacent high and low surrogates make one character.
        expected = [s.encode("utf-16-le", "surrogatepass").decode("utf-16-le") for s in strings]
    except UnicodeDecodeError:
        with pytest.raises(lanner.MediaMalformedError, match="lone surrogate"):
            json_ws.deserialize(text)
        return
    decoded = json_ws.deserialize(text)
    assert decoded == expected
    _sendable(json_ws.serialize(decoded))


# --- values that round trip ------------------------------------------------------------


def _values(*, binary: bool) -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**64 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=12),
        *([st.binary(max_size=12)] if binary else []),
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.dictionaries(st.text(max_size=6), children, max_size=3),
        ),
        max_leaves=8,
    )


@pytest.mark.parametrize("name", sorted(FORMATS))
@settings(max_examples=100)
@given(data=st.data())
def test_values_round_trip_through_both_handlers(name: str, data: st.DataObject) -> None:
    fmt = FORMATS[name]
    value = data.draw(_values(binary=name != "json"))
    http_wire = fmt.encode(value)
    ws_wire = fmt.ws.serialize(value)
    assert _same(fmt.http.deserialize(http_wire, fmt.media_type), value)
    assert _same(fmt.ws.deserialize(ws_wire), value)  # type: ignore[arg-type]


def test_cbor_payload_error_is_the_documented_error() -> None:
    assert issubclass(CBORPayloadError, lanner.MediaMalformedError)


def _same(decoded: Any, value: Any) -> bool:
    """Equality that tells -0.0 from 0.0 and 1 from True, as the wire does."""
    if isinstance(value, float):
        return (
            isinstance(decoded, float)
            and math.copysign(1, decoded) == math.copysign(1, value)
            and decoded == value
        )
    if isinstance(value, list):
        return (
            isinstance(decoded, list)
            and len(decoded) == len(value)
            and all(_same(d, v) for d, v in zip(decoded, value, strict=True))
        )
    if isinstance(value, dict):
        return (
            isinstance(decoded, dict)
            and decoded.keys() == value.keys()
            and all(_same(decoded[k], v) for k, v in value.items())
        )
    return type(decoded) is type(value) and decoded == value
