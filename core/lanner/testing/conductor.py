"""``ASGIConductor``: drive an app in-process, lifespan included, from async tests."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from lanner._types import Message
from lanner.app import App
from lanner.testing._http import (
    DEFAULT_TIMEOUT,
    Result,
    StreamedResult,
    build_http_scope,
    encode_body,
    run_http,
)
from lanner.testing._ws import SimulatedWebSocket

__all__ = ["ASGIConductor"]


class ASGIConductor:
    """Runs an app in-process for tests: lifespan, HTTP, SSE and WebSocket.

    Use it as an async context manager: entering runs lifespan startup (and
    raises the original exception if the app cannot start, such as a
    ``PluginConflictError``); leaving runs shutdown.

    Args:
        app: The lanner app under test.
        timeout: Seconds any single wait may take (a WebSocket receive, an SSE
            event) before ``TimeoutError``; keeps a failing test from hanging.
    """

    def __init__(self, app: App, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.app = app
        self.timeout = timeout
        self._lifespan_task: asyncio.Task[None] | None = None
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._streams: list[StreamedResult] = []

    async def __aenter__(self) -> ASGIConductor:
        server = self.app.freeze()
        self._lifespan_task = asyncio.get_running_loop().create_task(
            self.app({"type": "lifespan", "asgi": {"version": "3.0"}}, self._to_app.get, self._put)
        )
        await self._to_app.put({"type": "lifespan.startup"})
        reply = await asyncio.wait_for(self._from_app.get(), self.timeout)
        if reply["type"] == "lifespan.startup.failed":
            await self._lifespan_task
            if server.startup_error is not None:
                raise server.startup_error
            raise RuntimeError(f"App startup failed: {reply.get('message')}")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        # Streams still open disconnect first, as their clients would at shutdown.
        streams, self._streams = self._streams, []
        for stream in streams:
            await stream.disconnect()
        task = self._lifespan_task
        if task is None or task.done():
            return
        await self._to_app.put({"type": "lifespan.shutdown"})
        reply = await asyncio.wait_for(self._from_app.get(), self.timeout)
        await asyncio.wait_for(task, self.timeout)
        if reply["type"] == "lifespan.shutdown.failed":
            raise RuntimeError(f"App shutdown failed: {reply.get('message')}")

    async def _put(self, message: Message) -> None:
        await self._from_app.put(message)

    def begin_server_shutdown(self) -> None:
        """Do what ``lanner serve`` does when its process is told to stop.

        Every open WebSocket of the app is closed with 1001 (Going Away) and every
        open event stream ends with its terminator (its generator is closed); this
        returns at once and the connections close in the background, so read the
        outcome from the simulated clients. Connections opened afterwards are
        closed as soon as they start.
        """
        self.app.freeze().go_away()

    # -- HTTP -----------------------------------------------------------------

    async def simulate_request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        body: bytes | str | None = None,
        content_type: str | None = None,
        root_path: str = "",
    ) -> Result:
        """Send one HTTP request and return the complete response.

        For an SSE route this returns once the event generator ends, with the
        whole stream as the body (``result.events`` parses it).
        """
        all_headers = dict(headers or {})
        data = encode_body(json=json, body=body, content_type=content_type, headers=all_headers)
        scope = build_http_scope(
            method, path, params=params, headers=all_headers, root_path=root_path
        )
        return await run_http(self.app, scope, data)

    async def simulate_get(self, path: str, **kwargs: Any) -> Result:
        """``simulate_request("GET", path, ...)``."""
        return await self.simulate_request("GET", path, **kwargs)

    async def simulate_head(self, path: str, **kwargs: Any) -> Result:
        """``simulate_request("HEAD", path, ...)``."""
        return await self.simulate_request("HEAD", path, **kwargs)

    async def simulate_post(self, path: str, **kwargs: Any) -> Result:
        """``simulate_request("POST", path, ...)``."""
        return await self.simulate_request("POST", path, **kwargs)

    async def simulate_put(self, path: str, **kwargs: Any) -> Result:
        """``simulate_request("PUT", path, ...)``."""
        return await self.simulate_request("PUT", path, **kwargs)

    async def simulate_patch(self, path: str, **kwargs: Any) -> Result:
        """``simulate_request("PATCH", path, ...)``."""
        return await self.simulate_request("PATCH", path, **kwargs)

    async def simulate_delete(self, path: str, **kwargs: Any) -> Result:
        """``simulate_request("DELETE", path, ...)``."""
        return await self.simulate_request("DELETE", path, **kwargs)

    async def simulate_options(self, path: str, **kwargs: Any) -> Result:
        """``simulate_request("OPTIONS", path, ...)``."""
        return await self.simulate_request("OPTIONS", path, **kwargs)

    def simulate_get_stream(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> StreamedResult:
        """Open a streaming GET (an SSE feed or ``resp.stream``) to read as it arrives.

        Use as ``async with c.simulate_get_stream("/feed") as stream:`` and read
        with ``await stream.receive_event()`` or ``async for ev in
        stream.events()``; leaving the block disconnects the client.
        """
        scope = build_http_scope("GET", path, params=params, headers=dict(headers or {}))
        stream = StreamedResult(self.app, scope, b"", self.timeout)
        self._streams.append(stream)
        return stream

    simulate_sse = simulate_get_stream

    # -- WebSocket --------------------------------------------------------------

    def simulate_ws(
        self,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        subprotocols: Sequence[str] | None = None,
        params: Mapping[str, Any] | None = None,
        spec_version: str = "2.4",
        timeout: float | None = None,
    ) -> SimulatedWebSocket:
        """Open a simulated WebSocket connection (an async context manager).

        Args:
            path: The path to connect to (may include ``?query``).
            headers: Handshake request headers.
            subprotocols: Subprotocols the client offers.
            spec_version: The ASGI spec version the simulated server reports
                (``"2.3"`` to exercise the fallback for older servers).
            timeout: Seconds each receive may wait (default: the conductor's).
        """
        scope = build_http_scope(
            "GET",
            path,
            params=params,
            headers=dict(headers or {}),
            scheme="ws",
            kind="websocket",
            spec_version=spec_version,
            subprotocols=list(subprotocols or []),
        )
        return SimulatedWebSocket(
            self.app,
            scope,
            timeout=self.timeout if timeout is None else timeout,
            spec_version=spec_version,
        )
