"""The ``auth_mw`` configuration section, checked when the app is assembled.

The plugin fails closed: loaded without ``tokens`` or ``verify`` it refuses
to start, rather than serve an app its author believes is protected.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from lanner_auth_mw._origins import SELF, Origin, parse_origin
from lanner_auth_mw._tokens import MAX_TOKEN_LENGTH, TokenTable

__all__ = ["PLUGIN_NAME", "AuthConfig", "AuthConfigError", "Verify", "parse_config"]

PLUGIN_NAME: Final = "auth_mw"
"""The plugin's name: its entry-point name and its ``plugin_config`` key."""

Verify = Callable[..., Any]
"""``verify(token, req)``: an identity, or ``None`` (or ``False``) to refuse; may be async."""

_KEYS: Final = (
    "tokens",
    "verify",
    "query_param",
    "subprotocol_prefix",
    "allowed_origins",
    "exempt",
)

_WHERE: Final = f"plugin_config[{PLUGIN_NAME!r}]"

# RFC 9110 token characters: what a Sec-WebSocket-Protocol entry may contain.
_TCHARS: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# A token: printable ASCII without spaces (Bearer tokens, API keys, JWTs).
_TOKEN_CHARS: Final = re.compile(r"[\x21-\x7e]+")

_HOW_TO_CONFIGURE: Final = (
    f'Configure it, e.g. App(plugin_config={{"{PLUGIN_NAME}": {{"tokens": {{"alice": '
    f'{{"$env": "ALICE_TOKEN"}}}}}}}}) or {{"verify": "myapp.auth:verify"}}; or disable it '
    f'with App(disable_plugins=["{PLUGIN_NAME}"]), LANNER_DISABLE_PLUGINS={PLUGIN_NAME} or '
    f"lanner serve --disable-plugin {PLUGIN_NAME}."
)


class AuthConfigError(ValueError):
    """The ``auth_mw`` section of ``plugin_config`` is missing or wrong; the message says how."""


@dataclass(frozen=True)
class AuthConfig:
    """The checked configuration (see the plugin docs for each key).

    Attributes:
        tokens: The configured tokens, by name, as a constant-time table.
        verify: A callable ``verify(token, req)``, or ``None``.
        verify_ref: The ``"module:callable"`` text ``verify`` came from.
        query_param: The query parameter that may carry a token, or ``None``.
        subprotocol_prefix: The prefix of a ``Sec-WebSocket-Protocol`` entry
            that carries a token, or ``None``.
        allowed_origins: Origins a WebSocket handshake or CORS preflight may
            come from, or ``None`` to allow any.
        allow_self: Whether the request's own origin (its scheme, and the host
            and port of its ``Host`` header) is allowed too: ``"self"`` in
            ``allowed_origins``.
        exempt: Exact paths served without credentials.
    """

    tokens: TokenTable
    verify: Verify | None = None
    verify_ref: str | None = None
    query_param: str | None = None
    subprotocol_prefix: str | None = None
    allowed_origins: frozenset[Origin] | None = None
    allow_self: bool = False
    exempt: frozenset[str] = frozenset()


def parse_config(section: Mapping[str, Any]) -> AuthConfig:
    """Return the checked configuration from the plugin's (resolved) config section.

    Raises:
        AuthConfigError: The section is empty or has neither ``tokens`` nor
            ``verify`` (the plugin fails closed), has an unknown key, or a value
            of the wrong shape. Messages never include a token.
    """
    unknown = sorted(set(section) - set(_KEYS))
    if unknown:
        raise AuthConfigError(
            f"{_WHERE} has unknown key(s) {', '.join(map(repr, unknown))}; the valid keys are "
            f"{', '.join(map(repr, _KEYS))}. Remove the key or fix its spelling."
        )
    tokens = _tokens(section.get("tokens"))
    verify_ref = section.get("verify")
    if not tokens and verify_ref is None:
        raise AuthConfigError(
            f"The {PLUGIN_NAME} plugin is loaded but has no credentials to check: {_WHERE} "
            f"needs 'tokens' (name -> token) or 'verify' ('module:callable'), found "
            f"{sorted(section) or 'no config'}. It refuses to start rather than let every "
            f"request through. {_HOW_TO_CONFIGURE}"
        )
    origins, allow_self = _origins(section.get("allowed_origins"))
    return AuthConfig(
        tokens=TokenTable(tokens),
        verify=_verify(verify_ref) if verify_ref is not None else None,
        verify_ref=verify_ref,
        query_param=_name(section.get("query_param"), "query_param", "access_token"),
        subprotocol_prefix=_prefix(section.get("subprotocol_prefix")),
        allowed_origins=origins,
        allow_self=allow_self,
        exempt=_exempt(section.get("exempt")),
    )


