"""The ``redis://`` broadcast backend: one Redis stream per channel.

``publish`` is an ``XADD <prefix><channel> MAXLEN ~ <n> * ...`` on a small
connection pool, bounded by ``publish_timeout``; the stream id it returns is the
message id, the same in every process, so a client may resume on any worker.
One more connection per process reads every subscribed channel with a single
blocking ``XREAD``; when the set of channels changes, ``CLIENT UNBLOCK`` wakes
it to re-issue the read with the new set. Each channel's read position starts
at the stream's newest id when it is subscribed, so nothing published after
``subscribe`` returns is missed, however late the read is re-issued.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable
from typing import Any, Final

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError, ResponseError

from lanner import BroadcastBackend, BroadcastMessage, BroadcastUnavailable
from lanner_broadcast_redis._config import RedisSettings
from lanner_broadcast_redis._ids import StreamId, parse_id

__all__ = ["CONNECT_TIMEOUT", "LIVE_MINIMUM", "RedisBackend"]

LIVE_MINIMUM: Final = 100
"""Entries a stream keeps at least, whatever ``history`` says.

A reader a little behind (a burst from many workers) then still finds every
entry after its position; ``history`` alone decides what a resume may replay.
"""

CONNECT_TIMEOUT: Final = 5.0
"""Seconds a connect (at startup, and each reconnect) may take at least.

