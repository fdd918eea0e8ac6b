"""Keeping credentials out of the server's log, at every log level.

uvicorn logs the request line with its query string (HTTP through
``uvicorn.access``, WebSocket handshakes through ``uvicorn.error``); at
``--log-level debug`` its WebSocket implementation prints every handshake
header (``Authorization: Bearer ...``, ``Sec-WebSocket-Protocol: bearer....``);
at ``trace`` ``uvicorn.asgi`` dumps each scope (``query_string``,
``subprotocols``). :func:`install_redaction` adds one :class:`SecretRedactor`
to each of those loggers (and lanner's), which rewrites such records before
any handler formats them: the ``Authorization`` value, the subprotocol
entries carrying a token and the token query parameter become ``***``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Final
from urllib.parse import unquote_plus

__all__ = [
    "LOGGERS",
    "MASK",
    "UVICORN_LOGGERS",
    "QueryParamRedactor",
    "SecretRedactor",
    "install_redaction",
]

MASK: Final = "***"
"""What a redacted value is replaced with."""

UVICORN_LOGGERS: Final = (
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "uvicorn.asgi",
    "uvicorn.error.auth_mw",
)
"""uvicorn's loggers (and the plugin's own child of ``uvicorn.error``)."""

LOGGERS: Final = (*UVICORN_LOGGERS, "lanner", "lanner_auth_mw")
"""Every logger the redactor is installed on.

A logging filter sees only the records created on its own logger, not those
its children propagate, so each logger that may carry a request's details is
named here.
"""

# One query parameter: the separator before it (in a URL, or the quote that
# opens a logged ``query_string``), its name and its value.
_PARAM: Final = re.compile(r"(?P<head>[?&'\"](?P<name>[^=&#\s\"']+)=)(?P<value>[^&#\s\"']*)")
# An Authorization (or Proxy-Authorization) header: as ``name: value`` in a
# header dump, or ``(b'authorization', b'value')`` in a logged header list.
# The scheme (``Bearer``) is kept; everything else up to the line end or a
# closing quote is masked.
_AUTHORIZATION: Final = re.compile(
    r"(?P<head>authorization['\"]?\s*[:,=]\s*b?['\"]?(?:[A-Za-z][\w.-]*[ \t]+)?)"
    r"(?P<value>[^'\"\r\n]+)",
    re.IGNORECASE,
)
_TRACEBACKS: Final = logging.Formatter()

# Characters a Sec-WebSocket-Protocol entry (an RFC 9110 token) cannot have.
_NOT_TOKEN: Final = r"\s,\"\]\)"


class SecretRedactor(logging.Filter):
    """A logging filter that masks credentials wherever they appear in a record.

    It never drops a record. It masks, in the message and in each argument:
    the value of an ``Authorization`` header; every ``Sec-WebSocket-Protocol``
    entry that starts with one of ``prefixes``; and the value of each query
    parameter in ``names`` (recognised by its decoded name, so
    ``access%5Ftoken=...`` is masked too). String arguments are rewritten in
    place, keeping the arguments' shape (uvicorn's access formatter unpacks
    them); when a secret shows only once the message is formatted (a header
    name and its value in two arguments, a dumped ASGI scope), the record is
    replaced by its formatted, masked message. A traceback that shows a
    secret is formatted and masked too.

    Args:
        names: The query parameter names to mask.
        prefixes: The subprotocol prefixes whose entries carry a token.
    """

    def __init__(self, names: Iterable[str] = (), prefixes: Iterable[str] = ()) -> None:
        super().__init__()
        self.names: set[str] = set(names)
        """The query parameter names masked; :func:`install_redaction` adds to it."""
        self.prefixes: set[str] = set(prefixes)
        """The subprotocol prefixes masked; :func:`install_redaction` adds to it."""
        self._subprotocols: re.Pattern[str] | None = None
        self._compiled_for: frozenset[str] = frozenset()

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask credentials in ``record``'s message and arguments; keep the record."""
        if isinstance(record.msg, str):
            record.msg = self.redact(record.msg)
        if record.exc_info and not record.exc_text:
            # An exception's message may quote a request (a verify() that fails
            # on a token): format the traceback here, masked, for the handlers.
            traceback = _TRACEBACKS.formatException(record.exc_info)
            redacted = self.redact(traceback)
            if redacted != traceback:
                record.exc_text = redacted
        args = record.args
        if not args:
            return True
        if isinstance(args, tuple):
            record.args = tuple(self.redact(a) if isinstance(a, str) else a for a in args)
        elif isinstance(args, Mapping):
            record.args = {k: self.redact(v) if isinstance(v, str) else v for k, v in args.items()}
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a malformed record: logging reports it, with nothing formatted
        redacted = self.redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True

    def redact(self, text: str) -> str:
        """Return ``text`` with every credential it shows replaced by ``***``."""
        if "uthorization" in text or "UTHORIZATION" in text:
            text = _AUTHORIZATION.sub(_mask, text)
        if self.prefixes:
            pattern = self._subprotocol_pattern()
            text = pattern.sub(_mask, text)
        if self.names and "=" in text:
            text = _PARAM.sub(self._mask_param, text)
        return text

    def _subprotocol_pattern(self) -> re.Pattern[str]:
        prefixes = frozenset(self.prefixes)
        if self._subprotocols is None or prefixes != self._compiled_for:
            alternatives = "|".join(re.escape(p) for p in sorted(prefixes, key=len, reverse=True))
            # The value stops at a character no token has, leaving a closing
            # quote (of a logged list) in place.
            self._subprotocols = re.compile(
                rf"(?m)(?P<head>{alternatives})(?P<value>[^{_NOT_TOKEN}]+?)(?='?(?:[{_NOT_TOKEN}]|$))"
            )
            self._compiled_for = prefixes
        return self._subprotocols

    def _mask_param(self, match: re.Match[str]) -> str:
        if unquote_plus(match["name"]) in self.names:
            return match["head"] + MASK
        return match[0]


def _mask(match: re.Match[str]) -> str:
    return match["head"] + MASK


QueryParamRedactor = SecretRedactor
"""The former name of :class:`SecretRedactor`, which once masked query parameters only."""

_redactor = SecretRedactor()


def install_redaction(
    query_param: str | None = None, subprotocol_prefix: str | None = None
) -> SecretRedactor:
    """Mask credentials in the records of uvicorn's and lanner's loggers, from now on.

    ``Authorization`` values are always masked; ``query_param`` and the
    subprotocol entries starting with ``subprotocol_prefix`` when given.
    Idempotent: one redactor serves the whole process, and installing it
    again (for another App, or the same names) adds no second filter.

    Returns:
        The process-wide redactor.
    """
    if query_param is not None:
        _redactor.names.add(query_param)
    if subprotocol_prefix is not None:
        _redactor.prefixes.add(subprotocol_prefix)
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, SecretRedactor) for f in logger.filters):
            logger.addFilter(_redactor)
    return _redactor
