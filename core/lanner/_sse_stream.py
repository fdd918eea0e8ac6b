"""Drive one Server-Sent Events response: pump the generator, keep it alive, notice a lost client.

Two tasks run per stream, none per event:

* the *pump* awaits the app's generator and sends each event it yields;
* the *watcher* awaits ``receive()`` until ``http.disconnect``.

The calling coroutine supervises both and sends keep-alive pings. It never cancels
the generator's ``__anext__`` to make room for a ping (that would throw
``CancelledError`` into the app's code at an arbitrary await); pings go out from
the supervisor while the pump is blocked on the generator. The generator is
cancelled only once the client has gone, a send to it timed out, or the server is
shutting down, so its ``finally`` runs at once.

Each stream joins the app's live SSE connections while it runs: the send-timeout
watchdog fails a stream whose send stays blocked (the client stopped reading), and
a server shutdown ends every stream with its terminator.

Servers on ASGI HTTP spec 2.3 (uvicorn's HTTP protocols) silently drop sends after
a disconnect, so the watcher is what notices it; servers on 2.4 raise ``OSError``
from ``send``, which counts as a disconnect too.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from lanner._lifecycle import (
    LiveConnections,
    abort_transport,
    cancel_awaiting,
    is_pending,
)
from lanner._types import Headers, Message, Receive, Send
from lanner.sse import PING, SSEvent

__all__ = ["stream_sse"]


async def stream_sse(
    agen: AsyncIterator[SSEvent | None],
    receive: Receive,
    send: Send,
    *,
    ping_interval: float | None,
    json_dumps: Callable[[object], str],
    status: int = 200,
    headers: Headers,
    live: LiveConnections | None = None,
) -> None:
    """Send an event-stream response from ``agen`` until it ends or the client leaves.

    Sends ``http.response.start``, one ``http.response.body`` (``more_body=True``)
    per event, and a final empty body once the generator ends. When the client
    leaves, the generator is cancelled at its current await and closed, so its
    ``finally`` runs; no task outlives the call.

    Args:
        agen: The app's generator of events; ``None`` sends a ``: ping`` comment.
        receive: The ASGI ``receive`` callable, watched for ``http.disconnect``.
        send: The ASGI ``send`` callable.
        ping_interval: Idle seconds before a ``: ping`` comment; ``None`` for none.
        json_dumps: Turns an event's ``json=`` object into JSON text.
        status: The response status.
        headers: The complete response headers, including ``SSE_HEADERS``.
        live: The app's live event streams, which this one joins while it runs
            (for send timeouts and shutdown); ``None`` for neither.

    Raises:
        Exception: Whatever the generator (or serializing its events) raised, once
            the response body has been ended; the caller logs it. A client that
            left is not an error and raises nothing.
    """
    stream = _Stream(agen, send, json_dumps)
    try:
        await send({"type": "http.response.start", "status": status, "headers": headers})
    except OSError:  # the client left before the stream began
        await stream.close_generator(None)
        return
    if live is None:
        await stream.run(receive, ping_interval)
        return
    live.add(stream)
    try:
        await stream.run(receive, ping_interval)
    finally:
        live.discard(stream)


async def _wait_for_disconnect(receive: Receive) -> None:
    """Return once the client has gone; request body chunks are read and dropped."""
    while (await receive())["type"] != "http.disconnect":
        pass


class _Stream:
    """The state one event stream shares between its pump and its supervisor."""

    __slots__ = (
        "_agen",
        "_dumps",
        "_gone",
        "_halt",
        "_last_send",
        "_ping_on_wire",
        "_pump",
        "_send",
        "_sending",
    )

    def __init__(
        self, agen: AsyncIterator[SSEvent | None], send: Send, dumps: Callable[[object], str]
    ) -> None:
        self._agen = agen
        self._send = send
        self._dumps = dumps
        # Whether the client has left (or a send to it timed out); once set,
        # nothing more is sent.
        self._gone = False
        # Whether the pump must send no more events: the client left, or the
        # server is ending the stream (which still sends the terminator).
        self._halt = False
        # When the last send finished (time.monotonic()).
        self._last_send = time.monotonic()
        # The awaitable of the latest send: in flight while it is pending.
        self._sending: object = None
        self._pump: asyncio.Task[None] | None = None
        # Set while the supervisor sends a ping; the pump waits for it before sending.
        self._ping_on_wire: asyncio.Future[None] | None = None

    async def run(self, receive: Receive, ping_interval: float | None) -> None:
        """Stream until the generator ends or the client leaves, then clean up."""
        pump = self._pump = asyncio.create_task(self._run_pump(), name="lanner-sse-pump")
        watch = asyncio.create_task(_wait_for_disconnect(receive), name="lanner-sse-watch")
        try:
            await self._supervise(pump, watch, ping_interval)
        except BaseException as exc:
            # The caller was cancelled (server shutdown) or a ping's send failed with
            # something other than OSError: end the body if no send is in flight (first:
            # a server that cancels this task may not let it run much longer), stop
            # everything, close the generator, and let the exception through.
            self._halt = True
            if (
                isinstance(exc, asyncio.CancelledError)
                and not self._gone
                and self._pending_send() is None
            ):
                self._gone = True
                with contextlib.suppress(OSError):
                    self._sending = sending = self._send(_end_message())
                    await sending
            await _stop(pump, watch)
            await self.close_generator(None)
            raise
        await _stop(pump, watch)
        error = _failure(pump, watch)
        try:
            if not self._gone:
                with contextlib.suppress(OSError):  # a 2.4 server: the client just left
                    self._sending = sending = self._send(_end_message())
                    await sending
        finally:
            await self.close_generator(error)

    async def close_generator(self, error: BaseException | None) -> None:
        """Close the generator (its ``finally`` runs) and raise ``error`` if there is one.

        A failure while closing is raised when there is no earlier ``error``; when
        there is, ``error`` is raised with the closing failure as its context.
        """
        aclose: Callable[[], Awaitable[object]] | None = getattr(self._agen, "aclose", None)
        try:
            if aclose is not None:
                await aclose()
        except Exception:
            if error is None:
                raise
            raise error  # noqa: B904 (the closing failure stays visible as context)
        if error is not None:
            raise error

    async def _run_pump(self) -> None:
        """Send each event the generator yields; return when it ends or the client left."""
        # PERF: everything the loop needs is bound once; per event it reads two
        # attributes of self, builds the message and writes the send time.
        # The send time is one clock read per event (50-90 ns, under a tenth of the
        # ~1.1 us an event costs end to end). Counting events instead, and letting
        # the supervisor compare counts, would save that but lose exact pings: a
        # count says that a send happened since the last look, not when, so pings
        # would only be on time within a tick, and the supervisor would have to wake
        # several times per interval on every stream, idle ones included. Streams
        # are mostly idle, so that costs more than it saves; the clock stays.
        send = self._send
        dumps = self._dumps
        monotonic = time.monotonic
        async for event in self._agen:
            if event is None:
                body = PING
            else:
                try:
                    # PERF: most events were serialised when created; only json=
                    # events (wire form None) need the app's encoder now.
                    body = event._wire or event.serialize(dumps)
                except AttributeError:
                    if isinstance(event, SSEvent):
                        raise
                    raise TypeError(
                        "An SSE generator (resp.sse) must yield SSEvent objects, or None "
                        f"for a keep-alive ping; it yielded {type(event).__name__} "
                        f"{event!r}. Wrap the value, for example SSEvent(text=...)."
                    ) from None
            if self._ping_on_wire is not None:
                await self._ping_on_wire
            if self._halt:
                # Only reached when the generator swallowed the CancelledError that
                # was thrown into it after the client left or the server ended it.
                return
            # PERF: the send's awaitable marks it in flight, for pings and for the
            # send-timeout watchdog alike: one attribute write, no timer.
            try:
                self._sending = sending = send(
                    {"type": "http.response.body", "body": body, "more_body": True}
                )
                await sending
            except OSError:
                self._gone = self._halt = True
                return
            self._last_send = monotonic()

    async def _supervise(
        self, pump: asyncio.Task[None], watch: asyncio.Task[None], ping_interval: float | None
    ) -> None:
        """Wait for the pump to finish or the client to leave, sending pings meanwhile.

        NOTE: two sends must never overlap. The pump marks a send in flight by
        storing its pending awaitable in ``_sending``, and the supervisor sends no
        ping then (the stream is not idle). A ping sets ``_ping_on_wire`` first, and the pump
        awaits it before its next send. No await separates either check from the
        matching write, so on one event loop they cannot interleave.
        """
        tasks = {pump, watch}
        timeout = ping_interval
        while True:
            done, _ = await asyncio.wait(
                tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if watch in done:
                self._gone = self._halt = True
                return
            if done or ping_interval is None:
                return
            if self._pending_send() is not None:  # a send is in flight: not idle
                timeout = ping_interval
                continue
            idle = time.monotonic() - self._last_send
            if idle < ping_interval:
                timeout = ping_interval - idle
                continue
            if not await self._send_ping():
                return
            timeout = ping_interval

    async def _send_ping(self) -> bool:
        """Send a keep-alive comment, holding the pump back; return False if the client left."""
        on_wire: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._ping_on_wire = on_wire
        try:
            self._sending = sending = self._send(
                {"type": "http.response.body", "body": PING, "more_body": True}
            )
            await sending
        except OSError:
            self._gone = self._halt = True
            return False
        finally:
            self._ping_on_wire = None
            on_wire.set_result(None)
        self._last_send = time.monotonic()
        return True

    # -- send timeout and shutdown (called by the app's LiveConnections) -----

    def _pending_send(self) -> object | None:
        sending = self._sending
        return sending if sending is not None and is_pending(sending) else None

    def _fail_stalled_send(self, timeout: float) -> None:
        if self._gone:
            return
        self._gone = self._halt = True
        # Aborting the transport frees the socket and wakes the blocked send; the
        # watcher then sees the disconnect. Without a transport, cancel whichever
        # task is blocked in the send (the pump, or the supervisor sending a ping).
        if not abort_transport(self._send):
            cancel_awaiting(self._sending)

    async def _go_away(self) -> None:
        if self._halt:
            return
        self._halt = True
        # The pump stops where it is (the generator's pending await raises
        # CancelledError and its finally runs); the supervisor then ends the body.
        if self._pump is not None:
            self._pump.cancel()


async def _stop(pump: asyncio.Task[None], watch: asyncio.Task[None]) -> None:
    """Cancel both tasks (a no-op for a finished one) and wait until they have finished.

    Cancelling the pump throws ``CancelledError`` into the generator at the await
    where it is blocked, so the generator's ``finally`` runs there and then.
    """
    pump.cancel()
    watch.cancel()
    await asyncio.wait({pump, watch})


def _failure(pump: asyncio.Task[None], watch: asyncio.Task[None]) -> BaseException | None:
    """Return the error the caller should see: the pump's first, then the watcher's.

    A watcher's ``OSError`` means the client left, which is not an error.
    """
    if not pump.cancelled() and (error := pump.exception()) is not None:
        return error
    if watch.cancelled() or isinstance(error := watch.exception(), OSError):
        return None
    return error


def _end_message() -> Message:
    """Return the message that ends the response body (a new dict: servers may keep it)."""
    return {"type": "http.response.body", "body": b"", "more_body": False}
