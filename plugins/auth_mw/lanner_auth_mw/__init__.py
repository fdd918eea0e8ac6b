"""lanner-auth-mw: token authentication and Origin checks for HTTP and WebSocket handshakes.

Installed, it loads by itself (entry point ``auth_mw`` in group ``lanner``)
and refuses to start until configured through
``plugin_config={"auth_mw": {"tokens": {...}}}`` (or ``"verify"``).
"""

from lanner_auth_mw._config import PLUGIN_NAME, AuthConfig, AuthConfigError, parse_config
from lanner_auth_mw._config import PLUGIN_NAME as name
from lanner_auth_mw._origins import Origin, parse_origin
from lanner_auth_mw._tokens import MAX_TOKEN_LENGTH, TokenTable
from lanner_auth_mw.hooks import lanner_configure, lanner_middleware
from lanner_auth_mw.middleware import REALM, AuthMiddleware
from lanner_auth_mw.redaction import MASK, QueryParamRedactor, install_redaction

__version__ = "0.1.0"

__all__ = [
    "MASK",
    "MAX_TOKEN_LENGTH",
    "PLUGIN_NAME",
    "REALM",
    "AuthConfig",
    "AuthConfigError",
    "AuthMiddleware",
    "Origin",
    "QueryParamRedactor",
    "TokenTable",
    "install_redaction",
    "lanner_configure",
    "lanner_middleware",
    "name",
    "parse_config",
    "parse_origin",
]
