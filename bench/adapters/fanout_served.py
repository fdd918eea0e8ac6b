"""The fan-out apps as import strings for uvicorn and ``lanner serve``.

``bench.adapters.fanout_served:<key>`` (a key of
:data:`bench.fanout_frameworks.FANOUT_FRAMEWORKS`) builds that app when the
server imports it, in every worker, on the backend named by
``BENCH_FANOUT_URL`` (else ``LANNER_BROADCAST_URL``, which ``lanner serve
--broadcast`` sets, else ``memory://``), with ``BENCH_FANOUT_BACKLOG``.
"""

from __future__ import annotations

import os

from bench._asgi import ASGIApp
from bench.endpoints import FANOUT_BACKLOG
from bench.fanout_frameworks import fanout_by_key


def __getattr__(name: str) -> ASGIApp:
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        (framework,) = [fw for fw in fanout_by_key([name]) if fw.key == name]
    except ValueError as exc:
        raise AttributeError(str(exc)) from None
    url = os.environ.get("BENCH_FANOUT_URL") or os.environ.get("LANNER_BROADCAST_URL", "memory://")
    backlog = int(os.environ.get("BENCH_FANOUT_BACKLOG", FANOUT_BACKLOG))
    return framework.build(url=url, backlog=backlog).app
