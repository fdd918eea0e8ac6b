"""An incremental reader of ``text/event-stream`` bytes, for tests.

It follows the HTML spec's rules for interpreting an event stream (lines end in
CR, LF or CRLF; ``data`` lines are joined with LF; one space after the colon is
dropped; an ``id`` containing NUL and a non-numeric ``retry`` are ignored), with
two differences that let a test see exactly what the server sent:

* every block of lines up to a blank line is reported, including blocks a browser
  would not dispatch (only comments, such as a ``: ping``, or only ``id:``);
* the ``event``, ``event_id`` and ``retry`` of a ``ParsedEvent`` are those set in
  its own block (``None`` when absent), not the browser's carried-over state.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ParsedEvent", "SSEParser"]

_LINE_END = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True)
class ParsedEvent:
    """One block of an event stream, as a test sees it.

    Attributes:
        data: The ``data`` lines joined with LF; ``""`` when there were none.
        event: The ``event`` field of this block, or ``None``.
        event_id: The ``id`` field of this block, or ``None``.
        retry: The ``retry`` field of this block in milliseconds, or ``None``.
        comments: The text of each comment line (after ``:`` and one space).
    """

    data: str
    event: str | None = None
    event_id: str | None = None
    retry: int | None = None
    comments: tuple[str, ...] = field(default=())

    def json(self) -> Any:
        """Return ``data`` decoded as JSON.

        Raises:
            json.JSONDecodeError: ``data`` is not JSON.
        """
        return json.loads(self.data)


class SSEParser:
    """Turns chunks of an event stream into events, however the chunks are split.

    Feed it every body chunk in order; each call returns the events that the chunk
    completed. A trailing block without its blank line is kept for the next chunk
    (and, as in a browser, dropped if the stream ends there).
    """

    __slots__ = (
        "_comments",
        "_data",
        "_event",
        "_event_id",
        "_pending",
        "_retry",
        "_seen_any",
        "_skip_lf",
        "_started",
    )

    def __init__(self) -> None:
        self._pending = b""  # an incomplete line
        self._skip_lf = False  # the last chunk ended in CR: an LF next is part of CRLF
        self._started = False  # past the first line, where a UTF-8 BOM is dropped
        # The block being read, up to its blank line:
        self._data: list[str] = []
        self._comments: list[str] = []
        self._event: str | None = None
        self._event_id: str | None = None
        self._retry: int | None = None
        self._seen_any = False

    def feed(self, chunk: bytes) -> list[ParsedEvent]:
        """Read ``chunk`` and return the events it completed, in order."""
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
        buffer = self._pending + chunk
        events: list[ParsedEvent] = []
        start = 0
        for match in _LINE_END.finditer(buffer):
            if match.end() == len(buffer) and match.group() == b"\r":
                self._skip_lf = True
            event = self._line(buffer[start : match.start()].decode("utf-8", "replace"))
            if event is not None:
                events.append(event)
            start = match.end()
        self._pending = buffer[start:]
        return events

    def _line(self, line: str) -> ParsedEvent | None:
        """Apply one line; return the finished event if the line was blank."""
        if not self._started:
            self._started = True
            line = line.removeprefix("\ufeff")
        if not line:
            return self._dispatch()
        self._seen_any = True
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if not name:
            self._comments.append(value)
        elif name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> ParsedEvent | None:
        """Return the event for the block just ended, or None if it had no lines."""
        if not self._seen_any:
            return None
        event = ParsedEvent(
            data="\n".join(self._data),
            event=self._event,
            event_id=self._event_id,
            retry=self._retry,
            comments=tuple(self._comments),
        )
        self._reset()
        return event

    def _reset(self) -> None:
        """Forget the block just dispatched."""
        self._data = []
        self._comments = []
        self._event = None
        self._event_id = None
        self._retry = None
        self._seen_any = False
