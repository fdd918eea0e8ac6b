"""A benchmark server in a subprocess: start, wait until ready, read its CPU and RSS, stop.

The server is stopped by its PID (terminate, then kill after a timeout) in
every case, including when starting it fails.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Final, TypeVar

__all__ = ["ServerError", "ServerProcess", "Subprocess", "answers_json"]

_CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK")
_PAGE_SIZE: Final = os.sysconf("SC_PAGE_SIZE")
_REPO_ROOT: Final = Path(__file__).resolve().parent.parent
_S = TypeVar("_S", bound="Subprocess")


def answers_json(port: int) -> bool:
    """Whether a server on 127.0.0.1:``port`` answers ``GET /json`` with 200 right now."""
    request = f"GET /json HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2.0) as sock:
            sock.sendall(request.encode())
            return sock.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


class ServerError(Exception):
    """The server did not start or answer; the message includes the end of its stderr."""


class Subprocess:
    """A benchmark subprocess used as a context manager.

    Entering calls :meth:`start`; leaving, or a start that fails half-way, calls
    :meth:`stop`, so the process is stopped by its PID whatever happens.
    Subclasses implement both.
    """

    def start(self) -> None:
        """Start the process and wait until it is ready."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop the process (by PID) and release what it held; safe to call twice."""
        raise NotImplementedError

    def __enter__(self: _S) -> _S:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class ServerProcess(Subprocess):
    """``python -m bench._serve`` for one framework and WebSocket implementation.

    Use as a context manager: entering starts the server and waits until
    ``GET /json`` answers 200; leaving stops it.
    """

    def __init__(
        self,
        framework: str,
        ws_impl: str,
        *,
        push_count: int,
        sse_count: int,
        start_timeout: float = 20.0,
    ) -> None:
        self.framework = framework
        self.ws_impl = ws_impl
        self._args = [
            sys.executable,
            "-m",
            "bench._serve",
            framework,
            "--ws",
            ws_impl,
            "--push-count",
            str(push_count),
            "--sse-count",
            str(sse_count),
        ]
        self._start_timeout = start_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        # Files, not pipes: a server that writes more than a pipe holds would
        # block. Both live as long as this object and are closed by stop().
        self._stdout = tempfile.TemporaryFile()  # noqa: SIM115
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        self.port = 0

    @property
    def pid(self) -> int:
        """The server's process id."""
        if self._proc is None:
            raise ServerError("expected a started server, found none; call start() first")
        return self._proc.pid

    def start(self) -> None:
        """Start the server and wait until it answers.

        Raises:
            ServerError: It exited, or did not answer within the start timeout.
        """
        self._proc = subprocess.Popen(
            self._args, cwd=_REPO_ROOT, stdout=self._stdout, stderr=self._stderr
        )
        deadline = time.monotonic() + self._start_timeout
        self.port = self._read_port(deadline)
        while time.monotonic() < deadline:
            self._check_alive()
            if answers_json(self.port):
                return
            time.sleep(0.05)
        raise ServerError(
            f"{self.framework} ({self.ws_impl}): expected GET /json to answer 200 within "
            f"{self._start_timeout} s, it did not. stderr:\n{self.stderr_tail()}"
        )

    def _read_port(self, deadline: float) -> int:
        while time.monotonic() < deadline:
            self._check_alive()
            self._stdout.seek(0)
            line = self._stdout.readline()
            if line.endswith(b"\n"):
                port: int = json.loads(line)["port"]
                return port
            time.sleep(0.02)
        raise ServerError(
            f"{self.framework} ({self.ws_impl}): expected the port on stdout within "
            f"{self._start_timeout} s, got nothing. stderr:\n{self.stderr_tail()}"
        )

    def _check_alive(self) -> None:
        assert self._proc is not None
        code = self._proc.poll()
        if code is not None:
            raise ServerError(
                f"{self.framework} ({self.ws_impl}): the server exited with code {code} "
                f"while starting. stderr:\n{self.stderr_tail()}"
            )

    def cpu_seconds(self) -> float:
        """Return the server's CPU time so far (user + system, all threads).

        Reads the nanosecond run time of each thread from
        ``/proc/<pid>/task/*/schedstat``; where the kernel has no schedstat,
        falls back to utime + stime from ``/proc/<pid>/stat``, whose clock
        ticks (usually 10 ms) are too coarse for short windows.
        """
        if not Path(f"/proc/{self.pid}/schedstat").exists():
            return self._stat_cpu_seconds()
        total_ns = 0
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            try:
                total_ns += int((task / "schedstat").read_text().split()[0])
            except FileNotFoundError:
                continue  # the thread ended between listing and reading
        return total_ns / 1e9

    def _stat_cpu_seconds(self) -> float:
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        # Fields after the parenthesised command name; utime and stime are the
        # 14th and 15th fields of the whole line.
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS

    def rss_bytes(self) -> int:
        """Return the server's resident set size, from ``/proc/<pid>/statm``."""
        return int(Path(f"/proc/{self.pid}/statm").read_text().split()[1]) * _PAGE_SIZE

    def stderr_tail(self, limit: int = 2000) -> str:
        """Return the last ``limit`` characters the server wrote to stderr."""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-limit:]

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate the server by PID; kill it if it has not exited within ``timeout``."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        self._stdout.close()
        self._stderr.close()
