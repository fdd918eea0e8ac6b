"""Run an app under a real uvicorn on 127.0.0.1 for end-to-end tests.

Each server is a subprocess on a free port, with bounded start-up and
shutdown waits, stopped by PID whatever the test does. Its combined output is
kept so tests can search the server's log.
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

APPS_DIR = Path(__file__).parent / "apps"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0

# The uvicorn WebSocket implementations the e2e suite covers (DESIGN.md §2b).
WS_IMPLEMENTATIONS = ("websockets-sansio", "wsproto")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    """A uvicorn subprocess serving one app."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def http_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        """``ws://127.0.0.1:PORT``."""
        return f"ws://127.0.0.1:{self.port}"

    def log(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(errors="replace")


def _wait_until_listening(server: RunningServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"uvicorn exited with {server.process.returncode} before listening:\n{server.log()}"
            )
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", server.port), timeout=0.2),
        ):
            return
        time.sleep(0.05)
    raise TimeoutError(f"uvicorn did not listen within {START_TIMEOUT} s:\n{server.log()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_TIMEOUT)


@contextlib.contextmanager
def serve(
    app: str,
    *,
    ws: str = "websockets-sansio",
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    cli: bool = False,
    port: int | None = None,
    python: str = sys.executable,
    cwd: Path = APPS_DIR,
) -> Iterator[RunningServer]:
    """Serve ``app`` ("module:attr", importable from tests/e2e/apps) and yield it.

    Args:
        ws: uvicorn's WebSocket implementation (``--ws``).
        env: Extra environment variables for the server process.
        args: Extra command-line arguments.
        cli: Start through ``lanner serve`` instead of ``python -m uvicorn``.
        port: The port to listen on (default: a free one), for tests that must
            know it before the server starts, such as an allowed Origin.
        python: The interpreter to run the server with (another virtual
            environment's, for tests of the installed wheels).
        cwd: The folder the app module is imported from.
    """
    if port is None:
        port = free_port()
    log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in finally
        prefix="lanner-e2e-", suffix=".log", delete=False
    )
    command = (
        [python, "-m", "lanner", "serve", app]
        if cli
        else [python, "-m", "uvicorn", app, "--lifespan", "on"]
    )
    command += [
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--ws",
        ws,
        "--timeout-graceful-shutdown",
        "2",
        *args,
    ]
    process_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    process = subprocess.Popen(
        command, cwd=cwd, env=process_env, stdout=log_file, stderr=subprocess.STDOUT
    )
    server = RunningServer(process, port, Path(log_file.name))
    try:
        _wait_until_listening(server)
        yield server
    finally:
        _stop(process)
        log_file.close()
        with contextlib.suppress(OSError):
            os.unlink(log_file.name)
