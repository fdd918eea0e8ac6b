"""The backend's settings: a ``redis://`` URL plus the ``broadcast_redis`` config section.

Options come from the URL query (``redis://host:6379/0?history=100``) or from
``plugin_config={"broadcast_redis": {...}}``; the URL wins where both give one.
The password comes from the URL (``redis://:secret@host``) or from the section
(``"password": {"$env": "REDIS_PASSWORD"}``), never both, and is kept out of
every message, ``repr`` and log line: only :func:`redact_url` forms are shown.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

__all__ = [
    "DEFAULT_KEY_PREFIX",
    "DEFAULT_POOL_SIZE",
    "PLUGIN_NAME",
    "SCHEMES",
    "RedisSettings",
    "check_section",
    "parse_settings",
    "redact_url",
]

PLUGIN_NAME: Final = "broadcast_redis"
"""The plugin's name: its entry-point name and its ``plugin_config`` key."""

SCHEMES: Final = ("redis", "rediss")
"""The URL schemes this plugin provides (``rediss``: TLS)."""

DEFAULT_HISTORY: Final = 1000
DEFAULT_PUBLISH_TIMEOUT: Final = 2.0
DEFAULT_KEY_PREFIX: Final = "lanner:broadcast:"
DEFAULT_POOL_SIZE: Final = 4

_WHERE: Final = f"plugin_config[{PLUGIN_NAME!r}]"
_MASK: Final = "***"

# Options either place may give; the hub's own ``max_message_size`` is read from
# the URL by the hub and only passes through here.
_TUNING: Final = ("history", "publish_timeout", "key_prefix", "pool_size")
_TLS: Final = ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_cert_reqs")
URL_OPTIONS: Final = frozenset((*_TUNING, *_TLS, "max_message_size"))
"""Query options a ``redis://`` URL accepts."""
SECTION_KEYS: Final = (*_TUNING, *_TLS, "username", "password")
"""Keys the ``broadcast_redis`` config section accepts."""

_CERT_REQS: Final = ("required", "optional", "none")
_PREFIX_CHARS: Final = re.compile(r"[\x21-\x7e]{0,200}")


@dataclass(frozen=True)
class RedisSettings:
    """Everything the backend needs to reach Redis, checked.

    Attributes:
        host: The server's host name or address.
        port: Its TCP port.
        db: The logical database number (the URL path, ``/0`` by default).
        tls: Whether to use TLS (the ``rediss`` scheme).
        history: Messages kept per channel for resume (``0``: none).
        publish_timeout: Seconds a publish may wait for Redis.
        key_prefix: Prepended to every channel name to form its stream key.
        pool_size: Connections the publishing pool may open.
        username: The ACL user name, or ``None``.
        password: The password, or ``None``; never shown (``repr=False``).
        ssl: TLS options for redis-py (``ssl_ca_certs``, ...), as given.
        shown_url: The URL with any password replaced by ``***``.
    """

    host: str
    port: int
    db: int
    tls: bool
    history: int = DEFAULT_HISTORY
    publish_timeout: float = DEFAULT_PUBLISH_TIMEOUT
    key_prefix: str = DEFAULT_KEY_PREFIX
    pool_size: int = DEFAULT_POOL_SIZE
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ssl: Mapping[str, str] = field(default_factory=dict)
    shown_url: str = ""

    def connection_kwargs(self) -> dict[str, Any]:
        """Return the keyword arguments for a redis-py asyncio connection (pool)."""
        kwargs: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "db": self.db,
            "username": self.username,
            "password": self.password,
            "socket_connect_timeout": self.publish_timeout,
        }
        if self.tls:
            kwargs["ssl"] = True
            kwargs.update(self.ssl)
        return kwargs


def redact_url(url: str) -> str:
    """Return ``url`` with its password (if any) replaced by ``***``; safe to show."""
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    netloc = f"{user}:{_MASK}@{hostport}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def check_section(section: Mapping[str, Any]) -> None:
    """Check a (resolved) ``broadcast_redis`` section: known keys, right types.

    Raises:
        ValueError: An unknown key or a bad value; the message names it and says
            what is accepted. A password's value is never part of the message.
    """
    for key in section:
        if key not in SECTION_KEYS:
            raise ValueError(
                f"{_WHERE}: unknown option {key!r}; accepted: {', '.join(SECTION_KEYS)}. "
                "Check the spelling, or move URL-only options into the broadcast URL."
            )
    for key in ("username", "password", "key_prefix", *_TLS):
        value = section.get(key)
        if value is not None and not isinstance(value, str):
            shown = "a value" if key == "password" else repr(value)
            raise ValueError(
                f'{_WHERE}[{key!r}] must be a string (or {{"$env": "VAR"}}), '
                f"found {type(value).__name__} {shown}."
            )
    _tuning({k: section[k] for k in _TUNING if k in section}, _WHERE)


