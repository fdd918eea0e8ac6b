"""A griffe extension for the API reference: render Sphinx cross-reference roles as code.

lanner's docstrings name other objects the way Sphinx does (``:class:`~lanner.App```,
``:meth:`accept```), which reads well in the source and in ``help()``. Markdown has no
such roles, so without this they would show up literally on the site. This turns
each into inline code, keeping only the last dotted part where the name starts with
``~``, as Sphinx does.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:meth|class|func|attr|exc|mod|data|obj):`(~?)([^`]+)`")


def _as_code(match: re.Match[str]) -> str:
    short, name = match.groups()
    return f"`{name.rsplit('.', 1)[-1] if short else name}`"


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx roles in every loaded docstring as Markdown inline code."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite the docstring of each object as griffe loads it."""
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(_as_code, obj.docstring.value)
