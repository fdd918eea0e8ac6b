"""Resume positions: the one id that lets a stream over several channels resume them all.

With one channel, a position is that channel's message id. With several, it is
each channel's last id, percent-encoded as ``channel=id&channel=id``: a
string fit for an SSE ``id:`` field (no CR, LF or NUL), and opaque to clients.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import parse_qsl, quote, urlencode

__all__ = ["decode_positions", "encode_positions"]


def encode_positions(positions: Mapping[str, str]) -> str:
    """Return one id from which :func:`decode_positions` gives back ``positions``."""
    return urlencode(positions, quote_via=quote, safe="")


def decode_positions(channels: Sequence[str], last_event_id: str | None) -> dict[str, str]:
    """Return the id to resume each of ``channels`` after, from a client's last id.

    A channel missing from it (or every channel, when the id does not parse)
    gets the id itself, which its backend then reports as unknown: the
    subscriber starts with a gap marker there instead of silently missing messages.
    """
    if last_event_id is None:
        return {}
    if len(channels) == 1:
        return {channels[0]: last_event_id}
    try:
        pairs = dict(parse_qsl(last_event_id, strict_parsing=True))
    except ValueError:
        pairs = {}
    return {channel: pairs.get(channel, last_event_id) for channel in channels}