def _tokens(raw: object) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise AuthConfigError(
            f"{_WHERE}['tokens'] must map names to tokens, found {type(raw).__name__}; write "
            '"tokens": {"alice": {"$env": "ALICE_TOKEN"}}.'
        )
    tokens: dict[str, str] = {}
    seen: dict[str, str] = {}
    for name, token in raw.items():
        where = f"{_WHERE}['tokens'][{name!r}]"
        if not isinstance(name, str) or not name:
            raise AuthConfigError(
                f"{_WHERE}['tokens'] has the key {name!r}; names are non-empty strings."
            )
        if not isinstance(token, str):
            raise AuthConfigError(
                f"{where} must be a string (or a {{'$env': ...}} / {{'$file': ...}} reference "
                f"to one), found {type(token).__name__}."
            )
        if not token:
            raise AuthConfigError(
                f"{where} is empty; an empty token would let any request with an empty "
                "credential in. Give a long random token (python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))')."
            )
        if len(token) > MAX_TOKEN_LENGTH or not _TOKEN_CHARS.fullmatch(token):
            raise AuthConfigError(
                f"{where} must be 1 to {MAX_TOKEN_LENGTH} printable ASCII characters without "
                "spaces (check a $file reference for stray whitespace; one trailing newline "
                "is stripped)."
            )
        if token in seen:
            raise AuthConfigError(
                f"{where} is the same token as {_WHERE}['tokens'][{seen[token]!r}]; each name "
                "needs its own token, or the identity of a request would be ambiguous."
            )
        seen[token] = name
        tokens[name] = token
    return tokens


def _verify(ref: object) -> Verify:
    if not isinstance(ref, str) or ":" not in ref:
        raise AuthConfigError(
            f"{_WHERE}['verify'] must be a 'module:callable' string such as "
            f"'myapp.auth:verify', found {ref!r}."
        )
    module_name, _, attr = ref.partition(":")
    try:
        target: object = importlib.import_module(module_name)
        for part in attr.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise AuthConfigError(
            f"{_WHERE}['verify'] is {ref!r}, which cannot be imported: {exc!r}. Check the "
            "module is importable from the app's working directory and defines the callable."
        ) from exc
    if not callable(target):
        raise AuthConfigError(
            f"{_WHERE}['verify'] {ref!r} is a {type(target).__name__}, not a callable; it "
            "must be def verify(token, req) or async def verify(token, req)."
        )
    return target


def _name(raw: object, key: str, example: str) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw:
        raise AuthConfigError(
            f"{_WHERE}[{key!r}] must be a non-empty string such as {example!r}, found {raw!r}."
        )
    return raw


def _prefix(raw: object) -> str | None:
    prefix = _name(raw, "subprotocol_prefix", "bearer.")
    if prefix is not None and not _TCHARS.fullmatch(prefix):
        raise AuthConfigError(
            f"{_WHERE}['subprotocol_prefix'] is {prefix!r}, but a Sec-WebSocket-Protocol entry "
            "may only hold letters, digits and !#$%&'*+-.^_`|~ (no spaces, '/', '=' or ','); "
            "use a prefix such as 'bearer.'."
        )
    return prefix


def _strings(raw: object, key: str, example: str) -> list[str]:
    if isinstance(raw, str) or not isinstance(raw, Sequence):
        raise AuthConfigError(
            f"{_WHERE}[{key!r}] must be a list of strings such as [{example!r}], found {raw!r}."
        )
    for item in raw:
        if not isinstance(item, str):
            raise AuthConfigError(
                f"{_WHERE}[{key!r}] must hold strings such as {example!r}, found {item!r}."
            )
    return list(raw)


def _origins(raw: object) -> tuple[frozenset[Origin] | None, bool]:
    """Return the listed origins and whether ``"self"`` was among them."""
    if raw is None:
        return None, False
    origins: set[Origin] = set()
    allow_self = False
    for text in _strings(raw, "allowed_origins", "https://app.example"):
        if text == SELF:
            allow_self = True
            continue
        if text in ("*", "null"):
            raise AuthConfigError(
                f"{_WHERE}['allowed_origins'] holds {text!r}, which is not allowed: to accept "
                "handshakes from any origin leave 'allowed_origins' out; 'null' is the opaque "
                "origin of sandboxed pages and can be sent by any site."
            )
        try:
            origins.add(parse_origin(text))
        except ValueError as exc:
            hint = " (the page's own origin is written 'self')" if text.lower() == SELF else ""
            raise AuthConfigError(
                f"{_WHERE}['allowed_origins'] holds {text!r}, which is not an origin ({exc}); "
                "write scheme://host or scheme://host:port, such as 'https://app.example' or "
                f"'http://localhost:8000', with no path or trailing slash, or 'self' for the "
                f"origin the request was sent to{hint}."
            ) from None
    return frozenset(origins), allow_self


def _exempt(raw: object) -> frozenset[str]:
    if raw is None:
        return frozenset()
    paths = _strings(raw, "exempt", "/health")
    for path in paths:
        if not path.startswith("/"):
            raise AuthConfigError(
                f"{_WHERE}['exempt'] holds {path!r}; exempt entries are exact paths starting "
                "with '/', such as '/health'."
            )
    return frozenset(paths)
