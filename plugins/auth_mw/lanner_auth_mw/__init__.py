"""lanner-auth-mw: token authentication and Origin checks for HTTP and WebSocket handshakes.

Installed, it loads by itself (entry point ``auth_mw`` in group ``lanner``)
and refuses to start until configured through
``plugin_config={"auth_mw": {"tokens": {...}}}`` (or ``"verify"``).

The names below are the plugin's public surface: its hooks, the error an
unconfigured app raises, the middleware and the log redaction. Config parsing,
origins and the token table are private modules (``_config``, ``_origins``,
``_tokens``).
"""

from importlib.metadata import PackageNotFoundError, version

from lanner_auth_mw._config import PLUGIN_NAME, AuthConfigError
from lanner_auth_mw._config import PLUGIN_NAME as name
from lanner_auth_mw.hooks import lanner_configure, lanner_middleware
from lanner_auth_mw.middleware import REALM, AuthMiddleware
from lanner_auth_mw.redaction import MASK, QueryParamRedactor, install_redaction

try:
    __version__: str = version("lanner-auth-mw")
    """The installed distribution's version, read from its metadata once, at import."""
except PackageNotFoundError:  # a source tree on sys.path that was never installed
    __version__ = "0+unknown"

__all__ = [
    "MASK",
    "PLUGIN_NAME",
    "REALM",
    "AuthConfigError",
    "AuthMiddleware",
    "QueryParamRedactor",
    "install_redaction",
    "lanner_configure",
    "lanner_middleware",
    "name",
]
