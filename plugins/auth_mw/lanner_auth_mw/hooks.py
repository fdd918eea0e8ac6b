"""The plugin's hook implementations: check the config, then provide the middleware."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import lanner
from lanner_auth_mw._config import PLUGIN_NAME, parse_config
from lanner_auth_mw.middleware import AuthMiddleware
from lanner_auth_mw.redaction import install_redaction

if TYPE_CHECKING:
    from lanner import App

__all__ = ["lanner_configure", "lanner_middleware"]


@lanner.hookimpl
def lanner_configure(app: App) -> None:
    """Check the ``auth_mw`` config section (failing closed), and keep its secrets out of logs.

    Raises:
        AuthConfigError: No credentials are configured, or the section is wrong.
    """
    config = parse_config(app.plugin_config(PLUGIN_NAME))
    install_redaction(config.query_param, config.subprotocol_prefix)


@lanner.hookimpl
def lanner_middleware(app: App) -> Sequence[object]:
    """Return the authentication middleware, which wraps the app's own middleware."""
    return [AuthMiddleware(parse_config(app.plugin_config(PLUGIN_NAME)))]
