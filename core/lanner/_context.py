"""The lazily created ``context`` namespace shared by requests and responses."""

from __future__ import annotations

import types

__all__ = ["Contextual"]


class Contextual:
    """Gives an object a ``context`` namespace, created on first use.

    PERF: most requests never touch ``context``; creating the namespace only
    when asked keeps it off the per-request path. The slot starts unset (an
    ``AttributeError`` on first read), so constructors need not even store it.
    """

    __slots__ = ("_context",)

    _context: types.SimpleNamespace

    @property
    def context(self) -> types.SimpleNamespace:
        """A plain namespace for per-request state (``req.context.user = ...``)."""
        try:
            return self._context
        except AttributeError:
            self._context = types.SimpleNamespace()
            return self._context
