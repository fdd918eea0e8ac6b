"""Redis stream ids (``"<milliseconds>-<sequence>"``): parsing and ordering."""

from __future__ import annotations

import re
from typing import Final

__all__ = ["StreamId", "parse_id"]

StreamId = tuple[int, int]
"""A stream id as a comparable pair ``(milliseconds, sequence)``."""

_ID: Final = re.compile(r"(\d{1,20})-(\d{1,20})")


def parse_id(text: str | bytes | None) -> StreamId | None:
    """Return the id as a pair, or ``None`` if ``text`` is not a stream id."""
    if text is None:
        return None
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    match = _ID.fullmatch(text)
    if match is None:
        return None
    return int(match[1]), int(match[2])
