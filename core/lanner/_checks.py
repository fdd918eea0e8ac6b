"""Checks shared by the app's own ``add_*`` methods and the plugin hook table.

One predicate per kind of object, so ``app.add_error_handler(...)`` and a
plugin's ``lanner_error_handlers`` refuse the same mistakes.
"""

from __future__ import annotations

import inspect
from typing import Final

__all__ = ["ERROR_HANDLER_SHAPE", "is_error_handler"]

ERROR_HANDLER_SHAPE: Final = (
    "a coroutine function (async def handler(req, resp, ex, params, *, ws=None))"
)
"""What an error handler must be, for messages."""


def is_error_handler(value: object) -> bool:
    """Return whether ``value`` can be awaited as an error handler (an ``async def``)."""
    return inspect.iscoroutinefunction(value)
