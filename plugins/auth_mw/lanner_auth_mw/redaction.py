"""Keeping query-string tokens out of the server's log.

uvicorn logs every request line with its query string (HTTP through
``uvicorn.access``, WebSocket handshakes at INFO through ``uvicorn.error``),
so ``/ws?access_token=s3cret`` would put the token in the log.
:func:`install_redaction` adds one :class:`QueryParamRedactor` to uvicorn's
loggers, which rewrites such records to ``/ws?access_token=***`` before any
handler formats them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Final
from urllib.parse import unquote_plus

__all__ = ["MASK", "UVICORN_LOGGERS", "QueryParamRedactor", "install_redaction"]

MASK: Final = "***"
"""What a redacted value is replaced with."""

UVICORN_LOGGERS: Final = ("uvicorn", "uvicorn.error", "uvicorn.access")
"""The loggers the redactor is installed on."""

# One query parameter in a URL: the separator before it, its name and its value.
_PARAM: Final = re.compile(r"(?P<head>[?&](?P<name>[^=&#\s\"']+)=)(?P<value>[^&#\s\"']*)")


class QueryParamRedactor(logging.Filter):
    """A logging filter that masks the values of chosen query parameters.

    It never drops a record; it rewrites the message and each string
    argument, keeping the arguments' shape (uvicorn's access formatter unpacks
    them). A parameter is recognised by its decoded name, so
    ``access%5Ftoken=...`` is masked too.

    Args:
        names: The query parameter names to mask.
    """

    def __init__(self, names: Iterable[str] = ()) -> None:
        super().__init__()
        self.names: set[str] = set(names)
        """The parameter names masked; :func:`install_redaction` adds to it."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the chosen parameters in ``record``'s message and arguments; keep it."""
        if isinstance(record.msg, str):
            record.msg = self.redact(record.msg)
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(self.redact(a) if isinstance(a, str) else a for a in args)
        elif isinstance(args, Mapping):
            record.args = {k: self.redact(v) if isinstance(v, str) else v for k, v in args.items()}
        return True

    def redact(self, text: str) -> str:
        """Return ``text`` with the value of every chosen query parameter replaced by ``***``."""
        if "=" not in text or not self.names:
            return text
        return _PARAM.sub(self._mask, text)

    def _mask(self, match: re.Match[str]) -> str:
        if unquote_plus(match["name"]) in self.names:
            return match["head"] + MASK
        return match[0]


_redactor = QueryParamRedactor()


def install_redaction(param: str) -> QueryParamRedactor:
    """Mask query parameter ``param`` in uvicorn's log records, from now on.

    Idempotent: one redactor serves the whole process, and installing it
    again (for another App, or the same name) adds no second filter.

    Returns:
        The process-wide redactor.
    """
    _redactor.names.add(param)
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, QueryParamRedactor) for f in logger.filters):
            logger.addFilter(_redactor)
    return _redactor
