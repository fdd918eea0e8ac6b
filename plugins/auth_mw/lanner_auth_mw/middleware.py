"""The authentication middleware for HTTP requests and WebSocket handshakes."""

from __future__ import annotations

import inspect
import logging
from typing import Any, Final

from lanner import HTTPForbidden, HTTPUnauthorized, Request, Response, WebSocket
from lanner_auth_mw._config import AuthConfig
from lanner_auth_mw._origins import parse_origin
from lanner_auth_mw._tokens import MAX_TOKEN_LENGTH

__all__ = ["REALM", "AuthMiddleware"]

REALM: Final = "lanner"
"""The realm named in the ``WWW-Authenticate`` challenge."""

logger = logging.getLogger("lanner_auth_mw")

_CHALLENGE: Final = f'Bearer realm="{REALM}"'
_INVALID_CHALLENGE: Final = f'Bearer realm="{REALM}", error="invalid_token"'


class _Refused(Exception):
    """Why a request is refused: no credential at all, or a bad one."""

    def __init__(self, reason: str, *, missing: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.missing = missing


class AuthMiddleware:
    """Lets a request or WebSocket handshake through only with a valid credential.

    A credential is a token, taken from the first of these the request has:
    the ``Authorization: Bearer <token>`` header; then, for WebSocket
    handshakes and if ``subprotocol_prefix`` is set, a ``Sec-WebSocket-Protocol``
    entry ``<prefix><token>``; then, if ``query_param`` is set, that query
    parameter. The token is looked up in ``tokens`` (in constant time), then
    passed to ``verify``. The identity (the token's name, or what ``verify``
    returned) is stored in ``req.context.auth``; exempt paths and CORS
    preflights get ``None`` there.

    Refusals: an HTTP request gets 401 with ``WWW-Authenticate: Bearer``; a
    WebSocket handshake is closed before it is accepted (the client gets HTTP
    403, and the responder never runs), also when its ``Origin`` is not in
    ``allowed_origins``.

    Args:
        config: The checked plugin configuration.
    """

    __slots__ = ("_config", "_exempt", "_origins", "_prefix", "_query_param", "_tokens", "_verify")

    def __init__(self, config: AuthConfig) -> None:
        self._config = config
        self._tokens = config.tokens
        self._verify = config.verify
        self._query_param = config.query_param
        self._prefix = config.subprotocol_prefix
        self._origins = config.allowed_origins
        self._exempt = config.exempt

    def __repr__(self) -> str:
        return f"<AuthMiddleware {len(self._tokens)} tokens, verify={self._config.verify_ref}>"

    async def process_request(self, req: Request, resp: Response) -> None:
        """Check an HTTP request's credential; raise 401 without a valid one.

        Raises:
            lanner.HTTPUnauthorized: No credential, or an invalid one.
        """
        if req.path in self._exempt or (
            req.method == "OPTIONS" and "access-control-request-method" in req.headers
        ):
            req.context.auth = None
            return
        try:
            req.context.auth = await self._authenticate(self._credential(req, None), req)
        except _Refused as refused:
            raise HTTPUnauthorized(
                description=self._describe_http(refused),
                challenges=[_CHALLENGE if refused.missing else _INVALID_CHALLENGE],
            ) from None

    async def process_request_ws(self, req: Request, ws: WebSocket) -> None:
        """Check a WebSocket handshake's Origin and credential before it is accepted.

        A ``Sec-WebSocket-Protocol`` entry that starts with the configured
        prefix is removed from ``ws.subprotocols`` whatever happens next, so
        the app never selects (and echoes) a token by accident.

        Raises:
            lanner.HTTPForbidden: The Origin is not allowed, or the credential
                is missing or invalid; lanner then refuses the handshake.
        """
        offered = self._take_subprotocol_token(ws)
        try:
            self._check_origin(req)
            if req.path in self._exempt:
                req.context.auth = None
                return
            req.context.auth = await self._authenticate(self._credential(req, offered), req)
        except _Refused as refused:
            logger.debug("Refused WebSocket handshake on %s: %s", req.path, refused.reason)
            raise HTTPForbidden(
                description=f"WebSocket handshake refused: {refused.reason}."
            ) from None

    # -- credentials -------------------------------------------------------------

    def _credential(self, req: Request, offered: str | None) -> str:
        """Return the first credential present: bearer header, subprotocol entry, query.

        Only that one is judged; a later source is never tried after a bad one.

        Args:
            offered: The token taken from a ``Sec-WebSocket-Protocol`` entry, or
                ``None`` (always ``None`` for plain HTTP).

        Raises:
            _Refused: No source carries a credential, or one is malformed.
        """
        token = self._bearer(req)
        if token is None:
            token = offered
        if token is None:
            token = self._query(req)
        if token is None:
            raise _Refused("no credential", missing=True)
        return token

    def _bearer(self, req: Request) -> str | None:
        header = req.headers.get("authorization")
        if header is None:
            return None
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer":
            return None  # another scheme: not ours to judge
        token = token.strip()
        if not token:
            raise _Refused("an empty bearer token", missing=False)
        return token

    def _query(self, req: Request) -> str | None:
        name = self._query_param
        if name is None:
            return None
        values = req.params.get(name)
        if values is None:
            return None
        if len(values) != 1 or not values[0]:
            raise _Refused(f"the {name!r} query parameter must be given once", missing=False)
        return values[0]

    def _take_subprotocol_token(self, ws: WebSocket) -> str | None:
        prefix = self._prefix
        if prefix is None:
            return None
        offered = ws.subprotocols
        carrying = [p for p in offered if p.startswith(prefix)]
        if not carrying:
            return None
        ws.subprotocols = tuple(p for p in offered if not p.startswith(prefix))
        return carrying[0][len(prefix) :]

    def _check_origin(self, req: Request) -> None:
        allowed = self._origins
        if allowed is None:
            return
        origin = req.headers.get("origin")
        if origin is None:
            return  # not a browser: judged on its credential alone
        try:
            parsed = parse_origin(origin)
        except ValueError as exc:
            raise _Refused(f"Origin {origin!r} is not allowed: {exc}", missing=False) from None
        if parsed not in allowed:
            raise _Refused(f"Origin {origin!r} is not in allowed_origins", missing=False)

    async def _authenticate(self, token: str, req: Request) -> Any:
        if not token:
            raise _Refused("an empty token", missing=False)
        if len(token) > MAX_TOKEN_LENGTH:
            raise _Refused("a token longer than any accepted", missing=False)
        name = self._tokens.lookup(token)
        if name is not None:
            return name
        verify = self._verify
        if verify is not None:
            identity = verify(token, req)
            if inspect.isawaitable(identity):
                identity = await identity
            if identity is not None and identity is not False:
                return identity
        raise _Refused("an invalid token", missing=False)

    def _describe_http(self, refused: _Refused) -> str:
        if not refused.missing:
            return f"The request was refused: {refused.reason}."
        where = "an 'Authorization: Bearer <token>' header"
        if self._query_param is not None:
            where += f" or the '{self._query_param}' query parameter"
        return f"This resource needs a credential: send {where}."
