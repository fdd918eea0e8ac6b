"""``lanner serve``'s runner around uvicorn: the same server, told about shutdown first.

uvicorn's own shutdown closes every connection before the app hears anything
(the ASGI lifespan shutdown comes last): WebSockets get 1012 and event streams
are cut. ``lanner serve`` runs uvicorn with :class:`LannerConfig`, whose
``load()`` (which uvicorn calls in every serving process, workers and ``--reload``
children included, once its signal handlers are in place) wraps those handlers:
on SIGINT or SIGTERM lanner first closes every live WebSocket with 1001 (Going
Away) and ends every event stream with its terminator; once the close frames
are written (or after half a second at most), uvicorn's handler runs and its
shutdown proceeds as usual, bounded by ``--timeout-graceful-shutdown``.
"""

from __future__ import annotations

import asyncio
import functools
import signal
import sys
import threading
from types import FrameType
from typing import Any, Final

import uvicorn
from uvicorn.supervisors import ChangeReload, Multiprocess

from lanner._lifecycle import begin_shutdown

__all__ = ["LannerConfig", "run"]

_EXIT_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)
_CLOSE_FRAMES_WAIT: Final = 0.5
"""The longest lanner holds uvicorn's shutdown back while its close frames go out."""

_STARTUP_FAILURE: Final = 3
"""uvicorn's exit status when the app or the socket cannot start."""


class LannerConfig(uvicorn.Config):
    """A uvicorn ``Config`` that hooks lanner's going-away into the exit signals."""

    def load(self) -> None:
        """Load the app as uvicorn does, then hook the exit signals (main thread only)."""
        super().load()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # loaded outside a server (a supervisor process): nothing to hook
        if threading.current_thread() is threading.main_thread():
            _hook_exit_signals(loop)


def _hook_exit_signals(loop: asyncio.AbstractEventLoop) -> None:
    """Run lanner's going-away before each exit signal's current handler."""
    for sig in _EXIT_SIGNALS:
        previous = signal.getsignal(sig)
        if callable(previous) and not isinstance(previous, functools.partial):
            signal.signal(sig, functools.partial(_on_exit_signal, loop, previous))


# The exit signals seen, and the going-away task the first one started (kept
# referenced until the process exits).
_signalled: list[int] = []
_started: list[asyncio.Task[None]] = []


def _on_exit_signal(
    loop: asyncio.AbstractEventLoop, previous: Any, sig: int, frame: FrameType | None
) -> None:
    # A second signal (Ctrl+C twice: force quit), or no loop left: straight to uvicorn.
    if _signalled or loop.is_closed():
        previous(sig, frame)
        return
    _signalled.append(sig)
    # A signal handler runs between two bytecodes of the loop's thread: hand the
    # work to the loop rather than touch connections from here. uvicorn hears of
    # the signal only once the close frames are out, or it would send its own 1012
    # first (it acts on its next 0.1 s tick, which may fall in the same loop turn).
    loop.call_soon_threadsafe(_go_away_then_exit, previous, sig)


def _go_away_then_exit(previous: Any, sig: int) -> None:
    _started.append(asyncio.get_running_loop().create_task(_go_away(previous, sig)))


async def _go_away(previous: Any, sig: int) -> None:
    try:
        closing = begin_shutdown()
        if closing:
            await asyncio.wait(closing, timeout=_CLOSE_FRAMES_WAIT)
    finally:
        previous(sig, None)


def run(app: str, **options: Any) -> None:
    """Serve the import string ``app`` with uvicorn, as ``uvicorn.run`` would.

    Args:
        app: ``MODULE:ATTRIBUTE``; imported in each serving process.
        options: uvicorn ``Config`` keyword arguments.
    """
    config = LannerConfig(app, **options)
    server = uvicorn.Server(config)
    try:
        if config.should_reload:
            ChangeReload(config, target=server.run, sockets=[config.bind_socket()]).run()
        elif config.workers > 1:
            Multiprocess(config, sockets=[config.bind_socket()]).run()
        else:
            server.run()
    except KeyboardInterrupt:
        pass  # a second Ctrl+C: uvicorn already stopped as fast as it could
    if not server.started and not config.should_reload and config.workers == 1:
        sys.exit(_STARTUP_FAILURE)
