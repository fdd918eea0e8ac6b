"""A fan-out server in a subprocess: uvicorn (or ``lanner serve``) with 1 or more workers.

Every implementation is served the same way: in one process by
:mod:`bench._serve_fanout` (uvicorn with ``--loop auto --http httptools --ws
websockets-sansio``: uvloop, which ``make bench`` installs, on a socket whose send
buffer it may fix); across
workers, lanner by ``lanner serve --workers N --broadcast URL --http httptools``
(which runs uvicorn the same way: its loop is uvloop when installed) and the
others by ``uvicorn --workers N``. CPU time and RSS are summed over the whole
process tree (the supervisor and its workers).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Final

from bench._process import ServerError, Subprocess, answers_json

__all__ = ["FanoutServer"]

_PAGE_SIZE: Final = os.sysconf("SC_PAGE_SIZE")
_REPO_ROOT: Final = Path(__file__).resolve().parent.parent
_IMPL: Final = "websockets-sansio"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (from ``/proc/<pid>/task/*/children``)."""
    found = [pid]
    for current in found:
        try:
            tasks = list(Path(f"/proc/{current}/task").iterdir())
        except FileNotFoundError:
            continue
        for task in tasks:
            try:
                found.extend(int(child) for child in (task / "children").read_text().split())
            except FileNotFoundError:
                continue
    return found


def _cpu_ns(pid: int) -> int:
    total = 0
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return 0
    for task in tasks:
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


class FanoutServer(Subprocess):
    """``with FanoutServer("lanner", url, workers=2) as server:`` serves one fan-out app.

    Entering starts it and waits until ``GET /json`` answers 200 and, with
    several workers, until every worker has started; leaving stops the tree.
    """

    def __init__(
        self,
        framework: str,
        url: str,
        *,
        workers: int = 1,
        sndbuf: int = 0,
        start_timeout: float = 30.0,
    ) -> None:
        self.framework = framework
        self.port = _free_port()
        self.workers = workers
        target = f"bench.adapters.fanout_served:{framework}"
        common = ["--host", "127.0.0.1", "--port", str(self.port), "--ws", _IMPL]
        if framework == "lanner" and workers > 1:
            lanner = Path(sys.executable).with_name("lanner")
            self._args = [
                str(lanner), "serve", target, *common,
                "--workers", str(workers), "--broadcast", url, "--log-level", "warning",
                "--http", "httptools",
            ]  # fmt: skip
        elif workers == 1:
            self._args = [
                sys.executable, "-m", "bench._serve_fanout", framework,
                "--port", str(self.port), "--ws", _IMPL, "--sndbuf", str(sndbuf),
            ]  # fmt: skip
        else:
            self._args = [
                sys.executable, "-m", "uvicorn", target, *common,
                "--loop", "auto", "--http", "httptools", "--ws-per-message-deflate", "false",
                "--lifespan", "on", "--log-level", "warning", "--no-access-log",
                "--backlog", "4096",
            ]  # fmt: skip
            self._args += ["--workers", str(workers)]
        self._env = {**os.environ, "BENCH_FANOUT_URL": url, "PYTHONPATH": str(_REPO_ROOT)}
        self._timeout = start_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()

    def start(self) -> None:
        """Start the server and wait until it (and each worker) answers.

        Raises:
            ServerError: It exited, or did not answer in time (with its stderr).
        """
        self._proc = subprocess.Popen(
            self._args,
            cwd=_REPO_ROOT,
            env=self._env,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )
        deadline = time.monotonic() + self._timeout
        answers = 0
        # With several workers, answers come from whichever accepts: ask a few times.
        wanted = 1 if self.workers == 1 else 4 * self.workers
        while answers < wanted:
            if self._proc.poll() is not None:
                raise ServerError(
                    f"{self.framework}: the server exited with code {self._proc.returncode} "
                    f"while starting. stderr:\n{self.stderr_tail()}"
                )
            if time.monotonic() > deadline:
                raise ServerError(
                    f"{self.framework}: expected GET /json to answer 200 within "
                    f"{self._timeout} s. stderr:\n{self.stderr_tail()}"
                )
            if answers_json(self.port):
                answers += 1
            else:
                time.sleep(0.05)
        if self.workers > 1:
            while len(_tree(self._proc.pid)) < self.workers + 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(1.0)  # let every worker finish its startup

    def cpu_seconds(self) -> float:
        """CPU time so far of the server's whole process tree (all threads)."""
        assert self._proc is not None
        return sum(_cpu_ns(pid) for pid in _tree(self._proc.pid)) / 1e9

    def rss_bytes(self) -> int:
        """Resident set size summed over the server's process tree."""
        assert self._proc is not None
        total = 0
        for pid in _tree(self._proc.pid):
            try:
                total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_SIZE
            except (FileNotFoundError, ProcessLookupError):
                continue
        return total

    def stderr_tail(self, limit: int = 2000) -> str:
        """The last ``limit`` characters the server wrote to stderr."""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-limit:]

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the server by PID (it stops its workers); kill the tree after ``timeout``."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            children = _tree(proc.pid)[1:]
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
            for pid in children:
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    continue
        self._stderr.close()
