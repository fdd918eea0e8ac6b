"""Run an app from tests/e2e/apps under a real uvicorn, for the end-to-end tests.

A thin layer over :func:`lanner.testing.serve`, the helper lanner ships for its
users and plugin authors: lanner's own end-to-end tests use the same code path.
The defaults here suit this folder: apps are imported from ``tests/e2e/apps``
and run under plain ``python -m uvicorn`` unless a test asks for ``lanner serve``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from lanner.testing import LiveServer, free_port
from lanner.testing import serve as serve_app

__all__ = ["APPS_DIR", "WS_IMPLEMENTATIONS", "RunningServer", "free_port", "serve"]

APPS_DIR = Path(__file__).parent / "apps"

# The uvicorn WebSocket implementations the e2e suite covers (DESIGN.md §2b).
WS_IMPLEMENTATIONS = ("websockets-sansio", "wsproto")

RunningServer = LiveServer


@contextmanager
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
) -> Iterator[LiveServer]:
    """Serve ``app`` ("module:attr", importable from ``cwd``) and yield it.

    See :func:`lanner.testing.serve`; ``cli`` defaults to plain uvicorn here.
    """
    with serve_app(
        app, app_dir=cwd, cli=cli, ws=ws, env=env, args=args, port=port, python=python
    ) as server:
        yield server
