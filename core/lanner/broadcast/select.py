"""Choosing a backend: the broadcast URL's scheme picks a factory; its query sets options."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from lanner.broadcast.backend import BackendFactory, BroadcastBackend, read_broadcast_url
from lanner.broadcast.hub import Broadcast

if TYPE_CHECKING:
    from lanner.app import App

__all__ = ["DEFAULT_URL", "ENV_VAR", "KNOWN_DISTRIBUTIONS", "open_broadcast"]

ENV_VAR: Final = "LANNER_BROADCAST_URL"
"""The environment variable ``lanner serve --broadcast URL`` sets."""

DEFAULT_URL: Final = "memory://"

KNOWN_DISTRIBUTIONS: Final[Mapping[str, str]] = {
    "redis": "lanner-broadcast-redis",
    "rediss": "lanner-broadcast-redis",
}
"""Where to get the backends lanner knows of but does not ship, by scheme."""


def open_broadcast(url: str | None, app: App, backends: Mapping[str, BackendFactory]) -> Broadcast:
    """Make the hub for ``app``: ``url``, else ``LANNER_BROADCAST_URL``, else ``memory://``.

    Args:
        url: The broadcast URL the app author gave, or ``None``.
        app: The app being built.
        backends: Factories by bare scheme (``"memory"``, ``"redis"``): the
            app's ``broadcast_backends``, which the ``lanner_broadcast_backends``
            hook fills.

    Raises:
        ValueError: The scheme has no backend (the message lists the installed
            schemes and, for a known one, the distribution that provides it),
            or an option is unknown or bad.
    """
    chosen = url if url is not None else os.environ.get(ENV_VAR) or DEFAULT_URL
    options = read_broadcast_url(chosen, None)
    factory = backends.get(options.scheme)
    if factory is None:
        installed = ", ".join(f"{scheme}://" for scheme in sorted(backends)) or "none"
        hint = ""
        distribution = KNOWN_DISTRIBUTIONS.get(options.scheme)
        if distribution is not None:
            hint = (
                f" {options.scheme}:// comes with the {distribution} distribution: "
                f"pip install {distribution}."
            )
        source = "App(broadcast=...)" if url is not None else f"${ENV_VAR}"
        raise ValueError(
            f"No broadcast backend for {options.scheme}:// (from {source}); installed: "
            f"{installed}.{hint}"
        )
    backend = factory(chosen, app)
    if not isinstance(backend, BroadcastBackend):
        raise TypeError(
            f"The broadcast backend factory for {options.scheme}:// returned "
            f"{type(backend).__name__}, not a lanner.BroadcastBackend."
        )
    return Broadcast(backend, options, app)
