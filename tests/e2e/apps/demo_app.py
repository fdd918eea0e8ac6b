"""The demo app (``examples.demo:app``), importable from tests/e2e/apps for ``serve()``.

End-to-end servers run with tests/e2e/apps as their working directory, so the
repository root is put on ``sys.path`` first, as ``make run`` (run from the root)
has it.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[3])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from examples.demo import app  # noqa: E402

__all__ = ["app"]
