"""The ``lanner.memory`` default plugin: the in-process ``memory://`` broadcast backend.

One hook. It makes ``memory://`` (the default broadcast URL) work: the hub at
``app.broadcast`` fans messages out within this process, keeping history in
memory. A plugin providing another scheme (``redis://`` from
``lanner-broadcast-redis``) sits beside it; one providing ``memory`` overrides it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from lanner.broadcast.memory import memory_backend
from lanner.plugins.hookspecs import hookimpl

if TYPE_CHECKING:
    from lanner.app import App
    from lanner.broadcast.backend import BackendFactory

__all__ = ["lanner_broadcast_backends"]


@hookimpl
def lanner_broadcast_backends(app: App) -> Mapping[str, BackendFactory]:
    """Provide ``memory://``."""
    return {"memory": memory_backend}
