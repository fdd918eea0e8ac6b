"""Live connections: the send-timeout watchdog and the server's going-away order.

Every open WebSocket and event stream of an app joins a :class:`LiveConnections`
set for its lifetime (one ``set.add`` and one ``set.discard`` per connection,
nothing per message). The set serves two jobs:

* **Send timeouts.** A connection records the awaitable of the send it is doing
  (one attribute write per message, no timer). While any connection is open, one
  watchdog timer per set ticks a few times per timeout and asks each member for its
  pending send; a send seen pending with the same awaitable for ``timeout`` seconds
  has stalled, and the connection is failed: the server's transport is aborted when
  lanner can reach it (uvicorn's), which frees the socket and its buffers and wakes
  the blocked send; otherwise the task awaiting the send is cancelled, and the
  connection turns that cancellation into its usual "client has gone" outcome.
* **Going away.** :func:`begin_shutdown` (called by ``lanner serve`` when its
  process receives SIGTERM or SIGINT) closes every live WebSocket with 1001 and ends
  every event stream with its terminator, before the server starts its own shutdown.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Coroutine
from typing import Any, Final, Protocol

__all__ = [
    "LiveConnection",
    "LiveConnections",
    "abort_transport",
    "begin_shutdown",
    "cancel_awaiting",
    "is_pending",
    "stopped_by_server",
]

_MAX_TICK: Final = 0.5
"""The longest pause between two watchdog looks: a stall is noticed at most this late."""

_MISSING: Final = object()


class LiveConnection(Protocol):
    """What a connection offers the set it lives in."""

    def _pending_send(self) -> object | None:
        """Return the awaitable of the send in progress, or ``None`` if there is none."""

    def _fail_stalled_send(self, timeout: float) -> None:
        """Fail the connection: its send has not completed in ``timeout`` seconds."""

    def _go_away(self) -> Coroutine[Any, Any, None]:
        """Close the connection because the server is shutting down."""


def is_pending(awaitable: object) -> bool:
    """Return whether ``awaitable`` (a coroutine or a future) has not finished yet."""
    frame = getattr(awaitable, "cr_frame", _MISSING)
    if frame is not _MISSING:
        return frame is not None
    done = getattr(awaitable, "done", None)
    return callable(done) and not done()


def abort_transport(send: Callable[..., object]) -> bool:
    """Abort the connection under an ASGI ``send`` callable, if lanner can reach it.

    ASGI has no message that drops a connection without flushing what is queued for
    it, and a transport's ``close()`` waits for its buffer to drain, which a client
    that stopped reading never lets happen. uvicorn's ``send`` callables are bound
    methods of objects that hold the ``asyncio`` transport; aborting that transport
    closes the socket at once and frees its buffers, and uvicorn then fails the
    pending send. Returns ``False`` when no transport is reachable.
    """
    owner = getattr(send, "__self__", None)
    transport = getattr(owner, "transport", None)
    abort = getattr(transport, "abort", None)
    is_closing = getattr(transport, "is_closing", None)
    if not callable(abort) or not callable(is_closing):
        return False
    abort()
    return True


def cancel_awaiting(awaitable: object) -> bool:
    """Cancel the task whose chain of awaits reaches ``awaitable``; return whether found.

    This walks every task of the running loop, so it is only for the rare stalled
    send on a server whose transport lanner cannot reach.
    """
    for task in asyncio.all_tasks():
        step: object = task.get_coro()
        while step is not None:
            if step is awaitable:
                task.cancel()
                return True
            step = (
                getattr(step, "cr_await", None)
                or getattr(step, "gi_yieldfrom", None)
                or getattr(step, "ag_await", None)
            )
    return False


def stopped_by_server(task: asyncio.Task[Any] | None) -> bool:
    """Return whether a ``CancelledError`` reaching a connection's top frame stops its task.

    An ASGI server cancels a connection's task only to end it (uvicorn does so for
    tasks still running when its graceful shutdown times out). When the task itself
    was cancelled, the cancellation is absorbed (``Task.uncancel`` on Python 3.11+)
    and the caller finishes the connection quietly; a ``CancelledError`` that comes
    from somewhere else (an awaited future someone cancelled) is not the server's.
    """
    if task is None:
        return False
    cancelling = getattr(task, "cancelling", None)
    if cancelling is None:  # Python 3.10: no cancellation count to check
        return True
    if cancelling() == 0:
        return False
    task.uncancel()  # type: ignore[attr-defined,unused-ignore]
    return True


class LiveConnections:
    """The open connections of one kind (WebSocket or event stream) of one app.

    Args:
        send_timeout: Seconds a send may stay blocked before the connection is
            failed, or ``None`` for no limit (and no watchdog).
    """

    __slots__ = (
        "__weakref__",
        "_going_away",
        "_live",
        "_loop",
        "_seen",
        "_tick",
        "_timer",
        "send_timeout",
    )

    def __init__(self, send_timeout: float | None) -> None:
        self._live: set[LiveConnection] = set()
        self._seen: dict[LiveConnection, tuple[object, float]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tick = None if send_timeout is None else min(_MAX_TICK, send_timeout / 4)
        self.send_timeout = send_timeout
        self._going_away = False
        _ALL.add(self)

    def __len__(self) -> int:
        return len(self._live)

    def add(self, conn: LiveConnection) -> None:
        """Track ``conn`` until :meth:`discard`; arm the watchdog if it is not running."""
        self._live.add(conn)
        if self._tick is not None:
            loop = asyncio.get_running_loop()
            if self._loop is not loop or self._timer is None:
                self._arm(loop)
        if self._going_away:
            _start_going_away([conn])

    def discard(self, conn: LiveConnection) -> None:
        """Stop tracking ``conn`` (it has finished)."""
        self._live.discard(conn)

    def go_away(self) -> list[asyncio.Task[None]]:
        """Close every live connection, and every later one, as the server is shutting down.

        Returns the tasks closing the connections open now (one per connection).
        """
        self._going_away = True
        return _start_going_away(list(self._live))

    @property
    def going_away(self) -> bool:
        """Whether :meth:`go_away` was called."""
        return self._going_away

    def _arm(self, loop: asyncio.AbstractEventLoop) -> None:
        assert self._tick is not None
        if self._timer is not None:
            self._timer.cancel()
        self._loop = loop
        self._timer = loop.call_later(self._tick, self._check)

    def _check(self) -> None:
        """Fail every connection whose send has been pending, unchanged, for the timeout."""
        self._timer = None
        loop = self._loop
        timeout = self.send_timeout
        if loop is None or timeout is None or loop.is_closed():
            return
        now = loop.time()
        seen: dict[LiveConnection, tuple[object, float]] = {}
        stalled: list[LiveConnection] = []
        previous = self._seen
        for conn in self._live:
            sending = conn._pending_send()
            if sending is None:
                continue
            since = now
            last = previous.get(conn)
            if last is not None and last[0] is sending:
                since = last[1]
                # The send began at most one tick before it was first seen, so it
                # has been blocked for at least now - since: never failed early.
                if now - since >= timeout:
                    stalled.append(conn)
                    continue
            seen[conn] = (sending, since)
        self._seen = seen
        for conn in stalled:
            conn._fail_stalled_send(timeout)
        if self._live:
            self._arm(loop)


_ALL: weakref.WeakSet[LiveConnections] = weakref.WeakSet()
# NOTE: the loop keeps only weak references to tasks; these are kept until done.
_going_away_tasks: set[asyncio.Task[None]] = set()


def _start_going_away(conns: list[LiveConnection]) -> list[asyncio.Task[None]]:
    # One task per connection, started now: each writes its close frame in its
    # first step, and a stalled one (bounded by its send timeout) holds no other.
    loop = asyncio.get_running_loop()
    tasks = [loop.create_task(conn._go_away(), name="lanner-going-away") for conn in conns]
    for task in tasks:
        _going_away_tasks.add(task)
        task.add_done_callback(_going_away_tasks.discard)
    return tasks


def begin_shutdown() -> list[asyncio.Task[None]]:
    """Close every live WebSocket (1001) and end every event stream, in every app.

    Runs on the event loop that serves the connections; ``lanner serve`` calls it
    when its process is told to stop, before uvicorn's own shutdown starts, so
    clients see Going Away rather than uvicorn's 1012. Returns the closing tasks.
    """
    return [task for connections in list(_ALL) for task in connections.go_away()]
