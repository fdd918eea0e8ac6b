"""lanner_media_cbor's codec: round trips, and every kind of hostile payload refused fast.

Each hostile payload must raise ``CBORPayloadError`` (a
``lanner.MediaMalformedError``, so a ``ValueError``, whose message names CBOR)
within a small time and memory budget: never a hang, a memory blow-up or a crash.
"""

from __future__ import annotations

import datetime
import ipaddress
import struct
import time
import tracemalloc
import uuid
from decimal import Decimal
from fractions import Fraction
from typing import Any

import cbor2
import pytest

import lanner
from lanner_media_cbor import (
    MAX_BIGNUM_BYTES,
    MAX_DEPTH,
    MEDIA_TYPE,
    REFUSED_TAGS,
    CBORPayloadError,
    decode,
    encode,
)

TIME_BUDGET = 0.5
"""Seconds any single hostile decode may take (each takes microseconds)."""

MEMORY_BUDGET = 4 * 1024 * 1024
"""Peak bytes any single hostile decode may allocate."""


def _u64(n: int) -> bytes:
    return struct.pack(">Q", n)


def _bignum(nbytes: int, tag: bytes = b"\xc2") -> bytes:
    return tag + b"\x5a" + struct.pack(">I", nbytes) + b"\xfd" * nbytes


@pytest.mark.parametrize(
    "value",
    [
        0,
        -1,
        2**64,
        -(2**64) - 1,
        1.5,
        "text ✓",
        b"\x00\xff",
        None,
        True,
        [1, [2, [3]]],
        {"a": {"b": [1, 2, {"c": None}]}},
        datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.timezone.utc),
        datetime.date(2024, 5, 1),
        ipaddress.ip_address("192.0.2.1"),
        ipaddress.ip_network("2001:db8::/32"),
        {"a", "b"},
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
        Decimal("3.14"),
        Fraction(1, 3),
        {"bytes-key": b"x", "nested": [{"k": "v"}]},
    ],
)
def test_round_trip(value: Any) -> None:
    assert decode(encode(value)) == value


def test_decode_accepts_bytearray_and_memoryview() -> None:
    payload = encode({"a": [1, 2]})
    assert decode(bytearray(payload)) == {"a": [1, 2]}
    assert decode(memoryview(payload)) == {"a": [1, 2]}


def test_nesting_up_to_the_limit_decodes() -> None:
    payload = b"\x81" * MAX_DEPTH + b"\x00"
    value = decode(payload)
    for _ in range(MAX_DEPTH):
        value = value[0]
    assert value == 0


def test_bignum_at_the_limit_decodes() -> None:
    assert decode(_bignum(MAX_BIGNUM_BYTES)) == int.from_bytes(b"\xfd" * MAX_BIGNUM_BYTES, "big")
    assert decode(_bignum(8, b"\xc3")) == -1 - int.from_bytes(b"\xfd" * 8, "big")


def test_encode_refuses_what_cbor_cannot_express() -> None:
    with pytest.raises(TypeError):
        encode(object())
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    with pytest.raises(ValueError, match="cyclic"):
        encode(cyclic)


