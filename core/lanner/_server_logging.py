"""The logging configuration ``lanner serve`` gives uvicorn: uvicorn's own, plus one filter.

uvicorn's default WebSocket implementation logs a full ERROR traceback each
time a client sends a TEXT frame that is not UTF-8 (it then closes the
connection with 1007, as it should). The client is at fault and the server is
fine, so a traceback per hostile frame only buries real errors and lets any
client fill the log. :class:`InvalidUTF8Condenser` turns that record into one
WARNING line. It is installed through uvicorn's ``log_config``, which every
worker and reloaded process applies too.
"""

from __future__ import annotations

import copy
import logging
from typing import Any, Final

from uvicorn.config import LOGGING_CONFIG

__all__ = ["InvalidUTF8Condenser", "server_log_config"]

_UVICORN_MESSAGE: Final = "Invalid UTF-8 sequence received from client."
_CONDENSED: Final = (
    "A WebSocket client sent a TEXT frame that is not valid UTF-8; the connection was "
    "closed with 1007 (invalid payload data)."
)


class InvalidUTF8Condenser(logging.Filter):
    """Rewrite uvicorn's invalid-UTF-8 traceback as a single WARNING line; keep all records."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Condense the one record this filter is about; pass every record on."""
        if record.msg == _UVICORN_MESSAGE and record.levelno >= logging.ERROR:
            record.msg = _CONDENSED
            record.args = None
            record.exc_info = None
            record.exc_text = None
            record.levelno = logging.WARNING
            record.levelname = logging.getLevelName(logging.WARNING)
        return True


def server_log_config() -> dict[str, Any]:
    """Return uvicorn's default logging configuration with :class:`InvalidUTF8Condenser` added."""
    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["lanner_invalid_utf8"] = {
        "()": f"{__name__}.InvalidUTF8Condenser"
    }
    error_logger = config["loggers"].setdefault("uvicorn.error", {})
    error_logger["filters"] = [*error_logger.get("filters", ()), "lanner_invalid_utf8"]
    return config
