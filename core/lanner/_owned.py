"""A dict that remembers who set each key: the app author or a named plugin.

Plugin contributions land in these mappings as soon as ``App()`` returns, so
app authors see them; an app author's own assignment overrides a key and also
settles any conflict between plugins on it.
"""

from __future__ import annotations

from typing import Final, TypeVar

K = TypeVar("K")
V = TypeVar("V")

APP_OWNER: Final = "app"
"""The owner recorded for keys the app author set directly."""


class OwnedDict(dict[K, V]):
    """A ``dict`` whose keys each record an owner.

    Plain item assignment (``d[k] = v``) records the app author as owner;
    :meth:`contribute` is how plugin assembly writes, naming the plugin.
    Freezing makes later writes raise ``RuntimeError``, because the app has
    started and the value has been compiled into its serving path.
    """

    def __init__(self, what: str) -> None:
        super().__init__()
        self._what = what
        self.owners: dict[K, str] = {}
        self._frozen = False

    def __setitem__(self, key: K, value: V) -> None:
        self._check_open()
        super().__setitem__(key, value)
        self.owners[key] = APP_OWNER

    def __delitem__(self, key: K) -> None:
        self._check_open()
        super().__delitem__(key)
        self.owners.pop(key, None)

    def contribute(self, key: K, value: V, owner: str) -> None:
        """Set ``key`` on behalf of ``owner`` (a plugin name), unless the app set it."""
        if self.owners.get(key) == APP_OWNER:
            return
        super().__setitem__(key, value)
        self.owners[key] = owner

    def set_by_app(self, key: K) -> bool:
        """Return whether the app author assigned ``key`` directly."""
        return self.owners.get(key) == APP_OWNER

    def freeze(self) -> None:
        """Refuse all later writes: the value is now part of the serving path."""
        self._frozen = True

    def _check_open(self) -> None:
        if self._frozen:
            raise RuntimeError(
                f"Cannot change {self._what} after the app has started: it was "
                "compiled into the serving path at the first request or lifespan "
                "startup. Set it before serving the app."
            )
