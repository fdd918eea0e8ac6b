"""The demo with a feed whose streams the server ends every 5 events (``feed_stream_limit``).

As a proxy that recycles long connections would: the browser's ``EventSource``
reconnects with ``Last-Event-ID`` and the hub resumes it. Importable from
tests/e2e/apps for ``serve()``, like ``demo_app``.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[3])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from examples.demo import create_app  # noqa: E402

app = create_app(feed_interval=0.5, feed_stream_limit=5)

__all__ = ["app"]