Longer than a publish may: a worker just started on a busy machine can need a
moment for its first connection, and failing there fails the app's startup.
"""

_BEFORE_ALL: Final = "0-0"  # the id before every stream entry
_BLOCK_MS: Final = 2000
_WAKE_TRIES: Final = 20
_TEXT: Final = b"t"
_DATA: Final = b"d"
_EVENT: Final = b"e"

_log = logging.getLogger("lanner_broadcast_redis")

Entry = tuple[bytes, dict[bytes, bytes]]


class RedisBackend(BroadcastBackend):
    """A broadcast backend on Redis Streams (see the module docstring).

    Made by the ``redis`` / ``rediss`` factory with checked settings; the hub
    drives it. ``repr`` shows the URL with its password replaced by ``***``.
    """

    def __init__(self, settings: RedisSettings) -> None:
        self.settings = settings
        self._maxlen = max(settings.history, LIVE_MINIMUM)
        self._connect_timeout = max(settings.publish_timeout, CONNECT_TIMEOUT)
        self._pool: aioredis.Redis | None = None
        self._pool_loop: asyncio.AbstractEventLoop | None = None
        self._reader: aioredis.Redis | None = None
        self._reader_id: int | None = None
        # channel -> the id after which the reader reads it next
        self._cursors: dict[str, str] = {}
        self._version = 0
        self._reading_version: int | None = None
        self._changes = asyncio.Event()
        # Bumped by each connect and close, so an iterator of an earlier
        # connection ends instead of reading through the new one.
        self._life = 0
        self._closes = 0  # a close() during connect() wins
        self._closed = True

    def __repr__(self) -> str:
        state = "closed" if self._closed else "connected"
        return (
            f"<RedisBackend {self.settings.shown_url} {state}, "
            f"key_prefix={self.settings.key_prefix!r}, history={self.settings.history}>"
        )

    # -- connection ---------------------------------------------------------------

    async def connect(self) -> None:
        """Open the reading connection (and the publishing pool); check Redis answers.

        A :meth:`close` that comes while this waits for Redis wins: the new
        connection is closed and this raises.

        Raises:
            BroadcastUnavailable: Redis did not answer within ``publish_timeout``
                (at least :data:`CONNECT_TIMEOUT` seconds).
        """
        settings = self.settings
        closes = self._closes
        loop = asyncio.get_running_loop()
        if self._pool is None or self._pool_loop is not loop:
            self._pool = self._make_pool()
            self._pool_loop = loop
        pool = self._pool
        # The reader's socket timeout outlasts its blocking read, so a frozen
        # server shows up as an error there rather than as silence forever.
        reader = aioredis.Redis(
            single_connection_client=True,
            retry=Retry(NoBackoff(), 0),
            socket_timeout=_BLOCK_MS / 1000 + settings.publish_timeout + 1,
            **settings.connection_kwargs(),
        )
        try:
            limit = self._connect_timeout
            reader_id = int(await self._bounded(reader.client_id(), "connect", limit))
            await self._bounded(pool.ping(), "connect", limit)
            if self._closes != closes:
                raise BroadcastUnavailable(
                    f"The Redis broadcast backend ({settings.shown_url}) was closed while "
                    "it connected."
                )
        except BaseException:
            await _close_client(reader)
            if self._closed:
                await self._quiet_pool()
            raise
        previous, self._reader, self._reader_id = self._reader, reader, reader_id
        self._closed = False
        self._life += 1
        self._changes = asyncio.Event()  # bound to this connection's event loop
        self._cursors.clear()
        if previous is not None:
            await _close_client(previous)
        _log.info("broadcast connected to %s", settings.shown_url)

    async def close(self) -> None:
        """Close every connection; a running :meth:`messages` iterator then ends.

        The publishing pool object stays (its idle connections are closed, busy
        ones when their command is done): the hub closes and connects the
        backend again to recover the reading side, and a publish meanwhile
        simply takes a fresh pooled connection.
        """
        self._closes += 1
        self._closed = True
        self._life += 1
        self._changes.set()
        reader, self._reader, self._reader_id = self._reader, None, None
        if reader is not None:
            await _close_client(reader)
        await self._quiet_pool()

    async def _quiet_pool(self) -> None:
        """Close the pool's idle connections now and its busy ones when released."""
        pool = self._pool
        if pool is not None:
            with contextlib.suppress(RedisError, OSError):
                # A publish in flight finishes; its connection closes when released.
                await pool.connection_pool.update_active_connections_for_reconnect()  # type: ignore[no-untyped-call]
                await pool.connection_pool.disconnect(inuse_connections=False)

    def _make_pool(self) -> aioredis.Redis:
        settings = self.settings
        pool = aioredis.BlockingConnectionPool(
            max_connections=settings.pool_size,
            timeout=settings.publish_timeout,
            connection_class=_connection_class(settings),
            # One retry: a pooled connection Redis dropped (a restart) fails once.
            retry=Retry(NoBackoff(), 1),
            **_pool_kwargs(settings.connection_kwargs()),
        )
        return aioredis.Redis(connection_pool=pool)

    # -- publishing and history ---------------------------------------------------

    async def publish(self, channel: str, payload: str | bytes, event: str | None) -> str:
        """Append the message to the channel's stream and return its stream id.

        Raises:
            BroadcastUnavailable: Redis did not take it within ``publish_timeout``.
        """
        # Encoded here, not by redis-py: a text payload may hold lone surrogates.
        fields: dict[bytes, bytes] = (
            {_TEXT: payload.encode("utf-8", "surrogatepass")}
            if isinstance(payload, str)
            else {_DATA: payload}
        )
        if event is not None:
            fields[_EVENT] = event.encode("utf-8", "surrogatepass")
        pool = self._live_pool("publish")
        key = self._key(channel)
        new_id = await self._bounded(
            pool.xadd(key, fields, maxlen=self._maxlen, approximate=True),  # type: ignore[arg-type]
            f"publish on {channel!r}",
        )
        return _text(new_id)

    async def last_id(self, channel: str) -> str:
        """Return the newest id ever added to the channel's stream (``0-0`` before any).

        Raises:
            BroadcastUnavailable: Redis did not answer within ``publish_timeout``.
        """
        info = await self._stream_info(channel)
        return _BEFORE_ALL if info is None else _text(info["last-generated-id"])

    async def history(self, channel: str, after_id: str) -> list[BroadcastMessage]:
        """Return the kept messages after ``after_id``, led by a gap marker if some were lost.

        Messages were lost when the stream no longer holds the entry that
        followed ``after_id``: it was trimmed (``after_id`` is older than the
        history), the stream is gone (Redis restarted without persistence), or
        ``after_id`` is no id this stream gave out. With ``history=0`` a resume
        replays nothing and always reports a gap.

        Raises:
            BroadcastUnavailable: Redis did not answer within ``publish_timeout``.
        """
        history = self.settings.history
        if history == 0:
            return [BroadcastMessage.gap_marker(channel, after_id)]
        after = parse_id(after_id)
        pool = self._live_pool("history")
        key = self._key(channel)
        info = await self._stream_info(channel)
        if info is None and after == (0, 0):
            return []  # resumed from before the first message, and none was ever kept
        if after is not None and info is not None and _continues(after, info):
            # One more than the history: more newer entries than that means the
            # resume reaches further back than the history, which is a gap too.
            entries: list[Entry] = await self._bounded(
                pool.xrange(key, min=f"({after_id}", count=history + 1),
                f"history of {channel!r}",
            )
            if len(entries) <= history:
                return [self._message(channel, entry) for entry in entries]
        newest: list[Entry] = await self._bounded(
            pool.xrevrange(key, count=history), f"history of {channel!r}"
        )
        kept = [self._message(channel, entry) for entry in reversed(newest)]
        return [BroadcastMessage.gap_marker(channel, after_id), *kept]

    # -- subscriptions and the reader ---------------------------------------------

    async def subscribe(self, channel: str) -> None:
        """Read ``channel`` from its newest id on; wake the reader to include it.

        Raises:
            BroadcastUnavailable: Redis did not answer within ``publish_timeout``.
        """
        if channel in self._cursors:
            return
        self._cursors[channel] = await self.last_id(channel)
        await self._changed()

    async def unsubscribe(self, channel: str) -> None:
        """Stop reading ``channel`` (entries already read may still be delivered)."""
        if self._cursors.pop(channel, None) is not None:
            await self._changed()

    async def messages(self) -> AsyncIterator[BroadcastMessage]:
        """Yield every new entry of the subscribed channels, in stream order per channel.

        Raises:
            BroadcastUnavailable: The reading connection was lost or Redis froze;
                the hub reconnects and resumes from history.
        """
        reader, life = self._reader, self._life
        if reader is None:
            raise BroadcastUnavailable(
                f"The Redis broadcast backend ({self.settings.shown_url}) is not connected."
            )
        cursors = self._cursors
        while self._life == life:
            if not cursors:
                # Nothing to read: wait for a subscribe (or close) without polling Redis.
                self._changes.clear()
                await self._changes.wait()
                continue
            streams = {self._key(channel): cursor for channel, cursor in cursors.items()}
            self._reading_version = self._version
            try:
                reply: Any = await reader.xread(streams, block=_BLOCK_MS)  # type: ignore[arg-type]
            except (RedisError, OSError) as exc:
                if self._life != life:
                    return
                raise BroadcastUnavailable(
                    f"Lost the connection to Redis at {self.settings.shown_url}: "
                    f"{type(exc).__name__}: {exc}"
                ) from None
            finally:
                self._reading_version = None
            batches: list[tuple[bytes, list[Entry]]] = reply or []
            for raw_key, entries in batches:
                channel = _text(raw_key)[len(self.settings.key_prefix) :]
                if channel not in cursors:
                    continue  # unsubscribed while the read was on its way
                for entry in entries:
                    cursors[channel] = _text(entry[0])
                    yield self._message(channel, entry)

    # -- helpers ------------------------------------------------------------------

    async def _changed(self) -> None:
        """Note a change to the channel set and wake a read issued with the old set."""
        self._version += 1
        self._changes.set()
        pool, reader_id = self._pool, self._reader_id
        if pool is None or reader_id is None:
            return
        for _ in range(_WAKE_TRIES):
            reading = self._reading_version
            if reading is None or reading == self._version:
                return
            try:
                woken = await asyncio.wait_for(
                    pool.client_unblock(reader_id), self.settings.publish_timeout
                )
            except (RedisError, OSError, asyncio.TimeoutError):
                return  # the read fails by itself and the hub reconnects
            if woken:
                return
            # The read is on its way but not yet blocked in Redis: try again.
            await asyncio.sleep(0.002)

    async def _stream_info(self, channel: str) -> dict[str, Any] | None:
        pool = self._live_pool("stream info")
        try:
            info: dict[str, Any] = await self._bounded(
                pool.xinfo_stream(self._key(channel)), f"stream info of {channel!r}"
            )
        except ResponseError:  # no such key: never published, or lost with a restart
            return None
        return info

    async def _bounded(self, call: Awaitable[Any], what: str, timeout: float | None = None) -> Any:
        """Await a Redis call for at most ``publish_timeout``; failures become unavailable."""
        if timeout is None:
            timeout = self.settings.publish_timeout
        try:
            return await asyncio.wait_for(call, timeout)
        except ResponseError:
            raise
        except asyncio.TimeoutError:
            raise BroadcastUnavailable(
                f"Redis at {self.settings.shown_url} did not answer the {what} within "
                f"{timeout:g} s."
            ) from None
        except (RedisError, OSError) as exc:
            raise BroadcastUnavailable(
                f"Redis at {self.settings.shown_url} cannot be reached for the {what}: "
                f"{type(exc).__name__}: {exc}"
            ) from None

    def _live_pool(self, what: str) -> aioredis.Redis:
        pool = self._pool
        if pool is None:
            raise BroadcastUnavailable(
                f"The Redis broadcast backend ({self.settings.shown_url}) is not connected: "
                f"the {what} came before lifespan startup."
            )
        return pool

    def _key(self, channel: str) -> str:
        return self.settings.key_prefix + channel

    @staticmethod
    def _message(channel: str, entry: Entry) -> BroadcastMessage:
        raw_id, fields = entry
        text = fields.get(_TEXT)
        payload: str | bytes = (
            text.decode("utf-8", "surrogatepass") if text is not None else fields.get(_DATA, b"")
        )
        event = fields.get(_EVENT)
        return BroadcastMessage(
            _text(raw_id),
            channel,
            payload,
            event.decode("utf-8", "surrogatepass") if event is not None else None,
        )


