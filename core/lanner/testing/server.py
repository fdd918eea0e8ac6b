"""Serve an app under a real uvicorn for end-to-end tests: :func:`serve`.

Some behaviour only exists on the wire: the HTTP 403 of a refused handshake, the
close code a browser sees, what uvicorn logs, how a real client negotiates
subprotocols. :func:`serve` runs the app in a subprocess, as production does, on
a free port of 127.0.0.1, waits (bounded) until it listens, hands back its URLs,
and always stops it by its PID when the block ends, whatever the test did. The
server's combined output is kept in a file so a test can search its log.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = ["LiveServer", "free_port", "serve"]

START_TIMEOUT: Final = 15.0
"""Seconds :func:`serve` waits for the server to listen before it gives up."""

STOP_TIMEOUT: Final = 5.0
"""Seconds to wait after SIGINT (then again after SIGKILL) for the server to exit."""

GRACEFUL_SHUTDOWN: Final = 2.0
"""``--timeout-graceful-shutdown`` given to the server, so open streams never hang a stop."""


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """A uvicorn subprocess serving one app, as :func:`serve` yields it."""

    process: subprocess.Popen[bytes]
    """The server process; ``process.pid`` is what a test signals to try a shutdown."""

    host: str
    """The address the server listens on."""

    port: int
    """The port the server listens on."""

    log_path: Path
    """The file that collects everything the server prints (stdout and stderr)."""

    @property
    def http_url(self) -> str:
        """The server's base URL for HTTP clients, ``http://HOST:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """The server's base URL for WebSocket clients, ``ws://HOST:PORT``."""
        return f"ws://{self.host}:{self.port}"

    def log(self) -> str:
        """Everything the server has printed so far."""
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def serve(
    app: str,
    *,
    app_dir: str | Path = ".",
    cli: bool = True,
    ws: str = "websockets-sansio",
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    port: int | None = None,
    python: str = sys.executable,
    start_timeout: float = START_TIMEOUT,
) -> Iterator[LiveServer]:
    """Serve ``app`` under a real uvicorn on 127.0.0.1 for the duration of the block.

    Example::

        with lanner.testing.serve("myapp:app", app_dir=tmp_path) as server:
            assert httpx.get(server.http_url + "/health").status_code == 200

    Args:
        app: The app as ``"module:attribute"``, importable from ``app_dir``.
        app_dir: The folder the server runs in and imports ``app`` from.
        cli: Start through ``lanner serve`` (plugins, shutdown and options as in
            production; the default) rather than plain ``python -m uvicorn``.
        ws: uvicorn's WebSocket implementation (``--ws``): ``"websockets-sansio"``
            (uvicorn's default) or ``"wsproto"``.
        env: Extra environment variables for the server, on top of this
            process's own (``LANNER_*`` switches and plugin secrets go here).
        args: Extra command-line arguments for the server.
        port: The port to listen on; a free one by default. Give one when the
            app must know it before it starts, such as an allowed ``Origin``.
        python: The interpreter to run the server with (another virtual
            environment's, to test installed wheels).
        start_timeout: Seconds to wait for the server to listen.

    Yields:
        The running server, with its URLs and its log.

    Raises:
        RuntimeError: The server exited before it listened (the message holds its
            output: an import error, a plugin that refused to start, ...).
        TimeoutError: The server did not listen within ``start_timeout`` seconds.
    """
    host = "127.0.0.1"
    if port is None:
        port = free_port(host)
    if cli:
        command = [python, "-m", "lanner", "serve", app]
    else:
        command = [python, "-m", "uvicorn", app, "--lifespan", "on"]
    command += ["--host", host, "--port", str(port), "--ws", ws]
    command += ["--timeout-graceful-shutdown", f"{GRACEFUL_SHUTDOWN:g}", *args]
    log_fd, log_name = tempfile.mkstemp(prefix="lanner-server-", suffix=".log")
    server_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    try:
        process = subprocess.Popen(
            command, cwd=app_dir, env=server_env, stdout=log_fd, stderr=subprocess.STDOUT
        )
        server = LiveServer(process, host, port, Path(log_name))
        try:
            _wait_until_listening(server, start_timeout)
            yield server
        finally:
            _stop(process)
    finally:
        os.close(log_fd)
        with contextlib.suppress(OSError):
            os.unlink(log_name)


def _wait_until_listening(server: LiveServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"expected the server to listen on {server.http_url}, but it exited with "
                f"status {server.process.returncode} first; its output:\n{server.log()}"
            )
        with (
            contextlib.suppress(OSError),
            socket.create_connection((server.host, server.port), timeout=0.2),
        ):
            return
        time.sleep(0.05)
    raise TimeoutError(
        f"expected the server to listen on {server.http_url} within {timeout:g} s, but it "
        f"did not; raise start_timeout if the machine is slow. Its output:\n{server.log()}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_TIMEOUT)
