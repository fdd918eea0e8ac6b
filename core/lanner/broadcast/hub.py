"""``Broadcast``: the hub at ``app.broadcast``, fan-out with bounded subscribers.

One hub per App. It holds one backend connection; a single reader task takes
the incoming messages of every channel with local subscribers and puts each
into those subscribers' bounded queues (:meth:`Subscription.deliver`, which
never waits). Publishing goes to the backend and comes back through the
reader, so every process sees one order per channel.

When the backend connection is lost, the reader reconnects with a capped
backoff, subscribes every channel again and fetches what it missed from the
backend's history, starting after the last message it delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sys
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Final, TypeVar

from lanner.broadcast._checks import check_channel, check_event, check_size
from lanner.broadcast._relay import Relay
from lanner.broadcast._resume import decode_positions
from lanner.broadcast._sse import sse_events
from lanner.broadcast.backend import (
    BroadcastBackend,
    BroadcastMessage,
    BroadcastOptions,
    BroadcastUnavailable,
    redact_url,
)
from lanner.broadcast.subscription import OVERFLOW_POLICIES, Overflow, Subscription

if TYPE_CHECKING:
    from lanner.app import App
    from lanner.sse import SSEvent
    from lanner.ws import WebSocket

__all__ = ["Broadcast"]

logger = logging.getLogger("lanner.broadcast")

T = TypeVar("T")

RECONNECT_FIRST_DELAY: Final = 0.05
RECONNECT_MAX_DELAY: Final = 5.0

_NEW: Final = "new"
_OPEN: Final = "open"
_CLOSED: Final = "closed"


class _Channel:
    """Local state of one channel: its subscribers and the last id delivered."""

    __slots__ = ("last_id", "ready", "skip", "subscribers", "targets")

    def __init__(self) -> None:
        self.subscribers: dict[Subscription, None] = {}
        # PERF: the fan-out loop walks a tuple rebuilt only when membership changes.
        self.targets: tuple[Subscription, ...] = ()
        self.ready = False
        self.last_id: str | None = None
        # After a reconnect: ids fetched from history, skipped if they come live too.
        self.skip: set[str] | None = None

    def add(self, sub: Subscription) -> None:
        self.subscribers[sub] = None
        self.targets = tuple(self.subscribers)

    def remove(self, sub: Subscription) -> None:
        self.subscribers.pop(sub, None)
        self.targets = tuple(self.subscribers)


class Broadcast:
    """The hub: publish to channels; subscribe, relay to a WebSocket, or stream as SSE.

    ``App()`` makes one at ``app.broadcast`` from ``App(broadcast=URL)``, else
    ``LANNER_BROADCAST_URL``, else ``memory://``; it connects at lifespan
    startup and closes at shutdown. Using it before startup raises
    ``RuntimeError``.
    """

    def __init__(self, backend: BroadcastBackend, options: BroadcastOptions, app: App) -> None:
        """Wrap ``backend``; :func:`lanner.broadcast.open_broadcast` is the usual way in."""
        self.backend = backend
        """The backend this hub publishes through."""
        self.options = options
        """The checked options of the broadcast URL."""
        self._app = app
        self._state = _NEW
        self._channels: dict[str, _Channel] = {}
        self._subscriptions: dict[Subscription, None] = {}
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._encode: Callable[[object], str] = _no_media
        self._decode: Callable[[str | bytes], object] = _no_media
        self._published = 0
        self._delivered = 0
        self._dropped = 0
        self._closed_slow = 0
        self._reconnects = 0

    def __repr__(self) -> str:
        return f"<lanner.Broadcast {redact_url(self.options.url)!r} {self._state}>"

    # -- lifecycle ------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether the hub is started (between lifespan startup and shutdown)."""
        return self._state is _OPEN

    def lifespan(self) -> contextlib.AbstractAsyncContextManager[Broadcast]:
        """Return a context manager that connects the hub and closes it on exit."""
        return _Lifespan(self)

    async def connect(self) -> None:
        """Connect the backend and start the reader; the app's lifespan startup calls it.

        Raises:
            BroadcastUnavailable: The backend cannot be reached.
        """
        if self._state is _OPEN:
            return
        self._encode, self._decode = _media_codecs(self._app)
        try:
            await self.backend.connect()
        except BroadcastUnavailable:
            raise
        except (OSError, asyncio.TimeoutError) as exc:
            raise BroadcastUnavailable(
                f"The broadcast backend {redact_url(self.options.url)!r} cannot be reached: {exc}"
            ) from exc
        self._lock = asyncio.Lock()
        self._state = _OPEN
        self._reader = asyncio.get_running_loop().create_task(
            self._read(), name="lanner-broadcast-reader"
        )

    async def close(self) -> None:
        """End every subscription (relays close with 1001), stop the reader, close the backend."""
        if self._state is not _OPEN:
            return
        self._state = _CLOSED
        for sub in list(self._subscriptions):
            sub.finish(discard=True)
        self._subscriptions.clear()
        self._channels.clear()
        reader, self._reader = self._reader, None
        try:
            await self.backend.close()
        finally:
            if reader is not None:
                reader.cancel()
                await asyncio.wait([reader])

    def _not_open(self) -> RuntimeError:
        if self._state is _NEW:
            return RuntimeError(
                "app.broadcast is not connected yet: it connects at the app's lifespan "
                "startup. Serve the app (lanner serve, uvicorn) or, in tests, use it "
                "inside 'async with ASGIConductor(app):'."
            )
        return RuntimeError(
            "app.broadcast was closed at the app's shutdown; it cannot be used after that."
        )

    # -- publishing -----------------------------------------------------------

    async def publish(
        self,
        channel: str,
        media: object = None,
        *,
        text: str | None = None,
        data: bytes | None = None,
        event: str | None = None,
    ) -> str:
        """Publish one message to every subscriber of ``channel``; return its id.

        The payload is ``data`` (BINARY) if given, else ``text``, else ``media``
        serialised once through the app's WebSocket TEXT media handler (JSON by
        default), whatever the number of subscribers. Publishing never waits for
        a subscriber.

        Raises:
            ValueError: The channel name, the event name or the payload size
                is not acceptable (the message says what is wrong).
            lanner.BroadcastUnavailable: The backend did not take the message
                within ``publish_timeout`` seconds.
            RuntimeError: The app has not started (or has shut down).
        """
        if self._state is not _OPEN:
            raise self._not_open()
        check_channel(channel)
        payload: str | bytes
        if data is not None:
            if type(data) is not bytes:
                if not isinstance(data, (bytes, bytearray, memoryview)):
                    raise TypeError(
                        f"publish(data=...) takes bytes, got {type(data).__name__}; "
                        "use text= for str or pass media for objects."
                    )
                data = bytes(data)
            payload = data
        elif text is not None:
            if type(text) is not str:
                raise TypeError(
                    f"publish(text=...) takes a str, got {type(text).__name__}; "
                    "use data= for bytes or pass media for objects."
                )
            payload = text
        else:
            payload = self._encode(media)
        if event is not None:
            check_event(event)
        check_size(channel, payload, self.options.max_message_size)
        message_id = await self._call(self.backend.publish(channel, payload, event))
        self._published += 1
        return message_id

    async def _call(self, call: Awaitable[T]) -> T:
        """Await a backend call within ``publish_timeout``; failures become BroadcastUnavailable."""
        limit = self.options.publish_timeout
        try:
            return await _within(call, limit)
        except BroadcastUnavailable:
            raise
        except asyncio.TimeoutError:
            raise BroadcastUnavailable(
                f"The broadcast backend {redact_url(self.options.url)!r} did not answer within "
                f"{limit} s (publish_timeout)."
            ) from None
        except OSError as exc:
            raise BroadcastUnavailable(
                f"The broadcast backend {redact_url(self.options.url)!r} failed: {exc}"
            ) from exc

    # -- subscribing ------------------------------------------------------------

    def subscribe(
        self,
        *channels: str,
        backlog: int = 256,
        overflow: Overflow = "close",
        last_event_id: str | None = None,
    ) -> contextlib.AbstractAsyncContextManager[Subscription]:
        """Subscribe to ``channels``: ``async with hub.subscribe("chat") as sub:``.

        Once the block is entered, every later publish on those channels
        reaches the subscription (or overflows it). Leaving the block ends it.

        Args:
            channels: One or more channel names.
            backlog: How many live messages may wait to be read (>= 1).
            overflow: ``"close"``: a full queue ends the subscription with
                ``lanner.SubscriberTooSlow``; ``"drop-oldest"``: the oldest
                queued message is dropped and counted in ``sub.dropped``.
            last_event_id: Resume after this id (a message id, or an id a
                ``hub.sse`` stream emitted): history comes first, then live
                messages, with no gap and no duplicate while history reaches
                back that far; otherwise a ``gap=True`` message comes first.

        Raises:
            ValueError: A channel name, ``backlog`` or ``overflow`` is not acceptable.
            RuntimeError: The app has not started (or has shut down).
        """
        names = _check_subscribe(channels, backlog, overflow, last_event_id)
        if self._state is not _OPEN:
            raise self._not_open()
        return self._subscribed(names, backlog, overflow, last_event_id)

    @asynccontextmanager
    async def _subscribed(
        self,
        channels: tuple[str, ...],
        backlog: int,
        overflow: Overflow,
        last_event_id: str | None,
    ) -> AsyncIterator[Subscription]:
        if self._state is not _OPEN:
            raise self._not_open()
        sub = Subscription(channels, backlog, overflow, self._count_overflow)
        self._subscriptions[sub] = None
        try:
            for channel in channels:
                await self._join(channel, sub)
            for channel, after_id in decode_positions(channels, last_event_id).items():
                missed = await self._call(self.backend.history(channel, after_id))
                decode = self._decode
                for message in missed:
                    message.use_decoder(decode)
                sub.replay(channel, missed, after_id)
            yield sub
        finally:
            sub.finish()
            self._subscriptions.pop(sub, None)
            for channel in channels:
                await self._leave(channel, sub)

    def relay(
        self,
        ws: WebSocket,
        *channels: str,
        backlog: int = 256,
        overflow: Overflow = "close",
        last_event_id: str | None = None,
    ) -> Relay:
        """Forward ``channels`` to an accepted WebSocket while the block runs.

        ``async with hub.relay(ws, "chat"):`` starts one task that sends each
        message as it was published (TEXT or BINARY, encoded once for every
        subscriber); the responder keeps its own receive loop in the block and
        may send its own messages too (whole messages, never interleaved). The
        relay ends when the block exits or the client leaves, and leaves no
        task behind. A client that falls ``backlog`` messages behind is closed
        with 1013 (``overflow="close"``), even while a send to it is blocked;
        at shutdown the WebSocket is closed with 1001.

        Takes :meth:`subscribe`'s keywords.
        """
        names = _check_subscribe(channels, backlog, overflow, last_event_id)
        if self._state is not _OPEN:
            raise self._not_open()
        return Relay(ws, self._subscribed(names, backlog, overflow, last_event_id))

    def sse(
        self,
        *channels: str,
        backlog: int = 256,
        overflow: Overflow = "close",
        last_event_id: str | None = None,
    ) -> AsyncGenerator[SSEvent, None]:
        """Return an async generator of ``SSEvent`` for ``resp.sse``.

        ``resp.sse = app.broadcast.sse("feed", last_event_id=req.last_event_id)``.
        Each event's ``event_id`` lets the browser's automatic reconnect resume
        with ``Last-Event-ID``: the message id with one channel, and with several
        an id that resumes every channel. Binary payloads are sent
        base64-encoded. A gap is an event named ``gap`` whose data is the
        channel name. A subscriber too slow for ``backlog`` ends the stream
        (the browser reconnects and resumes from history).

        Takes :meth:`subscribe`'s keywords.
        """
        names = _check_subscribe(channels, backlog, overflow, last_event_id)
        if self._state is not _OPEN:
            raise self._not_open()
        return sse_events(self._subscribed(names, backlog, overflow, last_event_id), len(names))

    # -- counts -----------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        """Return counts: ``channels``, ``subscribers``, ``published``, ``delivered``,
        ``dropped``, ``closed_slow`` and ``reconnects``.

        ``channels`` and ``subscribers`` are local and current; ``published``
        counts this process's publishes, ``delivered`` the messages put into
        local subscribers' queues, ``dropped`` those ``"drop-oldest"`` dropped,
        ``closed_slow`` the subscribers closed as too slow, and ``reconnects``
        the backend reconnections.
        """
        return {
            "channels": len(self._channels),
            "subscribers": len(self._subscriptions),
            "published": self._published,
            "delivered": self._delivered,
            "dropped": self._dropped,
            "closed_slow": self._closed_slow,
            "reconnects": self._reconnects,
        }

    def _count_overflow(self, dropped: bool) -> None:
        if dropped:
            self._dropped += 1
        else:
            self._closed_slow += 1

    # -- channels ---------------------------------------------------------------

    async def _join(self, channel: str, sub: Subscription) -> None:
        state = self._channels.get(channel)
        if state is None:
            state = self._channels[channel] = _Channel()
        state.add(sub)
        if state.ready:
            assert state.last_id is not None
            sub.start_at(channel, state.last_id)
            return
        async with self._lock:
            if not state.ready and self._channels.get(channel) is state:
                await self._call(self.backend.subscribe(channel))
                state.last_id = await self._call(self.backend.last_id(channel))
                state.ready = True
        assert state.last_id is not None
        sub.start_at(channel, state.last_id)

    async def _leave(self, channel: str, sub: Subscription) -> None:
        state = self._channels.get(channel)
        if state is None:
            return
        state.remove(sub)
        if state.subscribers:
            return
        del self._channels[channel]
        if self._state is not _OPEN:
            return
        async with self._lock:
            if channel in self._channels:
                return  # someone subscribed again meanwhile
            # On failure, a reconnect subscribes only the channels still in use.
            with contextlib.suppress(BroadcastUnavailable):
                await self._call(self.backend.unsubscribe(channel))

    # -- the reader -------------------------------------------------------------

    def _fan_out(self, message: BroadcastMessage) -> None:
        state = self._channels.get(message.channel)
        if state is None:
            return
        if state.skip is not None:
            if message.id in state.skip:
                return
            state.skip = None
        state.last_id = message.id
        message.use_decoder(self._decode)
        delivered = 0
        for sub in state.targets:
            if sub.deliver(message):
                delivered += 1
        self._delivered += delivered

    async def _read(self) -> None:
        backend = self.backend
        while self._state is _OPEN:
            try:
                async for message in backend.messages():
                    self._fan_out(message)
            except BroadcastUnavailable as exc:
                cause: BaseException | str = exc
            except Exception as exc:
                if self._state is not _OPEN:
                    return
                logger.error("The broadcast backend's message stream failed", exc_info=exc)
                cause = exc
            else:
                cause = "its message stream ended"
            if self._state is not _OPEN:
                return
            logger.warning(
                "Lost the broadcast backend %s (%s); reconnecting.",
                redact_url(self.options.url),
                cause,
            )
            await self._reconnect()

    async def _reconnect(self) -> None:
        backend = self.backend
        delay = RECONNECT_FIRST_DELAY
        while self._state is _OPEN:
            with contextlib.suppress(Exception):
                await backend.close()
            try:
                await backend.connect()
                async with self._lock:
                    for channel, state in list(self._channels.items()):
                        await backend.subscribe(channel)
                        if state.last_id is None:
                            state.last_id = await backend.last_id(channel)
                            state.ready = True
                            continue
                        after_id = state.last_id
                        missed = await backend.history(channel, after_id)
                        for message in missed:
                            self._fan_out(message)
                        state.skip = {m.id for m in missed if not m.gap}
                        state.skip.add(after_id)
            except Exception as exc:
                logger.warning(
                    "Reconnecting to the broadcast backend %s failed (%s); retrying in %.2f s.",
                    redact_url(self.options.url),
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_DELAY) * random.uniform(0.8, 1.0)
                continue
            self._reconnects += 1
            logger.info("Reconnected to the broadcast backend %s.", redact_url(self.options.url))
            return


class _Lifespan:
    """Connects a hub on enter and closes it on exit; re-enterable."""

    __slots__ = ("_hub",)

    def __init__(self, hub: Broadcast) -> None:
        self._hub = hub

    async def __aenter__(self) -> Broadcast:
        await self._hub.connect()
        return self._hub

    async def __aexit__(self, *exc_info: object) -> None:
        await self._hub.close()


def _check_subscribe(
    channels: tuple[str, ...], backlog: int, overflow: str, last_event_id: str | None
) -> tuple[str, ...]:
    if not channels:
        raise ValueError("Name at least one channel to subscribe to, such as subscribe('chat').")
    names = tuple(check_channel(channel) for channel in channels)
    if len(set(names)) != len(names):
        raise ValueError(f"Channels {list(names)!r} name one channel twice; name each once.")
    if type(backlog) is not int or backlog < 1:
        raise ValueError(f"backlog must be a whole number >= 1, got {backlog!r}.")
    if overflow not in OVERFLOW_POLICIES:
        raise ValueError(
            f"overflow must be one of {', '.join(map(repr, OVERFLOW_POLICIES))}; got {overflow!r}."
        )
    if last_event_id is not None and not isinstance(last_event_id, str):
        raise TypeError(f"last_event_id must be a str or None, got {last_event_id!r}.")
    return names


def _no_media(value: object) -> Any:
    raise RuntimeError(
        "app.broadcast encodes and decodes media with the app's WebSocket media "
        "handlers, which it takes at startup: start the app first."
    )


def _media_codecs(
    app: App,
) -> tuple[Callable[[object], str], Callable[[str | bytes], object]]:
    from lanner.media.base import BinaryBaseHandlerWS, TextBaseHandlerWS
    from lanner.ws_options import WebSocketPayloadType

    handlers = app.ws_options.media_handlers
    text = handlers.get(WebSocketPayloadType.TEXT)
    binary = handlers.get(WebSocketPayloadType.BINARY)
    encode = text.serialize if isinstance(text, TextBaseHandlerWS) else _no_media
    decode_text = text.deserialize if isinstance(text, TextBaseHandlerWS) else _no_media
    decode_binary = binary.deserialize if isinstance(binary, BinaryBaseHandlerWS) else _no_media

    def decode(payload: str | bytes) -> object:
        if isinstance(payload, str):
            return decode_text(payload)
        return decode_binary(payload)

    return encode, decode


if sys.version_info >= (3, 11):

    async def _within(call: Awaitable[T], seconds: float) -> T:
        async with asyncio.timeout(seconds):
            return await call

else:  # pragma: no cover - Python 3.10

    async def _within(call: Awaitable[T], seconds: float) -> T:
        return await asyncio.wait_for(call, seconds)