HOSTILE: dict[str, bytes] = {
    "empty": b"",
    "truncated array": b"\x82\x01",
    "truncated text": b"\x65ab",
    "unterminated indefinite array": b"\x9f\x01\x02",
    "byte string claiming 2**63 bytes": b"\x5b" + _u64(2**63),
    "text string claiming 2**63 bytes": b"\x7b" + _u64(2**63),
    "array claiming 2**63 items": b"\x9b" + _u64(2**63),
    "map claiming 2**63 pairs": b"\xbb" + _u64(2**63),
    "array claiming 2**32 items": b"\x9b" + _u64(2**32) + b"\x00" * 16,
    "arrays nested one level too deep": b"\x81" * (MAX_DEPTH + 1) + b"\x00",
    "arrays nested 100000 deep": b"\x81" * 100_000 + b"\x00",
    "maps nested 100000 deep": b"\xa1\x61k" * 100_000 + b"\x00",
    "tags nested 100000 deep": b"\xd8\x25" * 100_000 + b"\x00",
    "unknown tag": b"\xd9\x27\x0f\x00",
    "unknown tag on a map": b"\xda\x00\x01\x00\x00\xa0",
    "shareable value with a cycle": b"\xd8\x1c\x81\xd8\x1d\x00",
    "shareable value": b"\xd8\x1c\x01",
    "shared reference to nothing": b"\xd8\x1d\x05",
    "string reference namespace": b"\xd9\x01\x00\x82\x63abc\xd8\x19\x00",
    "string reference": b"\xd8\x19\x00",
    "regular expression": b"\xd8\x23\x64(a+)",
    "MIME message": b"\xd8\x24\x60",
    "big integer over the limit": _bignum(MAX_BIGNUM_BYTES + 1),
    "negative big integer of 1 MB": _bignum(1 << 20, b"\xc3"),
    "decimal fraction with a 1 MB mantissa": b"\xc4\x82\x00" + _bignum(1 << 20),
    "rational with 1 MB terms": b"\xd8\x1e\x82" + _bignum(1 << 20) + _bignum(1 << 20),
    "big integer wrapping a text string": b"\xc2\x61a",
    "integer map key": b"\xa1\x01\x00",
    "array map key": b"\xa1\x80\x00",
    "integer set element": b"\xd9\x01\x02\x81\x01",
    "invalid UTF-8 in a text string": b"\x62\xff\xfe",
    "trailing bytes": b"\x01\x02",
    "two items": encode({"a": 1}) + encode({"b": 2}),
    "lone break": b"\xff",
    "reserved additional info": b"\x1c",
}


@pytest.mark.parametrize("payload", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_payload_is_refused_quickly(payload: bytes) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(CBORPayloadError) as caught:
            decode(payload)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(caught.value, ValueError)
    assert "CBOR" in str(caught.value)
    assert elapsed < TIME_BUDGET
    # The 1 MB payloads themselves are allowed; nothing may cost much more.
    assert peak < MEMORY_BUDGET + 2 * len(payload)


def test_colliding_integer_keys_are_refused_before_they_cost_time() -> None:
    # Python does not randomise int hashes: these 20000 keys all land in one
    # bucket, which takes cbor2 seconds to build into a dict.
    modulus = 2**61 - 1
    keys = [i * modulus for i in range(1, 20_001)]
    payload = b"\xb9" + struct.pack(">H", len(keys)) + b"".join(encode(k) + b"\x00" for k in keys)
    started = time.perf_counter()
    with pytest.raises(CBORPayloadError, match="map key"):
        decode(payload)
    assert time.perf_counter() - started < TIME_BUDGET


@pytest.mark.parametrize("tag", sorted(REFUSED_TAGS))
def test_each_refused_tag_is_named_in_the_error(tag: int) -> None:
    with pytest.raises(CBORPayloadError, match=f"tag {tag} "):
        decode(cbor2.dumps(cbor2.CBORTag(tag, "x")))


def test_truncation_error_says_what_happened() -> None:
    with pytest.raises(CBORPayloadError, match="truncated"):
        decode(b"\x5b" + _u64(2**63))


def test_depth_error_names_the_limit() -> None:
    with pytest.raises(CBORPayloadError, match=f"at most {MAX_DEPTH} levels"):
        decode(b"\x81" * (MAX_DEPTH + 1) + b"\x00")


def test_trailing_bytes_error_counts_them() -> None:
    with pytest.raises(CBORPayloadError, match="2 extra bytes"):
        decode(b"\x01\x02\x03")


def test_payload_error_is_lanners_one_media_error_with_its_own_message() -> None:
    with pytest.raises(lanner.MediaMalformedError) as caught:
        decode(b"\x82\x01")
    error = caught.value
    assert isinstance(error, CBORPayloadError)
    assert isinstance(error, ValueError)
    assert isinstance(error, lanner.HTTPBadRequest)
    assert error.media_type == MEDIA_TYPE == "application/cbor"
    assert str(error).startswith("Invalid CBOR payload: it ends inside a data item")
    assert error.to_dict() == {
        "title": "Invalid body",
        "description": f"The request body could not be decoded as application/cbor: {error}",
    }


@pytest.mark.parametrize(
    "payload",
    [b"\x62\xed\xa0", b"\x63\xed\xa0\x80", b"\x61\xff"],
    ids=["truncated-utf8", "encoded-surrogate", "bad-byte"],
)
def test_text_that_is_not_utf8_is_refused(payload: bytes) -> None:
    with pytest.raises(CBORPayloadError, match="Invalid CBOR payload"):
        decode(payload)
