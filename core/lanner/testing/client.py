"""``TestClient``: a synchronous wrapper over :class:`ASGIConductor` for HTTP tests."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator, Mapping
from typing import Any, TypeVar

from lanner.app import App
from lanner.testing._http import DEFAULT_TIMEOUT, Result, StreamedResult
from lanner.testing._sse_parser import ParsedEvent
from lanner.testing.conductor import ASGIConductor

__all__ = ["SyncStreamedResult", "TestClient"]

T = TypeVar("T")


class TestClient:
    """Calls an app synchronously from plain (non-async) tests.

    The first call runs lifespan startup on a private event loop; ``close()``
    (or leaving the ``with`` block) runs shutdown. It cannot be used from
    inside a running event loop: use :class:`ASGIConductor` there.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, app: App, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.app = app
        self._conductor = ASGIConductor(app, timeout=timeout)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._streams: set[SyncStreamedResult] = set()

    def __enter__(self) -> TestClient:
        self._ensure_started()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            coro.close()
            raise RuntimeError(
                "TestClient cannot run inside a running event loop; "
                "use `async with ASGIConductor(app)` in async tests."
            )
        try:
            self._ensure_started()
        except BaseException:
            coro.close()  # never run: close it so Python does not warn it was not awaited
            raise
        assert self._loop is not None
        return self._loop.run_until_complete(coro)

    def _ensure_started(self) -> None:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(self._conductor.__aenter__())
            except BaseException:
                self._loop.close()
                self._loop = None
                raise

    def close(self) -> None:
        """Disconnect open streams, run lifespan shutdown and close the private event loop."""
        loop = self._loop
        if loop is None:
            return
        try:
            for stream in list(self._streams):
                stream.disconnect()
        finally:
            self._loop = None
            try:
                loop.run_until_complete(self._conductor.__aexit__(None, None, None))
            finally:
                loop.close()

    def simulate_request(self, method: str, path: str, **kwargs: Any) -> Result:
        """Send one request; see :meth:`ASGIConductor.simulate_request`."""
        return self._run(self._conductor.simulate_request(method, path, **kwargs))

    def simulate_get(self, path: str, **kwargs: Any) -> Result:
        """``simulate_request("GET", path, ...)``."""
        return self.simulate_request("GET", path, **kwargs)

    def simulate_head(self, path: str, **kwargs: Any) -> Result:
        """``simulate_request("HEAD", path, ...)``."""
        return self.simulate_request("HEAD", path, **kwargs)

    def simulate_post(self, path: str, **kwargs: Any) -> Result:
        """``simulate_request("POST", path, ...)``."""
        return self.simulate_request("POST", path, **kwargs)

    def simulate_put(self, path: str, **kwargs: Any) -> Result:
        """``simulate_request("PUT", path, ...)``."""
        return self.simulate_request("PUT", path, **kwargs)

    def simulate_patch(self, path: str, **kwargs: Any) -> Result:
        """``simulate_request("PATCH", path, ...)``."""
        return self.simulate_request("PATCH", path, **kwargs)

    def simulate_delete(self, path: str, **kwargs: Any) -> Result:
        """``simulate_request("DELETE", path, ...)``."""
        return self.simulate_request("DELETE", path, **kwargs)

    def simulate_options(self, path: str, **kwargs: Any) -> Result:
        """``simulate_request("OPTIONS", path, ...)``."""
        return self.simulate_request("OPTIONS", path, **kwargs)

    def simulate_get_stream(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> SyncStreamedResult:
        """Open a streaming GET (an SSE feed or ``resp.stream``) to read as it arrives.

        Use as ``with client.simulate_get_stream("/feed") as stream:`` and read
        with ``stream.receive_event()`` or ``for ev in stream.events()``;
        leaving the block disconnects the client, which closes the app's
        generator. See :meth:`ASGIConductor.simulate_get_stream`.
        """
        stream = self._conductor.simulate_get_stream(path, params=params, headers=headers)
        return SyncStreamedResult(self, stream)

    simulate_sse = simulate_get_stream


class SyncStreamedResult:
    """A streaming response read from a sync test (``TestClient.simulate_get_stream``).

    The app runs on the client's private event loop, and that loop runs only
    while one of these methods waits: between calls the app is paused, and
    timers that came due (keep-alive pings) fire at the next call. Leaving the
    ``with`` block disconnects the client and waits for the app to finish.

    Attributes:
        status_code: The response status, once the block is entered.
        headers: The response headers (names lower-cased), once entered.
    """

    __slots__ = ("_client", "_open", "_stream")

    def __init__(self, client: TestClient, stream: StreamedResult) -> None:
        self._client = client
        self._stream = stream
        self._open = False

    def __enter__(self) -> SyncStreamedResult:
        self._client._run(self._stream.__aenter__())
        self._open = True
        self._client._streams.add(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.disconnect()

    @property
    def status_code(self) -> int:
        """The response status."""
        return self._stream.status_code

    @property
    def headers(self) -> dict[str, str]:
        """The response headers, names lower-cased."""
        return self._stream.headers

    def disconnect(self) -> None:
        """Leave as a client would and wait (bounded) for the app to finish.

        Raises:
            TimeoutError: The app kept streaming after the client left.
            Exception: Whatever the app raised.
        """
        if not self._open:
            return
        self._open = False
        self._client._streams.discard(self)
        self._client._run(self._stream.disconnect())

    def _check_open(self) -> None:
        if not self._open:
            raise RuntimeError(
                "The stream is not open; read it inside "
                "`with client.simulate_get_stream(path) as stream:`."
            )

    def receive_bytes(self, timeout: float | None = None) -> bytes:
        """Return the next body chunk; ``b""`` once the response has ended.

        Raises:
            TimeoutError: Nothing arrived within ``timeout`` (default: the client's).
        """
        self._check_open()
        return self._client._run(self._stream.receive_bytes(timeout))

    def iter_bytes(self) -> Iterator[bytes]:
        """Yield body chunks until the response ends."""
        while not self._stream.ended:
            chunk = self.receive_bytes()
            if chunk:
                yield chunk

    def receive_event(self, timeout: float | None = None) -> ParsedEvent:
        """Return the next Server-Sent Event (pings included, as comment-only events).

        Raises:
            TimeoutError: No complete event arrived within ``timeout`` (default:
                the client's).
            EOFError: The stream ended.
        """
        self._check_open()
        return self._client._run(self._stream.receive_event(timeout))

    def events(self) -> Iterator[ParsedEvent]:
        """Yield Server-Sent Events until the stream ends."""
        while True:
            try:
                yield self.receive_event()
            except EOFError:
                return
