"""Hook specifications: the contract between lanner and its plugins.

Placeholder until the plugin layer lands; only the markers are defined.
"""

from __future__ import annotations

from typing import Final

import pluggy

PROJECT_NAME: Final = "lanner"

hookspec: Final = pluggy.HookspecMarker(PROJECT_NAME)
"""Marks a hook specification in this module."""

hookimpl: Final = pluggy.HookimplMarker(PROJECT_NAME)
"""Marks a plugin's hook implementation: ``@lanner.hookimpl``."""