def parse_settings(url: str, section: Mapping[str, Any]) -> RedisSettings:
    """Return the checked settings for ``url`` and the (resolved) config section.

    Args:
        url: A ``redis://`` or ``rediss://`` URL; query options win over the section's.
        section: ``app.plugin_config("broadcast_redis")``: references resolved.

    Raises:
        ValueError: The URL or an option is wrong; the message shows the URL
            with its password replaced by ``***``.
    """
    shown = redact_url(url)
    check_section(section)
    try:
        parts = urlsplit(url)
        port = parts.port or 6379
        url_password = unquote(parts.password) if parts.password is not None else None
    except ValueError:
        raise ValueError(
            f"Broadcast URL {shown}: expected redis://[[user]:password@]host[:port][/db], "
            "the port is not a number from 0 to 65535."
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError(f"Broadcast URL {shown}: expected the scheme redis:// or rediss://.")
    query: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name not in URL_OPTIONS:
            raise ValueError(
                f"Broadcast URL {shown}: unknown option {name!r}; {scheme}:// accepts "
                f"{', '.join(sorted(URL_OPTIONS))}."
            )
        if name in query:
            raise ValueError(f"Broadcast URL {shown}: option {name!r} is given twice.")
        query[name] = value
    merged: dict[str, Any] = {k: section[k] for k in _TUNING if k in section}
    merged.update((k, query[k]) for k in _TUNING if k in query)
    tuning = _tuning(merged, f"Broadcast URL {shown}")
    db_text = parts.path.lstrip("/") or "0"
    if not db_text.isdigit():
        raise ValueError(
            f"Broadcast URL {shown}: the path names the database number, such as /0; "
            f"found /{db_text}."
        )
    if url_password is not None and section.get("password") is not None:
        raise ValueError(
            f"Broadcast URL {shown} and {_WHERE}['password'] both give a password: "
            'give it in one place (the section\'s {"$env": "VAR"} keeps it out of the URL).'
        )
    ssl = {k: str(query.get(k, section.get(k))) for k in _TLS if k in query or k in section}
    reqs = ssl.get("ssl_cert_reqs")
    if reqs is not None and reqs not in _CERT_REQS:
        raise ValueError(
            f"Broadcast URL {shown}: ssl_cert_reqs={reqs!r} must be one of {', '.join(_CERT_REQS)}."
        )
    if ssl and scheme != "rediss":
        raise ValueError(
            f"Broadcast URL {shown}: TLS options ({', '.join(sorted(ssl))}) need the "
            "rediss:// scheme."
        )
    username = unquote(parts.username) if parts.username else section.get("username")
    return RedisSettings(
        host=parts.hostname or "localhost",
        port=port,
        db=int(db_text),
        tls=scheme == "rediss",
        history=tuning["history"],
        publish_timeout=tuning["publish_timeout"],
        key_prefix=tuning["key_prefix"],
        pool_size=tuning["pool_size"],
        username=username or None,
        password=url_password if url_password is not None else section.get("password"),
        ssl=ssl,
        shown_url=shown,
    )


def _tuning(given: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Check the tuning options (strings from a URL, or typed values); fill defaults."""
    history = _whole(given.get("history", DEFAULT_HISTORY), "history", 0, where)
    pool_size = _whole(given.get("pool_size", DEFAULT_POOL_SIZE), "pool_size", 1, where)
    raw_timeout = given.get("publish_timeout", DEFAULT_PUBLISH_TIMEOUT)
    try:
        timeout = float(raw_timeout) if not isinstance(raw_timeout, bool) else math.nan
    except (TypeError, ValueError):
        timeout = math.nan
    if not (math.isfinite(timeout) and timeout > 0):
        raise ValueError(
            f"{where}: publish_timeout={raw_timeout!r} must be a positive number of "
            "seconds, such as 2 or 0.5."
        )
    prefix = given.get("key_prefix", DEFAULT_KEY_PREFIX)
    if not isinstance(prefix, str) or not _PREFIX_CHARS.fullmatch(prefix):
        raise ValueError(
            f"{where}: key_prefix={prefix!r} must be at most 200 printable ASCII "
            f"characters without spaces, such as {DEFAULT_KEY_PREFIX!r}."
        )
    return {
        "history": history,
        "pool_size": pool_size,
        "publish_timeout": timeout,
        "key_prefix": prefix,
    }


def _whole(raw: object, name: str, minimum: int, where: str) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and raw.isdigit():
        value = int(raw)
    else:
        value = minimum - 1
    if value < minimum:
        raise ValueError(f"{where}: {name}={raw!r} must be a whole number >= {minimum}.")
    return value
