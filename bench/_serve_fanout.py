"""Serve one fan-out app under uvicorn, in one process: ``python -m bench._serve_fanout KEY``.

Like :mod:`bench._serve`, it binds the listening socket itself, so it can set
``SO_SNDBUF`` on it (accepted connections inherit it). On loopback Linux
otherwise grows each connection's send buffer to ``tcp_wmem``'s maximum
(about 4 MB), which swallows everything published to a client that does not
read: no server would ever see that client stall. A fixed send buffer, the
same for every app, makes the stall reach the app as it would sooner on a
real network.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys

import uvicorn

from bench.adapters import fanout_served
from bench.endpoints import FANOUT_BACKLOG


def main(argv: list[str] | None = None) -> int:
    """Build the app named on the command line and serve it until terminated."""
    parser = argparse.ArgumentParser(prog="python -m bench._serve_fanout")
    parser.add_argument("framework")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ws", default="websockets-sansio")
    parser.add_argument("--sndbuf", type=int, default=0, help="SO_SNDBUF bytes (0: the OS's)")
    args = parser.parse_args(argv)
    os.environ.setdefault("BENCH_FANOUT_BACKLOG", str(FANOUT_BACKLOG))
    app = getattr(fanout_served, args.framework)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if args.sndbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, args.sndbuf)
    sock.bind(("127.0.0.1", args.port))
    config = uvicorn.Config(
        app,
        loop="auto",  # uvloop, which make bench installs; asyncio in the smoke test
        http="httptools",
        ws=args.ws,
        ws_per_message_deflate=False,
        lifespan="on",
        log_level="warning",
        access_log=False,
        backlog=4096,
        timeout_graceful_shutdown=2,
    )
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
