"""Measure what ``lanner serve`` bounds against hostile clients: ``python -m bench.limits``.

Serves a tiny app with ``lanner serve`` (any extra arguments are passed on, so
the same probe runs before and after a limit), then reports:

* ``header``: the server's RSS before, at its peak during, and 2 s after one
  request with a 64 MB header, and what the client got back;
* ``slow``: of 500 connections that each send half a request line and headers
  and then nothing, how many the server still holds open after ``--hold``
  seconds, and whether a normal request is answered meanwhile;
* ``utf8``: the close code a WebSocket client gets for a TEXT frame that is
  not UTF-8, and how many ``ERROR`` and ``Traceback`` lines the server printed
  for 20 such frames on 20 connections.

Figures vary with the machine; the script never judges them. Example::

    python -m bench.limits
    python -m bench.limits -- --h11-max-incomplete-event-size 16384 --limit-concurrency 200
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final

_PAGE_SIZE: Final = os.sysconf("SC_PAGE_SIZE")
_APP: Final = """
import lanner


class Hello:
    async def on_get(self, req, resp):
        resp.text = "hello"


class Echo:
    async def on_websocket(self, req, ws):
        await ws.accept()
        while True:
            try:
                await ws.send_text(await ws.receive_text())
            except lanner.WebSocketDisconnected:
                return


app = lanner.App(autoload_plugins=False)
app.add_route("/", Hello())
app.add_route("/ws", Echo())
"""
HEADER_BYTES: Final = 64 * 1024 * 1024
SLOW_CONNECTIONS: Final = 500
BAD_FRAMES: Final = 20


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * _PAGE_SIZE / 2**20


@contextlib.contextmanager
def _server(extra: Sequence[str]) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    """``lanner serve`` on a free port with ``extra`` arguments; yields (process, port, log)."""
    with tempfile.TemporaryDirectory(prefix="lanner-limits-") as tmp:
        Path(tmp, "limits_app.py").write_text(_APP, encoding="utf-8")
        port = _free_port()
        log = Path(tmp, "server.log")
        command = [sys.executable, "-m", "lanner", "serve", "limits_app:app", "--port", str(port)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "LANNER_DISABLE_PLUGIN_AUTOLOAD": "1"}
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [*command, *extra], cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            deadline = time.monotonic() + 20
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"server exited:\n{log.read_text(errors='replace')}")
                with (
                    contextlib.suppress(OSError),
                    socket.create_connection(("127.0.0.1", port), timeout=0.2),
                ):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start")
                time.sleep(0.05)
            yield process, port, log
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def _get(port: int, timeout: float = 5.0) -> str:
    """Status line of a plain ``GET /``, or what went wrong."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return sock.recv(200).split(b"\r\n", 1)[0].decode("latin-1") or "closed"
    except OSError as exc:
        return type(exc).__name__


def measure_header(pid: int, port: int) -> dict[str, Any]:
    """RSS around one request whose header is 64 MB long."""
    before = _rss_mb(pid)
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            with contextlib.suppress(OSError):
                peak = max(peak, _rss_mb(pid))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    reply = "no reply"
    sent = 0
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ")
            chunk = b"a" * (1 << 20)
            try:
                while sent < HEADER_BYTES:
                    sock.sendall(chunk)
                    sent += len(chunk)
                sock.sendall(b"\r\n\r\n")
            except OSError:
                pass  # the server gave up on us: read what it said
            with contextlib.suppress(OSError):
                reply = sock.recv(200).split(b"\r\n", 1)[0].decode("latin-1") or "closed"
    finally:
        time.sleep(0.5)
        done.set()
        sampler.join()
    time.sleep(2)
    return {
        "sent_mb": round(sent / 2**20, 1),
        "reply": reply,
        "rss_before_mb": round(before, 1),
        "rss_peak_mb": round(peak, 1),
        "rss_after_mb": round(_rss_mb(pid), 1),
    }


def measure_slow(pid: int, port: int, hold: float) -> dict[str, Any]:
    """How many of 500 half-sent requests the server still holds after ``hold`` seconds."""
    sockets: list[socket.socket] = []
    refused = 0
    before = _rss_mb(pid)
    try:
        for _ in range(SLOW_CONNECTIONS):
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                sockets.append(sock)
            except OSError:
                refused += 1
        time.sleep(0.5)
        held = _rss_mb(pid)
        time.sleep(max(0.0, hold - 0.5))
        meanwhile = _get(port)
        still_open = 0
        for sock in sockets:
            sock.setblocking(False)
            try:
                data = sock.recv(4096)
            except BlockingIOError:
                still_open += 1  # nothing to read, not closed: the server still holds it
            except OSError:
                pass  # reset by the server
            else:
                if data:
                    with contextlib.suppress(OSError):
                        sock.settimeout(1)
                        while sock.recv(4096):
                            pass
    finally:
        for sock in sockets:
            sock.close()
    return {
        "connections": SLOW_CONNECTIONS,
        "refused_at_connect": refused,
        "rss_before_mb": round(before, 1),
        "rss_holding_mb": round(held, 1),
        "hold_s": hold,
        "still_open": still_open,
        "plain_get_meanwhile": meanwhile,
    }


async def _bad_frames(port: int) -> list[int | None]:
    from websockets.asyncio.client import connect

    codes: list[int | None] = []
    for _ in range(BAD_FRAMES):
        async with connect(f"ws://127.0.0.1:{port}/ws", open_timeout=5, close_timeout=2) as ws:
            with contextlib.suppress(Exception):
                await ws.send(b"\xff\xfe not utf-8", text=True)
                await asyncio.wait_for(ws.recv(), 5)
            await asyncio.wait_for(ws.wait_closed(), 5)
            codes.append(ws.close_code)
    return codes


def measure_utf8(port: int, log: Path) -> dict[str, Any]:
    """Close codes and log lines for TEXT frames that are not UTF-8."""
    start = len(log.read_text(errors="replace"))
    codes = asyncio.run(_bad_frames(port))
    time.sleep(0.5)
    printed = log.read_text(errors="replace")[start:]
    return {
        "frames": BAD_FRAMES,
        "close_codes": sorted({c for c in codes if c is not None}),
        "error_lines": sum(line.startswith("ERROR") for line in printed.splitlines()),
        "warning_lines": sum(line.startswith("WARNING") for line in printed.splitlines()),
        "traceback_lines": printed.count("Traceback (most recent call last)"),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the probes against one server and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--hold", type=float, default=10.0, help="Seconds to hold slow requests.")
    parser.add_argument("serve_args", nargs="*", help="Passed on to lanner serve (after --).")
    args = parser.parse_args(argv)
    with _server(args.serve_args) as (process, port, log):
        figures = {
            "serve_args": args.serve_args,
            "header": measure_header(process.pid, port),
            "slow": measure_slow(process.pid, port, args.hold),
            "utf8": measure_utf8(port, log),
        }
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
