"""The broadcast backend interface: what a transport such as Redis or NATS implements.

A backend moves messages between processes and keeps a short history per
channel; the hub (:class:`lanner.Broadcast`) does everything else: the local
fan-out to subscribers, their bounded queues, resume and reconnection. One hub
holds one backend, and the backend holds at most one subscription per channel,
whatever the number of local subscribers.

The life of a backend, as the hub drives it:

1. ``factory(url, app)`` at ``App()``: parse and check the URL (raise
   ``ValueError`` for an unknown option; :func:`parse_broadcast_url` does the
   common ones), but open nothing yet.
2. ``await connect()`` at lifespan startup.
3. ``await subscribe(channel)`` / ``await unsubscribe(channel)`` as local
   subscribers come and go; ``await publish(...)`` for each message.
4. ``messages()`` once after each successful ``connect()``: the hub reads the
   incoming messages of every subscribed channel from it.
5. A lost connection: ``messages()`` raises :class:`BroadcastUnavailable`. The
   hub then calls ``close()`` (errors ignored) and ``connect()`` again, with a
   capped backoff until it succeeds, ``subscribe()`` for every channel, and
   ``history(channel, last_id)`` to resume each channel from the last message it
   delivered (or from ``last_id(channel)`` taken when it subscribed); then
   ``messages()`` anew.
6. ``await close()`` at shutdown; ``messages()`` then ends (returns).
"""

from __future__ import annotations

import base64
import math
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final
from urllib.parse import parse_qsl, urlsplit

from lanner.sse import SSEvent

if TYPE_CHECKING:
    from lanner.app import App

__all__ = [
    "COMMON_OPTIONS",
    "GAP_EVENT",
    "BackendFactory",
    "BroadcastBackend",
    "BroadcastMessage",
    "BroadcastOptions",
    "BroadcastUnavailable",
    "SubscriberTooSlow",
    "parse_broadcast_url",
    "read_broadcast_url",
    "redact_url",
]

GAP_EVENT: Final = "gap"
"""The event name of a gap marker on an SSE stream; its data is the channel name."""

MediaDecoder = Callable[["str | bytes"], object]
"""Decodes one payload into media (the app's WebSocket handler for its type)."""


class BroadcastUnavailable(Exception):
    """The broadcast backend cannot be reached.

    ``publish`` raises it after at most ``publish_timeout`` seconds; a backend's
    :meth:`BroadcastBackend.messages` raises it when its connection is lost, so
    the hub reconnects. Subscribers never see it: the hub reconnects for them.
    """


class SubscriberTooSlow(Exception):
    """A subscriber's queue overflowed with ``overflow="close"``: it was ended.

    Raised by the ``async for`` over the subscription once the messages queued
    before the overflow have been read; a relay closes its WebSocket with 1013.
    """


def _no_decoder(payload: str | bytes) -> object:
    raise RuntimeError(
        "BroadcastMessage.media needs the app's media handlers: read it from a message "
        "a subscription gave you, or decode .text / .data yourself."
    )


