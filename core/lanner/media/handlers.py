"""The HTTP media handler registry: media type to handler, resolved once per type."""

from __future__ import annotations

from lanner._owned import OwnedDict
from lanner.media.base import BaseHandler

__all__ = ["Handlers", "bare_media_type"]


class Handlers(OwnedDict[str, BaseHandler]):
    """Maps media types (``application/json``) to HTTP media handlers.

    Keys are bare media types; lookups ignore parameters such as ``charset``
    and letter case. Each distinct ``Content-Type`` value is resolved once and
    cached, so the per-request cost is one dict lookup.
    """

    def __init__(self, what: str = "media handlers") -> None:
        super().__init__(what)
        self._resolved: dict[str, tuple[str, BaseHandler] | None] = {}

    def __setitem__(self, key: str, value: BaseHandler) -> None:
        super().__setitem__(bare_media_type(key), value)
        self._resolved.clear()

    def __delitem__(self, key: str) -> None:
        super().__delitem__(bare_media_type(key))
        self._resolved.clear()

    def pop(self, key: str, *default: BaseHandler) -> BaseHandler:  # type: ignore[override]
        """Remove a media type's handler and return it (see ``dict.pop``)."""
        value = super().pop(bare_media_type(key), *default)
        self._resolved.clear()
        return value

    def popitem(self) -> tuple[str, BaseHandler]:
        """Remove and return the last media type and handler."""
        item = super().popitem()
        self._resolved.clear()
        return item

    def clear(self) -> None:
        """Remove every handler."""
        super().clear()
        self._resolved.clear()

    def contribute(self, key: str, value: BaseHandler, owner: str) -> None:
        """Set ``key`` on behalf of a plugin (see :class:`OwnedDict`)."""
        super().contribute(bare_media_type(key), value, owner)
        self._resolved.clear()

    def find(self, content_type: str) -> tuple[str, BaseHandler] | None:
        """Return ``(media_type, handler)`` for a ``Content-Type`` value, or ``None``."""
        try:
            return self._resolved[content_type]
        except KeyError:
            pass
        media_type = bare_media_type(content_type)
        handler = self.get(media_type)
        found = (media_type, handler) if handler is not None else None
        if len(self._resolved) < 256:  # bound the cache against hostile header variety
            self._resolved[content_type] = found
        return found


def bare_media_type(content_type: str) -> str:
    """Return the media type of a ``Content-Type`` value: no parameters, lower case.

    ``"Application/JSON; charset=utf-8"`` gives ``"application/json"``. The one
    normalisation of media types: the handler registries store their keys this
    way, and the plugin loader normalises plugins' keys with it.
    """
    return content_type.partition(";")[0].strip().lower()
