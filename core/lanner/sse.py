"""Server-Sent Events: the event a responder yields, and the app-wide SSE options.

A responder streams events by setting ``resp.sse`` to an async generator that
yields :class:`SSEvent` objects (or ``None`` for a keep-alive comment). Each event
is checked when it is created, so a field can never forge another field or end
the event early, and it serializes to the ``text/event-stream`` wire format.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final, final

from lanner.media.json import compact_dumps

__all__ = ["PING", "SSE_HEADERS", "SSEOptions", "SSEvent"]

JSONDumps = Callable[[object], str]
"""A function from object to JSON text, such as the app's JSON handler's ``dumps``."""

PING: Final = b": ping\n\n"
"""The keep-alive comment, sent for ``SSEvent()``, a ``None`` event, and when idle."""

SSE_HEADERS: Final[tuple[tuple[bytes, bytes], ...]] = (
    (b"content-type", b"text/event-stream; charset=utf-8"),
    # Events are live: a cached copy of a stream is never what the client wants.
    (b"cache-control", b"no-cache"),
    # nginx buffers proxied responses by default, which would hold events back.
    (b"x-accel-buffering", b"no"),
)
"""Raw ASGI response headers every event stream carries (a tuple, so it can't be changed)."""

# PERF: one encoder configured once; json.dumps with keyword arguments would build a
# new encoder for every event.


@final
class _NoJSON:
    """The type of the marker that says no ``json=`` argument was given."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<no json>"


_NO_JSON: Final = _NoJSON()

# data, text, json, event, event_id, retry, comment: the arguments as given.
_Fields = tuple[bytes | None, str | None, object, str | None, str | None, int | None, str | None]


def _lines_to_field(value: bytes, prefix: bytes) -> bytes:
    """Return ``value`` as one ``prefix`` line per line of it, each ending in LF.

    CR, LF and CRLF all end a line, as they do for an event-stream reader, so a line
    break inside a value starts a new line of the same field instead of a new field.
    """
    if 13 in value:  # CR; see serialize() for why an int
        value = value.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return prefix + value.replace(b"\n", b"\n" + prefix) + b"\n"


def _check_single_line(field: str, value: object) -> str:
    """Return ``value`` if it is a ``str`` fit for a one-line field, else raise."""
    if not isinstance(value, str):
        raise TypeError(
            f"SSEvent {field}= expects a str or None; found {type(value).__name__} "
            f"{value!r}. Convert it with str() first."
        )
    if "\n" in value or "\r" in value or "\0" in value:
        raise ValueError(
            f"SSEvent {field}= must not contain CR, LF or NUL, because a line break "
            f"would end the field and let the rest forge other fields; found {value!r}. "
            f"Remove those characters from the {field}."
        )
    return value


@final
class SSEvent:
    """One Server-Sent Event, checked when created and serialized per the HTML spec.

    All arguments are keyword-only and optional. The payload comes from the first of
    ``data``, ``text`` and ``json`` that is given; the others are ignored. A payload
    with line breaks (CR, LF or CRLF) is sent as several ``data:`` lines, which the
    client joins with LF. An event with no field at all, ``SSEvent()``, is a keep-alive
    ``: ping`` comment.

    Browsers dispatch only events that carry a payload: an event with ``event=`` or
    ``event_id=`` but no payload updates the client's state without firing a handler.
    Pass ``text=""`` for an event that carries nothing but its name.

    Events are immutable, so one event can be sent to many clients; any event
    but a ``json=`` one is serialized once, when it is created.

    Args:
        data: The payload as UTF-8 bytes (invalid UTF-8 is replaced by the client).
        text: The payload as a string.
        json: An object sent as JSON, through the app's JSON handler. ``json=None``
            sends ``null``: leaving the argument out is what sends no JSON.
        event: The event type (the client's ``addEventListener`` name); the client
            uses ``message`` when none is given.
        event_id: The event ID, which the client sends back in ``Last-Event-ID``
            when it reconnects. An empty string resets it.
        retry: The client's reconnection delay, in milliseconds (an ``int`` >= 0).
        comment: A comment, ignored by clients; a multi-line comment is sent as
            several comment lines.

    Raises:
        ValueError: ``event`` or ``event_id`` contains CR, LF or NUL, or ``retry``
            is negative.
        TypeError: An argument has the wrong type (such as ``str`` for ``data``).
    """

    __slots__ = ("_fields", "_head", "_wire")

    def __init__(
        self,
        *,
        data: bytes | None = None,
        text: str | None = None,
        json: object = _NO_JSON,
        event: str | None = None,
        event_id: str | None = None,
        retry: int | None = None,
        comment: str | None = None,
    ) -> None:
        # PERF: the common event carries text alone and skips the general path.
        if (
            text.__class__ is str
            and data is None
            and json is _NO_JSON
            and event is None
            and event_id is None
            and retry is None
            and comment is None
        ):
            # A text-only event keeps its text alone in place of the fields tuple
            # (the properties tell the two apart); _head is left unset because
            # only serialize() reads it, and only for a json= event.
            self._fields: _Fields | str = text
            if "\n" in text or "\r" in text:
                self._wire: bytes | None = _lines_to_field(text.encode(), b"data: ") + b"\n"
            else:
                # One f-string, then one encode: the cheapest way to the wire form.
                self._wire = f"data: {text}\n\n".encode()
            return
        if data is not None and not isinstance(data, bytes):
            raise TypeError(
                f"SSEvent data= expects bytes or None; found {type(data).__name__}. "
                "Pass a str as text= instead, or encode it."
            )
        if text is not None and not isinstance(text, str):
            raise TypeError(
                f"SSEvent text= expects a str or None; found {type(text).__name__}. "
                "Pass bytes as data=, or an object as json=."
            )
        self._fields = (data, text, json, event, event_id, retry, comment)
        # The fields other than the payload are checked and encoded once, here.
        head = b""
        if comment is not None:
            if not isinstance(comment, str):
                raise TypeError(
                    f"SSEvent comment= expects a str or None; found {type(comment).__name__}."
                )
            head = _lines_to_field(comment.encode(), b": ")
        if event is not None:
            head += b"event: " + _check_single_line("event", event).encode() + b"\n"
        if event_id is not None:
            head += b"id: " + _check_single_line("event_id", event_id).encode() + b"\n"
        if retry is not None:
            if type(retry) is not int or retry < 0:
                raise ValueError(
                    "SSEvent retry= expects a non-negative int (the reconnection delay "
                    f"in milliseconds); found {retry!r}."
                )
            head += b"retry: %d\n" % retry
        self._head = head
        # PERF: only a json= payload depends on the app (its JSON handler), so any
        # other event's wire form is built here and serialize() returns it as is.
        # That costs the same for an event sent once, and an event broadcast to
        # many streams is serialized once instead of once per stream.
        payload: bytes | None
        if data is not None:
            payload = data
        elif text is not None:
            payload = text.encode()
        else:
            payload = None
        wire: bytes | None
        if payload is None:
            wire = (head + b"\n" if head else PING) if json is _NO_JSON else None
        # PERF: testing for the ints LF (10) and CR (13) is four times faster than for
        # b"\n" and b"\r", which bytes.__contains__ first tries to read as ints.
        elif 10 in payload or 13 in payload:
            wire = head + _lines_to_field(payload, b"data: ") + b"\n"
        else:
            wire = head + b"data: " + payload + b"\n\n"
        self._wire = wire

    def _expanded(self) -> _Fields:
        """Return all seven fields as given, whichever form ``_fields`` holds."""
        fields = self._fields
        if isinstance(fields, str):
            return (None, fields, _NO_JSON, None, None, None, None)
        return fields

    @property
    def data(self) -> bytes | None:
        """The ``data=`` payload, or ``None``."""
        return self._expanded()[0]

    @property
    def text(self) -> str | None:
        """The ``text=`` payload, or ``None``."""
        return self._expanded()[1]

    @property
    def json(self) -> object:
        """The ``json=`` object, or ``None`` when none was given (or ``None`` was)."""
        json = self._expanded()[2]
        return None if json is _NO_JSON else json

    @property
    def event(self) -> str | None:
        """The event type, or ``None``."""
        return self._expanded()[3]

    @property
    def event_id(self) -> str | None:
        """The event ID, or ``None``."""
        return self._expanded()[4]

    @property
    def retry(self) -> int | None:
        """The reconnection delay in milliseconds, or ``None``."""
        return self._expanded()[5]

    @property
    def comment(self) -> str | None:
        """The comment, or ``None``."""
        return self._expanded()[6]

    def serialize(self, json_dumps: JSONDumps | None = None) -> bytes:
        """Return the event in the ``text/event-stream`` wire format.

        Lines come in this order: comment lines, ``event:``, ``id:``, ``retry:``,
        ``data:`` lines, then the blank line that ends the event.

        Args:
            json_dumps: Turns the ``json=`` object into JSON text; lanner passes the
                app's JSON handler. ``None`` uses a compact stdlib encoder.

        Returns:
            UTF-8 bytes ending in a blank line; ``b": ping\\n\\n"`` for an empty event.
        """
        wire = self._wire
        if wire is not None:
            return wire
        # Only a json= event gets here (see __init__).
        payload = (json_dumps or compact_dumps)(self._expanded()[2]).encode()
        if 10 in payload or 13 in payload:  # LF, CR: see __init__
            return self._head + _lines_to_field(payload, b"data: ") + b"\n"
        return self._head + b"data: " + payload + b"\n\n"

    def __repr__(self) -> str:
        data, text, json, event, event_id, retry, comment = self._expanded()
        fields = [
            f"{name}={value!r}"
            for name, value in (
                ("data", data),
                ("text", text),
                ("event", event),
                ("event_id", event_id),
                ("retry", retry),
                ("comment", comment),
            )
            if value is not None
        ]
        if json is not _NO_JSON:
            fields.insert(2, f"json={json!r}")
        return f"SSEvent({', '.join(fields)})"


class SSEOptions:
    """Options shared by every event stream of an app (``app.sse_options``).

    Attributes:
        ping_interval: Seconds a stream may stay idle before lanner sends a
            ``: ping`` comment, so proxies and load balancers don't close it
            (15.0 by default). Pings are only sent while the generator has
            nothing to send; ``None`` turns them off. The app reads it once, when
            it starts serving, so set it before then.
        send_timeout: Seconds sending one event (or the stream's end) may stay
            blocked because the client does not read, before lanner fails the
            stream: the generator is closed (its ``finally`` runs) and the socket
            and its buffers are freed. 20.0 by default; ``None`` for no limit.
            Read once, when the app starts serving.
    """

    __slots__ = ("_ping_interval", "_send_timeout")

    def __init__(self) -> None:
        self._ping_interval: float | None = 15.0
        self._send_timeout: float | None = 20.0

    @property
    def send_timeout(self) -> float | None:
        """Seconds a blocked send may wait for the client, or ``None`` for no limit."""
        return self._send_timeout

    @send_timeout.setter
    def send_timeout(self, value: float | None) -> None:
        self._send_timeout = None if value is None else _seconds("send_timeout", value)

    @property
    def ping_interval(self) -> float | None:
        """Idle seconds before a keep-alive comment, or ``None`` for no pings."""
        return self._ping_interval

    @ping_interval.setter
    def ping_interval(self, value: float | None) -> None:
        self._ping_interval = None if value is None else _seconds("ping_interval", value)


def _seconds(name: str, value: object) -> float:
    """Return ``value`` as a positive, finite float of seconds, or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"sse_options.{name} expects a number of seconds or None; "
            f"found {type(value).__name__} {value!r}."
        )
    if not math.isfinite(value) or value <= 0:
        raise ValueError(
            f"sse_options.{name} expects a positive, finite number of seconds, "
            f"or None to turn it off; found {value!r}."
        )
    return float(value)
