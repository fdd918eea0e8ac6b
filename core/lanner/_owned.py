"""A dict that remembers who set each key: the app author or a named plugin.

Plugin contributions land in these mappings as soon as ``App()`` returns, so
app authors see them; an app author's own assignment overrides a key and also
settles any conflict between plugins on it.
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

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

    # dict's C methods do not go through __setitem__/__delitem__, so every
    # other mutator is routed here too: each write records its owner, and none
    # gets past a frozen mapping.

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Set several keys as the app author (see ``dict.update``)."""
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key: K, default: V) -> V:
        """Set ``key`` as the app author unless present; return its value."""
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key: K, *default: V) -> V:  # type: ignore[override]
        """Remove ``key`` and return its value (see ``dict.pop``)."""
        self._check_open()
        self.owners.pop(key, None)
        return super().pop(key, *default)

    def popitem(self) -> tuple[K, V]:
        """Remove and return the last key and value (see ``dict.popitem``)."""
        self._check_open()
        key, value = super().popitem()
        self.owners.pop(key, None)
        return key, value

    def clear(self) -> None:
        """Remove every key."""
        self._check_open()
        super().clear()
        self.owners.clear()

    def __ior__(self, other: Any) -> OwnedDict[K, V]:  # type: ignore[override,misc]
        self.update(other)
        return self

    def contribute(self, key: K, value: V, owner: str) -> None:
        """Set ``key`` on behalf of ``owner`` (a plugin name), unless the app set it."""
        if self.owners.get(key) == APP_OWNER:
            return
        super().__setitem__(key, value)
        self.owners[key] = owner

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
