"""The ``media_cbor`` configuration section, checked when the app is assembled."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["PLUGIN_NAME", "CBORConfig", "CBORConfigError", "parse_config"]

PLUGIN_NAME: Final = "media_cbor"
"""The plugin's name: its entry-point name and its ``plugin_config`` key."""

_DEFAULTS: Final[Mapping[str, bool]] = {"ws_binary": False}


class CBORConfigError(ValueError):
    """The ``media_cbor`` section of ``plugin_config`` is wrong; the message says how."""


@dataclass(frozen=True)
class CBORConfig:
    """The checked configuration.

    Attributes:
        ws_binary: Whether the plugin takes the WebSocket BINARY slot. Off by
            default: installing the plugin adds ``application/cbor`` HTTP media
            only, and BINARY messages stay MessagePack (or whatever another
            plugin provides), because an installed distribution never changes
            the wire format of an app that did not ask for it.
    """

    ws_binary: bool = False


def parse_config(section: Mapping[str, Any]) -> CBORConfig:
    """Return the checked configuration from the plugin's config section.

    Raises:
        CBORConfigError: An unknown key, or a value of the wrong type.
    """
    unknown = sorted(set(section) - set(_DEFAULTS))
    if unknown:
        raise CBORConfigError(
            f"plugin_config[{PLUGIN_NAME!r}] has unknown key(s) {', '.join(map(repr, unknown))}; "
            f"the valid keys are {', '.join(map(repr, _DEFAULTS))}. Remove the key or fix its "
            f'spelling, e.g. plugin_config={{"{PLUGIN_NAME}": {{"ws_binary": True}}}}.'
        )
    ws_binary = section.get("ws_binary", _DEFAULTS["ws_binary"])
    if not isinstance(ws_binary, bool):
        raise CBORConfigError(
            f"plugin_config[{PLUGIN_NAME!r}]['ws_binary'] must be True or False, found "
            f"{type(ws_binary).__name__} {ws_binary!r}. True makes CBOR the WebSocket "
            "BINARY format; False (the default) leaves that slot to MessagePack."
        )
    return CBORConfig(ws_binary=ws_binary)
