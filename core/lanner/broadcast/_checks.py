"""Checks on what callers hand the hub: channel names, event names, payload sizes."""

from __future__ import annotations

from typing import Final

__all__ = ["MAX_CHANNEL_LENGTH", "check_channel", "check_event", "check_size"]

MAX_CHANNEL_LENGTH: Final = 256

# PERF: names already found good skip the character scan; bounded so that a
# client choosing channel names cannot grow it without limit.
_GOOD: set[str] = set()
_GOOD_LIMIT: Final = 4096


def check_channel(channel: object) -> str:
    """Return ``channel`` if it is a valid channel name, else raise ``ValueError``.

    A name is a ``str`` of 1 to 256 characters without whitespace or control
    characters.
    """
    if type(channel) is str and channel in _GOOD:
        return channel
    if not isinstance(channel, str):
        raise TypeError(
            f"A broadcast channel name is a str such as 'chat', got {type(channel).__name__}."
        )
    if not 1 <= len(channel) <= MAX_CHANNEL_LENGTH:
        raise ValueError(
            f"Broadcast channel name {channel[:40]!r}... has {len(channel)} characters; "
            f"use 1 to {MAX_CHANNEL_LENGTH}."
            if channel
            else "A broadcast channel name must not be empty; use 1 to "
            f"{MAX_CHANNEL_LENGTH} characters, such as 'chat'."
        )
    for char in channel:
        if char.isspace() or not char.isprintable():
            raise ValueError(
                f"Broadcast channel name {channel!r} contains {char!r}; channel names "
                "may not contain whitespace or control characters (use '-', '.' or ':')."
            )
    if len(_GOOD) < _GOOD_LIMIT:
        _GOOD.add(channel)
    return channel


def check_event(event: object) -> str | None:
    """Return ``event`` (an event name or ``None``), or raise naming what is wrong."""
    if event is None:
        return None
    if not isinstance(event, str):
        raise TypeError(f"publish(event=...) takes a str or None, got {type(event).__name__}.")
    if "\n" in event or "\r" in event or "\0" in event:
        raise ValueError(
            f"publish(event={event!r}): an event name must not contain CR, LF or NUL "
            "(it becomes an SSE field); remove them."
        )
    return event


def check_size(channel: str, payload: str | bytes, limit: int) -> None:
    """Raise ``ValueError`` if ``payload`` is over ``limit`` bytes (UTF-8 for text)."""
    size = len(payload)
    if size * 4 <= limit:
        return  # even all 4-byte characters would fit
    if isinstance(payload, str):
        size = len(payload.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise ValueError(
            f"A message of {size} bytes on {channel!r} is over the broadcast limit of "
            f"{limit} bytes; send less, or raise max_message_size in the broadcast URL "
            "(such as 'memory://?max_message_size=4194304')."
        )
