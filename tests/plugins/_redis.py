"""A private ``redis-server`` for the broadcast_redis tests: real Redis, never a mock.

Each server listens on a free 127.0.0.1 port with no persistence (no RDB
snapshots, no append-only file) in a temporary directory, and is stopped by its
PID however the test ends. The fault tests also stop it, restart it on the same
port (empty: history is lost, as with a real restart without persistence), and
pause it with SIGSTOP / resume it with SIGCONT.

A missing ``redis-server`` is a failure with the fix in the message, never a
skip: CI must not pass by silently leaving these tests out.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TLS_DIR = Path(__file__).parent / "tls"
"""A self-signed certificate for 127.0.0.1 (valid until 2126) and its key, for TLS tests."""
TLS_CERT = TLS_DIR / "redis.crt"
TLS_KEY = TLS_DIR / "redis.key"

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0

_MISSING = (
    "expected redis-server on PATH for the broadcast_redis tests, found none. "
    "Run .ci/install-redis (as root; `make test` runs it), or install Redis 6.2 or later "
    "so that redis-server is on PATH."
)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_server_path() -> str:
    """Return the path of ``redis-server``, or fail the test saying how to install it."""
    path = shutil.which("redis-server")
    if path is None:
        raise RuntimeError(_MISSING)
    return path


def _ping(port: int, password: str | None, tls: bool) -> bool:
    """Send a raw RESP PING (with AUTH first when a password is set); True on +PONG."""
    request = b"*1\r\n$4\r\nPING\r\n"
    if password is not None:
        secret = password.encode()
        request = b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n" % (len(secret), secret) + request
    try:
        with contextlib.ExitStack() as stack:
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=0.5))
            if tls:
                context = ssl.create_default_context(cafile=str(TLS_CERT))
                sock = stack.enter_context(context.wrap_socket(sock, server_hostname="127.0.0.1"))
            sock.sendall(request)
            reply = b""
            while b"PONG" not in reply and b"-" not in reply:
                chunk = sock.recv(256)
                if not chunk:
                    return False
                reply += chunk
            return b"+PONG" in reply
    except OSError:
        return False


class RedisServer:
    """One private ``redis-server`` process that a test may stop, restart and pause.

    Attributes:
        port: The 127.0.0.1 port it listens on, kept across restarts.
        password: The ``requirepass`` it was started with, or ``None``.
        tls: Whether it speaks only TLS on that port (certificate :data:`TLS_CERT`).
    """

    def __init__(self, *, password: str | None = None, tls: bool = False) -> None:
        self.port = free_port()
        self.password = password
        self.tls = tls
        self._dir = Path(tempfile.mkdtemp(prefix="lanner-redis-"))
        self._process: subprocess.Popen[bytes] | None = None
        self._paused = False

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT`` (``rediss://`` for TLS; with the password when set)."""
        auth = f":{self.password}@" if self.password is not None else ""
        scheme = "rediss" if self.tls else "redis"
        return f"{scheme}://{auth}127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The PID of the running server process."""
        assert self._process is not None, "the Redis server is not running"
        return self._process.pid

    def start(self) -> None:
        """Start the server (on the same port as before) and wait until it answers PING."""
        assert self._process is None, "the Redis server is already running"
        ports = ["--port", str(self.port)]
        if self.tls:
            ports = [
                "--port", "0",
                "--tls-port", str(self.port),
                "--tls-cert-file", str(TLS_CERT),
                "--tls-key-file", str(TLS_KEY),
                "--tls-ca-cert-file", str(TLS_CERT),
                "--tls-auth-clients", "no",
            ]  # fmt: skip
        command = [
            redis_server_path(),
            *ports,
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self._dir),
            "--daemonize", "no",
            "--loglevel", "warning",
        ]  # fmt: skip
        if self.password is not None:
            command += ["--requirepass", self.password]
        log = open(self._dir / "redis.log", "ab")  # noqa: SIM115 - the child keeps it
        try:
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, cwd=self._dir
            )
        finally:
            log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while not _ping(self.port, self.password, self.tls):
            if self._process.poll() is not None:
                code = self._process.returncode
                self._process = None
                raise RuntimeError(f"redis-server exited with {code} on start:\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"redis-server did not answer within {START_TIMEOUT} s")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop the server by its PID (SIGTERM, then SIGKILL), resuming it first if paused."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        if self._paused:
            self.resume(process)
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)

    def restart(self) -> None:
        """Stop the server and start an empty one on the same port (history is lost)."""
        self.stop()
        self.start()

    def pause(self) -> None:
        """Freeze the server with SIGSTOP: connections stay open but nothing answers."""
        os.kill(self.pid, signal.SIGSTOP)
        self._paused = True

    def resume(self, process: subprocess.Popen[bytes] | None = None) -> None:
        """Let a paused server run again (SIGCONT)."""
        os.kill(process.pid if process is not None else self.pid, signal.SIGCONT)
        self._paused = False

    def log(self) -> str:
        """What the server wrote to its log so far."""
        with contextlib.suppress(OSError):
            return (self._dir / "redis.log").read_text(errors="replace")
        return ""

    def close(self) -> None:
        """Stop the server and remove its directory."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self._dir, ignore_errors=True)


@contextlib.contextmanager
def running_redis(*, password: str | None = None, tls: bool = False) -> Iterator[RedisServer]:
    """Start a private Redis, yield it, and stop it by PID whatever happens."""
    server = RedisServer(password=password, tls=tls)
    try:
        server.start()
        yield server
    finally:
        server.close()


def broadcast_app(url: str, **config: object) -> Any:
    """Return an ``App`` whose hub uses the Redis plugin's backend at ``url``.

    The plugin is loaded in process (autoload off); ``config`` becomes its
    ``broadcast_redis`` config section.
    """
    import lanner_broadcast_redis
    from lanner.testing import plugin_app

    return plugin_app(lanner_broadcast_redis, config={"broadcast_redis": config}, broadcast=url)


class Partition:
    """A TCP relay in front of a Redis that a test can cut, as a network partition would.

    Clients connect to :attr:`url` instead of the server's. :meth:`cut` closes
    every relayed connection and refuses new ones (accepted, then closed at once)
    until :meth:`heal`. Runs in threads, so it serves any event loop.
    """

    def __init__(self, server: RedisServer) -> None:
        self._target = server.port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._cut = False
        self._stopped = False
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT`` of the relay."""
        return f"redis://127.0.0.1:{self.port}"

    def cut(self) -> None:
        """Drop every relayed connection and refuse new ones."""
        with self._lock:
            self._cut = True
            doomed, self._open = self._open, set()
        for sock in doomed:
            _shut(sock)

    def heal(self) -> None:
        """Relay new connections again."""
        with self._lock:
            self._cut = False

    def close(self) -> None:
        """Stop relaying and close everything."""
        self._stopped = True
        self.cut()
        _shut(self._listener)
        self._acceptor.join(STOP_TIMEOUT)

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                refused = self._cut or self._stopped
            if refused:
                _shut(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self._target), timeout=2)
            except OSError:
                _shut(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with self._lock:
                    self._open.discard(sock)
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


@contextlib.contextmanager
def partition(server: RedisServer) -> Iterator[Partition]:
    """Yield a cuttable relay in front of ``server``; close it whatever happens."""
    relay = Partition(server)
    try:
        yield relay
    finally:
        relay.close()
