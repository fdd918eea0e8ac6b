"""Serve one framework's benchmark app under uvicorn (the end-to-end level's server).

Run as ``python -m bench._serve FRAMEWORK --ws IMPL``. It binds a free port on
127.0.0.1, prints ``{"port": N, "pid": N}`` as its first line on stdout, then
serves with one worker, uvloop, httptools, the given WebSocket implementation
and per-message deflate off, until it is terminated.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import sys

import uvicorn

from bench.endpoints import DEFAULT_PUSH_COUNT, DEFAULT_SSE_COUNT
from bench.frameworks import by_key


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        wanted = 65536 if hard == resource.RLIM_INFINITY else hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, build the app and serve it until terminated."""
    parser = argparse.ArgumentParser(prog="python -m bench._serve")
    parser.add_argument("framework")
    parser.add_argument("--ws", default="websockets-sansio")
    parser.add_argument("--push-count", type=int, default=DEFAULT_PUSH_COUNT)
    parser.add_argument("--sse-count", type=int, default=DEFAULT_SSE_COUNT)
    args = parser.parse_args(argv)
    _raise_fd_limit()
    (framework,) = [fw for fw in by_key([args.framework]) if fw.key == args.framework]
    app = framework.build(push_count=args.push_count, sse_count=args.sse_count)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        ws=args.ws,
        ws_per_message_deflate=False,
        lifespan="auto",
        log_level="warning",
        access_log=False,
        backlog=4096,
        timeout_graceful_shutdown=2,
    )
    print(json.dumps({"port": port, "pid": os.getpid()}), flush=True)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
