"""The lazily created ``context`` namespace shared by requests and responses."""

from __future__ import annotations

import types

__all__ = ["Contextual"]


class Contextual:
    """Gives an object a ``context`` namespace, created on first use.

    PERF: most requests never touch ``context``; creating the namespace only
    when asked keeps it off the per-request path. Subclasses set
    ``self._context = None`` in their ``__init__``.
    """

    __slots__ = ("_context",)

    _context: types.SimpleNamespace | None

    @property
    def context(self) -> types.SimpleNamespace:
        """A plain namespace for per-request state (``req.context.user = ...``)."""
        context = self._context
        if context is None:
            context = self._context = types.SimpleNamespace()
        return context
