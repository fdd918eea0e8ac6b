"""A private ``redis-server`` for the cross-worker fan-out: started on a free port, stopped by PID.

No persistence, bound to 127.0.0.1, its files in a temporary directory. A
missing ``redis-server`` is an error that says how to install it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time

from bench._process import Subprocess

__all__ = ["RedisMissing", "RedisServer"]


class RedisMissing(RuntimeError):
    """``redis-server`` is not on PATH; the message says how to install it."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pings(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer(Subprocess):
    """``with RedisServer() as redis:``: a private server at ``redis.url`` while the block runs."""

    def __init__(self, start_timeout: float = 10.0) -> None:
        self.port = _free_port()
        self._timeout = start_timeout
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT``."""
        return f"redis://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self._proc is not None, "the Redis server is not running"
        return self._proc.pid

    def start(self) -> None:
        """Start a private redis-server on a free port and wait until it answers PING.

        Raises:
            RedisMissing: ``redis-server`` is not installed.
        """
        path = shutil.which("redis-server")
        if path is None:
            raise RedisMissing(
                "expected redis-server on PATH for the Redis fan-out benchmark, found none. "
                "Install it with `.ci/install-redis` (Debian's redis-server package), or run "
                "`python -m bench --no-redis` to leave the Redis level out."
            )
        self._dir = tempfile.TemporaryDirectory(prefix="lanner-bench-redis-")
        self._proc = subprocess.Popen(
            [
                path,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self._dir.name,
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + self._timeout
        while not _pings(self.port):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"redis-server on port {self.port} did not answer PING within {self._timeout} s"
                )
            time.sleep(0.05)

    def stop(self) -> None:
        """Terminate the server by PID (kill after 5 s) and remove its directory."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None
