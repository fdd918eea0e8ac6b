"""Drive a headless Chromium over the Chrome DevTools Protocol for end-to-end tests.

No browser-automation library is needed: Chromium runs as a subprocess with
``--remote-debugging-port=0``, prints the DevTools WebSocket address on stderr,
and :class:`DevTools` speaks the protocol (JSON commands and events) over the
``websockets`` client that lanner already depends on. Each page is a target
attached with ``flatten=True``, so every page shares the one connection and is
told apart by its session id. Every wait is bounded, and the browser is killed
and its profile removed whatever the test does.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pytest
from websockets.asyncio.client import ClientConnection, connect

__all__ = [
    "CHROMIUM",
    "DevTools",
    "DevToolsError",
    "Page",
    "RunningBrowser",
    "connect_devtools",
    "launch_chromium",
    "require_chromium",
]

CHROMIUM: Final = Path("/usr/bin/chromium")
"""Where Debian's ``chromium`` package (``.ci/install-browser``) puts the browser."""

LAUNCH_TIMEOUT: Final = 20.0
COMMAND_TIMEOUT: Final = 10.0
WAIT_TIMEOUT: Final = 5.0
STOP_TIMEOUT: Final = 5.0

_FLAGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Two pages talk to each other: neither may be slowed down for being in the background.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    "--remote-debugging-port=0",
)
_LISTENING: Final = re.compile(r"DevTools listening on (ws://\S+)")


def require_chromium(executable: Path = CHROMIUM) -> Path:
    """Return ``executable``, or fail the calling test if it is not installed.

    A missing browser fails rather than skips, so that a machine without one
    cannot pass the suite by silently leaving the browser test out.
    """
    if not (executable.is_file() and os.access(executable, os.X_OK)):
        pytest.fail(
            f"Expected a Chromium executable at {executable} for the browser end-to-end test, "
            "found none. Install it with `.ci/install-browser` (as root; it runs "
            "`apt-get install chromium`), which `make test` runs before pytest.",
            pytrace=False,
        )
    return executable


@dataclass
class RunningBrowser:
    """A headless Chromium subprocess and the DevTools address it listens on."""

    process: subprocess.Popen[bytes]
    devtools_url: str
    log_path: Path

    def log(self) -> str:
        """Everything the browser printed on stderr so far."""
        return self.log_path.read_text(errors="replace")


def _wait_for_devtools_url(process: subprocess.Popen[bytes], log_path: Path) -> str:
    deadline = time.monotonic() + LAUNCH_TIMEOUT
    while time.monotonic() < deadline:
        found = _LISTENING.search(log_path.read_text(errors="replace"))
        if found:
            return found.group(1)
        if process.poll() is not None:
            raise RuntimeError(
                f"Chromium exited with {process.returncode} before printing its DevTools "
                f"address:\n{log_path.read_text(errors='replace')}"
            )
        time.sleep(0.05)
    raise TimeoutError(
        f"Chromium did not print 'DevTools listening on ws://...' within {LAUNCH_TIMEOUT} s:\n"
        f"{log_path.read_text(errors='replace')}"
    )


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Stop Chromium and its helper processes: SIGTERM to its group, then SIGKILL."""
    # Chromium was started in a new session, so its process group id is its own pid
    # and holds the renderer, GPU and zygote helpers too.
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(STOP_TIMEOUT)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def launch_chromium(
    executable: Path = CHROMIUM, *, window_size: tuple[int, int] = (1280, 900)
) -> Iterator[RunningBrowser]:
    """Start a headless Chromium with a throw-away profile and yield it once DevTools listens.

    On exit the browser's process group is terminated (then killed if it lingers)
    and the profile directory is removed.

    Args:
        executable: The browser to run; see :func:`require_chromium`.
        window_size: Width and height of every window, in CSS pixels.
    """
    root = Path(tempfile.mkdtemp(prefix="lanner-chromium-"))
    log_path = root / "chromium.log"
    profile = root / "profile"
    width, height = window_size
    command = [
        str(executable),
        *_FLAGS,
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
        "about:blank",
    ]
    process: subprocess.Popen[bytes] | None = None
    try:
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        url = _wait_for_devtools_url(process, log_path)
        yield RunningBrowser(process, url, log_path)
    finally:
        if process is not None:
            _kill(process)
        shutil.rmtree(root, ignore_errors=True)


class DevToolsError(RuntimeError):
    """A DevTools command failed, or a page's script threw."""


