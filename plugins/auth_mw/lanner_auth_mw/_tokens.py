"""Checking a presented token against the configured ones in constant time."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Final

__all__ = ["MAX_TOKEN_LENGTH", "TokenTable"]

MAX_TOKEN_LENGTH: Final = 8192
"""The longest token accepted, in characters; anything longer is refused unread."""


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "replace")).digest()


class TokenTable:
    """The configured tokens, kept as SHA-256 digests, each with its name.

    Comparing digests rather than the tokens themselves makes every
    comparison the same length, so timing reveals neither a token's content
    nor its length; every entry is compared, whatever matched.

    Args:
        tokens: Name to token.
    """

    __slots__ = ("_entries",)

    def __init__(self, tokens: Mapping[str, str]) -> None:
        self._entries: tuple[tuple[bytes, str], ...] = tuple(
            (_digest(token), name) for name, token in tokens.items()
        )

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, candidate: str) -> str | None:
        """Return the name of the token equal to ``candidate``, or ``None``."""
        digest = _digest(candidate)
        found: str | None = None
        for expected, name in self._entries:
            # NOTE: no early exit: the loop costs the same whichever entry matches.
            if hmac.compare_digest(digest, expected) and found is None:
                found = name
        return found