class BroadcastMessage:
    """One message on a channel, as subscribers receive it.

    The payload is ``text`` (a ``str``) or ``data`` (``bytes``); the other is
    ``None``. ``media`` decodes it on first use with the app's WebSocket media
    handler for its type (TEXT: JSON by default) and keeps the result, so a
    message shared by many subscribers is decoded at most once.

    A message with ``gap=True`` carries no payload: it says that messages were
    lost before the next one (a resume from an id older than the history, or
    after a backend outage longer than the history), so the app should resync.

    Backends create messages with ``BroadcastMessage(id, channel, payload,
    event)`` and gap markers with :meth:`gap_marker`.

    Attributes:
        id: The message id: an opaque string, unique per channel, that
            ``last_event_id`` accepts to resume after this message.
        channel: The channel it was published on.
        event: The event name given to ``publish`` (``None`` if none).
        text: The payload if it is text.
        data: The payload if it is binary.
        gap: Whether this is a gap marker.
    """

    __slots__ = ("_decoder", "_media", "_sse", "channel", "data", "event", "gap", "id", "text")

    def __init__(
        self,
        id: str,
        channel: str,
        payload: str | bytes | None,
        event: str | None = None,
        *,
        gap: bool = False,
    ) -> None:
        self.id = id
        self.channel = channel
        self.event = event
        if type(payload) is str:
            self.text: str | None = payload
            self.data: bytes | None = None
        else:
            self.text = None
            self.data = payload  # type: ignore[assignment]
        self.gap = gap
        self._decoder: MediaDecoder = _no_decoder
        self._media: object = _NOT_DECODED
        self._sse: SSEvent | None = None

    @classmethod
    def gap_marker(cls, channel: str, after_id: str | None) -> BroadcastMessage:
        """Return the marker that starts a history with lost messages.

        Args:
            channel: The channel.
            after_id: The id the resume asked for; the marker carries it, so
                resuming from the marker again still reports the gap.
        """
        return cls(after_id or "", channel, None, gap=True)

    @property
    def payload(self) -> str | bytes | None:
        """The payload as published: ``text`` or ``data`` (``None`` for a gap marker)."""
        return self.text if self.text is not None else self.data

    @property
    def media(self) -> object:
        """The payload decoded by the app's WebSocket media handler (cached).

        Raises:
            ValueError: The payload cannot be decoded (whatever the handler
                raises, such as ``json.JSONDecodeError``).
        """
        media = self._media
        if media is _NOT_DECODED:
            payload = self.payload
            if payload is None:
                raise ValueError(f"A gap marker on {self.channel!r} carries no media.")
            media = self._media = self._decoder(payload)
        return media

    def to_sse(self, event_id: str | None = None) -> SSEvent:
        """Return this message as a Server-Sent Event.

        The event's id is the message id (or ``event_id``), its name the
        message's ``event``; binary data is base64-encoded, since SSE carries
        text only. A gap marker becomes an event named ``gap`` whose data is the
        channel name. With the message's own id the event is made once and
        shared by every stream that sends it.
        """
        if event_id is None:
            cached = self._sse
            if cached is None:
                cached = self._sse = self._make_sse(self.id)
            return cached
        return self._make_sse(event_id)

    def _make_sse(self, event_id: str) -> SSEvent:
        if self.gap:
            return SSEvent(event=GAP_EVENT, text=self.channel, event_id=event_id)
        text = self.text
        if text is None:
            text = base64.b64encode(self.data or b"").decode("ascii")
        return SSEvent(text=text, event=self.event, event_id=event_id)

    def use_decoder(self, decoder: MediaDecoder) -> BroadcastMessage:
        """Set how :attr:`media` decodes the payload; the hub calls it. Returns self."""
        self._decoder = decoder
        return self

    def __repr__(self) -> str:
        if self.gap:
            return f"<BroadcastMessage gap on {self.channel!r} after {self.id!r}>"
        size = len(self.text) if self.text is not None else len(self.data or b"")
        kind = "text" if self.text is not None else "data"
        return f"<BroadcastMessage {self.id!r} on {self.channel!r}, {kind} of {size}>"


_NOT_DECODED: Final = object()


class BroadcastBackend(ABC):
    """What a broadcast transport implements; the hub does the rest.

    Subclass it and return an instance from a factory ``factory(url, app)``
    registered for a URL scheme through the ``lanner_broadcast_backends`` hook.
    Every method is called from the app's event loop. Run
    :func:`lanner.testing.broadcast_checks` against it: the same checks the
    built-in ``memory://`` backend passes.
    """

    @abstractmethod
    async def connect(self) -> None:
        """Open the connection. Called at lifespan startup, and again after a loss.

        Raises:
            BroadcastUnavailable: The transport cannot be reached (the hub
                retries with a capped backoff, or fails startup the first time).
        """

    @abstractmethod
    async def close(self) -> None:
        """Release the connection. Called at shutdown and before a reconnect.

        Must not raise when the connection is already lost or closed; once it
        returns, a running :meth:`messages` iterator ends.
        """

    @abstractmethod
    async def publish(self, channel: str, payload: str | bytes, event: str | None) -> str:
        """Publish one message to every process subscribed to ``channel``.

        Keeps it in the channel's history (the last ``history`` messages) and
        returns its id. Ids are unique per channel, assigned in publish order,
        and the same for every process that receives the message.

        Raises:
            BroadcastUnavailable: The transport cannot be reached.
        """

    @abstractmethod
    async def subscribe(self, channel: str) -> None:
        """Start receiving ``channel`` through :meth:`messages`.

        Returns once every message published after it returns will be
        delivered. The hub calls it once per channel, however many local
        subscribers it has.
        """

    @abstractmethod
    async def unsubscribe(self, channel: str) -> None:
        """Stop receiving ``channel``; messages already received may still arrive."""

    @abstractmethod
    async def history(self, channel: str, after_id: str) -> list[BroadcastMessage]:
        """Return the kept messages of ``channel`` published after ``after_id``, oldest first.

        If messages after ``after_id`` were lost (the id is older than the
        history, or unknown to this backend, or history is off), the list
        starts with ``BroadcastMessage.gap_marker(channel, after_id)``,
        followed by whatever is still kept.
        """

    @abstractmethod
    async def last_id(self, channel: str) -> str:
        """Return the id of the newest message published on ``channel``.

        Before the channel's first message, return an id that comes before every
        message (``history(channel, that_id)`` then returns them all, without a
        gap while they are all kept). The hub asks when it subscribes to a
        channel, so it can resume a channel that had no message yet.
        """

    @abstractmethod
    def messages(self) -> AsyncIterator[BroadcastMessage]:
        """Return an async iterator over incoming messages of subscribed channels.

        Per channel the messages come in publish order, each once. The hub
        calls it once after each successful :meth:`connect`; messages of
        channels subscribed in between must not be lost (buffer them).

        Raises:
            BroadcastUnavailable: (from the iterator) the connection was lost;
                the hub reconnects and resumes from history.
        """