@dataclass
class Page:
    """One browser tab, driven through its DevTools session.

    Attributes:
        exceptions: Every uncaught JavaScript exception the page reported.
    """

    devtools: DevTools
    target_id: str
    session_id: str
    exceptions: list[str] = field(default_factory=list)

    async def send(self, method: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Send a DevTools command to this page and return its result."""
        return await self.devtools.send(method, params, session_id=self.session_id)

    async def evaluate(self, expression: str) -> Any:
        """Run JavaScript in the page, await it if it is a promise, and return its JSON value.

        Raises:
            DevToolsError: The expression threw, or its promise rejected.
        """
        reply = await self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
        )
        details = reply.get("exceptionDetails")
        if details is not None:
            thrown = details.get("exception", {}).get("description") or details.get("text")
            raise DevToolsError(
                f"JavaScript threw in the page: {thrown}\nwhile running:\n{expression}"
            )
        return reply["result"].get("value")

    async def wait_until(self, expression: str, *, what: str, timeout: float = WAIT_TIMEOUT) -> Any:
        """Evaluate ``expression`` until it is truthy and return that value.

        Raises:
            AssertionError: It stayed falsy for ``timeout`` seconds; the message
                names ``what`` was awaited and shows the page's text.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if time.monotonic() >= deadline:
                text = await self.evaluate("document.body ? document.body.innerText : ''")
                raise AssertionError(
                    f"Expected {what} within {timeout} s; `{expression}` is still {value!r}. "
                    f"The page shows:\n{text}"
                )
            await asyncio.sleep(0.05)

    async def screenshot(self, path: Path) -> bytes:
        """Capture the page as a PNG, write it to ``path`` and return its bytes."""
        # Only a page in front is painted; capturing one behind others can hang.
        await self.send("Page.bringToFront")
        reply = await self.send("Page.captureScreenshot", {"format": "png"})
        png = base64.b64decode(reply["data"])
        await asyncio.to_thread(path.write_bytes, png)
        return png


class DevTools:
    """One DevTools WebSocket connection to the browser, shared by the pages it opens.

    A reader task matches each reply to its command by id and hands events to
    whoever awaits them. Build it with :func:`connect_devtools`.
    """

    def __init__(self, connection: ClientConnection) -> None:
        self._connection = connection
        self._ids = itertools.count(1)
        self._replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._waiters: list[tuple[str, str | None, asyncio.Future[dict[str, Any]]]] = []
        self._pages: dict[str, Page] = {}
        self._closed: BaseException | None = None
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def send(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        session_id: str | None = None,
        timeout: float = COMMAND_TIMEOUT,
    ) -> dict[str, Any]:
        """Send one command (to a page if ``session_id`` is given) and return its result.

        Raises:
            DevToolsError: The browser answered with an error, or the connection closed.
            TimeoutError: No answer within ``timeout`` seconds.
        """
        if self._closed is not None:
            raise DevToolsError(f"Cannot send {method}: the DevTools connection closed.")
        command_id = next(self._ids)
        message: dict[str, Any] = {"id": command_id, "method": method, "params": dict(params or {})}
        if session_id is not None:
            message["sessionId"] = session_id
        reply = asyncio.get_running_loop().create_future()
        self._replies[command_id] = reply
        try:
            await self._connection.send(json.dumps(message))
            answer = await asyncio.wait_for(reply, timeout)
        except asyncio.TimeoutError:  # not yet the builtin TimeoutError on Python 3.10
            raise TimeoutError(f"Chromium did not answer {method} within {timeout} s.") from None
        finally:
            self._replies.pop(command_id, None)
        if "error" in answer:
            error = answer["error"]
            raise DevToolsError(f"{method} failed: {error.get('message')} {error.get('data', '')}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    def expect_event(
        self, method: str, session_id: str | None = None
    ) -> asyncio.Future[dict[str, Any]]:
        """Return a future for the next ``method`` event (from that session, if given).

        Call it before the command that causes the event, so the event cannot be missed.
        """
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters.append((method, session_id, waiter))
        return waiter

    async def open_page(self, url: str, *, timeout: float = COMMAND_TIMEOUT) -> Page:
        """Open ``url`` in a new window and return it once its ``load`` event fired.

        Raises:
            DevToolsError: The navigation failed (the error names Chromium's reason).
        """
        target = await self.send("Target.createTarget", {"url": "about:blank", "newWindow": True})
        attached = await self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )
        page = Page(self, target["targetId"], attached["sessionId"])
        self._pages[page.session_id] = page
        await page.send("Page.enable")
        await page.send("Runtime.enable")
        loaded = self.expect_event("Page.loadEventFired", page.session_id)
        navigated = await page.send("Page.navigate", {"url": url})
        if navigated.get("errorText"):
            loaded.cancel()
            raise DevToolsError(f"Chromium could not open {url}: {navigated['errorText']}")
        try:
            await asyncio.wait_for(loaded, timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"{url} did not finish loading within {timeout} s.") from None
        return page

    async def close_pages(self) -> None:
        """Close every page this connection opened (best effort, bounded)."""
        for page in list(self._pages.values()):
            with contextlib.suppress(DevToolsError, TimeoutError):
                await self.send("Target.closeTarget", {"targetId": page.target_id}, timeout=2.0)
        self._pages.clear()

    async def _read(self) -> None:
        reason: BaseException = DevToolsError("The DevTools connection closed.")
        try:
            async for raw in self._connection:
                self._dispatch(json.loads(raw))
        except Exception as exc:
            reason = DevToolsError(f"The DevTools connection failed: {exc!r}")
        finally:
            self._closed = reason
            for future in [*self._replies.values(), *(w for _, _, w in self._waiters)]:
                if not future.done():
                    future.set_exception(reason)
                    future.exception()  # marks it retrieved: nobody may be awaiting it any more

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "id" in message:
            reply = self._replies.get(message["id"])
            if reply is not None and not reply.done():
                reply.set_result(message)
            return
        method = message.get("method")
        session_id = message.get("sessionId")
        params: dict[str, Any] = message.get("params", {})
        page = self._pages.get(session_id) if session_id else None
        if page is not None and method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            page.exceptions.append(
                details.get("exception", {}).get("description") or details.get("text", "?")
            )
        still_waiting = []
        for waited, wanted_session, future in self._waiters:
            if future.done():
                continue
            if waited == method and wanted_session in (None, session_id):
                future.set_result(params)
            else:
                still_waiting.append((waited, wanted_session, future))
        self._waiters = still_waiting

    async def aclose(self) -> None:
        """Close the pages, then the connection, and stop the reader."""
        try:
            if self._closed is None:
                await self.close_pages()
        finally:
            await self._connection.close()
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


@contextlib.asynccontextmanager
async def connect_devtools(
    browser: RunningBrowser, *, timeout: float = COMMAND_TIMEOUT
) -> AsyncIterator[DevTools]:
    """Connect to ``browser``'s DevTools endpoint and yield the session; close it on exit."""
    # Screenshots arrive as one large base64 message: lift the 1 MiB default limit.
    connection = await connect(
        browser.devtools_url,
        max_size=64 * 2**20,
        open_timeout=timeout,
        close_timeout=2.0,
        ping_interval=None,
    )
    devtools = DevTools(connection)
    try:
        yield devtools
    finally:
        await devtools.aclose()