def _continues(after: StreamId, info: dict[str, Any]) -> bool:
    """Whether the stream still holds every entry after ``after`` (nothing was lost)."""
    last = parse_id(info.get("last-generated-id"))
    if last is None or after > last:
        return False  # an id this stream never gave out (another life of it, or bogus)
    first_entry = info.get("first-entry")
    first = parse_id(first_entry[0]) if first_entry else None
    if first is None or after >= first:
        # Every entry after `after` is still kept (or none were ever added after it).
        return first is not None or after == last
    # `after` is older than the oldest kept entry: nothing was lost only if the
    # newest trimmed entry is `after` itself (Redis 7 reports it).
    return parse_id(info.get("max-deleted-entry-id")) == after


def _text(value: str | bytes) -> str:
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value


async def _close_client(client: aioredis.Redis) -> None:
    """Close a client and its connections, including one blocked in a read."""
    with contextlib.suppress(RedisError, OSError):
        await client.connection_pool.disconnect()
        await client.aclose()


def _connection_class(settings: RedisSettings) -> type[aioredis.connection.AbstractConnection]:
    return aioredis.SSLConnection if settings.tls else aioredis.Connection


def _pool_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Connection keywords for a pool: TLS is its connection class, not a keyword."""
    return {k: v for k, v in kwargs.items() if k != "ssl"}