BackendFactory = Callable[[str, "App"], BroadcastBackend]
"""Makes a backend: ``factory(url, app)``; raises ``ValueError`` for a bad URL."""

DEFAULT_HISTORY: Final = 1000
DEFAULT_PUBLISH_TIMEOUT: Final = 2.0
DEFAULT_MAX_MESSAGE_SIZE: Final = 1024 * 1024

COMMON_OPTIONS: Final = frozenset({"history", "publish_timeout", "max_message_size"})
"""The URL query options every backend accepts (the hub reads them too)."""


@dataclass(frozen=True)
class BroadcastOptions:
    """A broadcast URL, split into its parts and its checked options.

    Attributes:
        url: The URL as given.
        scheme: Its bare scheme (``"memory"``, ``"redis"``).
        history: Messages kept per channel for resume (``0``: none).
        publish_timeout: Seconds ``publish`` may wait for the backend.
        max_message_size: The largest payload ``publish`` accepts, in bytes.
        extra: The backend-specific query options, as strings.
    """

    url: str
    scheme: str
    history: int = DEFAULT_HISTORY
    publish_timeout: float = DEFAULT_PUBLISH_TIMEOUT
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
    extra: Mapping[str, str] = field(default_factory=dict)


def parse_broadcast_url(url: str, *, backend_options: Collection[str] = ()) -> BroadcastOptions:
    """Parse a broadcast URL and check its query options.

    Args:
        url: Such as ``"memory://?history=100"`` or ``"redis://host:6379/0"``.
        backend_options: The option names the backend accepts beyond
            :data:`COMMON_OPTIONS`; any other name is an error.

    Raises:
        ValueError: The URL has no scheme, an option is unknown, repeated or has
            a bad value; the message names it and what is accepted.
    """
    return read_broadcast_url(url, COMMON_OPTIONS | frozenset(backend_options))


def read_broadcast_url(url: str, accepted: Collection[str] | None) -> BroadcastOptions:
    """Parse ``url`` like :func:`parse_broadcast_url`; ``accepted=None`` takes any option.

    The hub reads the common options this way and leaves the rest to the
    backend's factory, which knows its own.
    """
    if not isinstance(url, str):
        raise TypeError(f"A broadcast URL must be a str such as 'memory://', got {url!r}.")
    parts = urlsplit(url)
    if not parts.scheme or "://" not in url:
        raise ValueError(
            f"Broadcast URL {redact_url(url)!r} has no scheme: write it as 'scheme://...', "
            "for example 'memory://' or 'redis://localhost:6379/0'."
        )
    common: dict[str, str] = {}
    extra: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if accepted is not None and name not in accepted:
            raise ValueError(
                f"Broadcast URL {redact_url(url)!r}: unknown option {name!r}; "
                f"{parts.scheme}:// accepts {', '.join(sorted(accepted))}."
            )
        target = common if name in COMMON_OPTIONS else extra
        if name in target:
            raise ValueError(f"Broadcast URL {redact_url(url)!r}: option {name!r} is given twice.")
        target[name] = value
    return BroadcastOptions(
        url=url,
        scheme=parts.scheme.lower(),
        history=_count(url, "history", common.get("history"), DEFAULT_HISTORY, minimum=0),
        publish_timeout=_seconds(url, common.get("publish_timeout")),
        max_message_size=_count(
            url, "max_message_size", common.get("max_message_size"), DEFAULT_MAX_MESSAGE_SIZE
        ),
        extra=extra,
    )


def redact_url(url: str) -> str:
    """Return ``url`` with the password in its user-info replaced by ``***``.

    Use it wherever a backend shows its URL (errors, logs).
    """
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"


def _count(url: str, name: str, raw: str | None, default: int, *, minimum: int = 1) -> int:
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < minimum:
        raise ValueError(
            f"Broadcast URL {redact_url(url)!r}: {name}={raw!r} must be a whole "
            f"number >= {minimum}."
        )
    return int(raw)


def _seconds(url: str, raw: str | None) -> float:
    if raw is None:
        return DEFAULT_PUBLISH_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ValueError(
            f"Broadcast URL {redact_url(url)!r}: publish_timeout={raw!r} must be a positive "
            "number of seconds, such as 2 or 0.5."
        )
    return value
