"""The authentication middleware for HTTP requests and WebSocket handshakes."""

from __future__ import annotations

import inspect
import logging
from typing import Any, Final

from lanner import HTTPForbidden, HTTPUnauthorized, Request, Response, WebSocket
from lanner_auth_mw import _cors
from lanner_auth_mw._config import AuthConfig
from lanner_auth_mw._origins import SELF, parse_origin, request_origin
from lanner_auth_mw._tokens import MAX_TOKEN_LENGTH

__all__ = ["REALM", "AuthMiddleware"]

REALM: Final = "lanner"
"""The realm named in the ``WWW-Authenticate`` challenge."""

logger = logging.getLogger("uvicorn.error.auth_mw")
"""Where refusals are logged: a child of uvicorn's error logger, so that
``lanner serve`` shows them (at INFO for a refused origin, DEBUG otherwise)
with no logging set up by the app; other servers propagate it to the root."""

_MAX_LOGGED_ORIGIN: Final = 200

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
    returned) is stored in ``req.context.auth``; exempt paths get ``None``
    there.

    Refusals: an HTTP request gets 401 with ``WWW-Authenticate: Bearer``; a
    WebSocket handshake is closed before it is accepted (the client gets HTTP
    403, and the responder never runs), also when its ``Origin`` is not in
    ``allowed_origins``.

    CORS preflights (``OPTIONS`` with ``Access-Control-Request-Method``), which
    browsers send without credentials, are answered here: 204 with no body,
    and the ``Access-Control-Allow-*`` headers only for an allowed origin. No
    responder, sink or app middleware runs for them. Responses to requests
    from an allowed origin carry ``Access-Control-Allow-Origin`` too.

    Args:
        config: The checked plugin configuration.
    """

    __slots__ = (
        "_allow_self",
        "_config",
        "_exempt",
        "_origins",
        "_prefix",
        "_query_param",
        "_tokens",
        "_verify",
    )

    def __init__(self, config: AuthConfig) -> None:
        self._config = config
        self._tokens = config.tokens
        self._verify = config.verify
        self._query_param = config.query_param
        self._prefix = config.subprotocol_prefix
        self._origins = config.allowed_origins
        self._allow_self = config.allow_self
        self._exempt = config.exempt

    def __repr__(self) -> str:
        return f"<AuthMiddleware {len(self._tokens)} tokens, verify={self._config.verify_ref}>"

    async def process_request(self, req: Request, resp: Response) -> None:
        """Check an HTTP request's credential; raise 401 without a valid one.

        Raises:
            lanner.HTTPUnauthorized: No credential, or an invalid one.
        """
        if _cors.is_preflight(req.method, req.headers):
            self._answer_preflight(req, resp)
            return
        if req.path in self._exempt:
            req.context.auth = None
            return
        try:
            req.context.auth = await self._authenticate(self._credential(req, None), req)
        except _Refused as refused:
            raise HTTPUnauthorized(
                description=self._describe_http(refused),
                challenges=[_CHALLENGE if refused.missing else _INVALID_CHALLENGE],
            ) from None

    async def process_response(
        self, req: Request, resp: Response, resource: object, req_succeeded: bool
    ) -> None:
        """Let an allowed origin's page read the response (``Access-Control-Allow-Origin``)."""
        headers = req.headers
        origin = headers.get("origin")
        if origin is None or _cors.is_preflight(req.method, headers):
            return  # no page to allow, or answered by _answer_preflight
        resp.append_header("Vary", "Origin")
        if self._cors_refusal(req, origin) is None:
            resp.set_header("Access-Control-Allow-Origin", origin)

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
            logger.debug("Refused WebSocket handshake on %.200r: %s", req.path, refused.reason)
            raise HTTPForbidden(
                description=f"WebSocket handshake refused: {refused.reason}."
            ) from None

    # -- CORS preflights ---------------------------------------------------------

    def _answer_preflight(self, req: Request, resp: Response) -> None:
        """Answer a CORS preflight: 204, no body, the CORS headers if it is allowed."""
        resp.complete = True
        resp.status = 204
        resp.set_header("Vary", _cors.PREFLIGHT_VARY)
        req.context.auth = None
        headers = req.headers
        origin = headers.get("origin")
        if origin is None:
            return  # not from a browser page: nothing to allow
        refusal = self._cors_refusal(req, origin)
        if refusal is not None:
            self._log_origin_refusal("CORS preflight", req, origin, refusal)
            return
        method = _cors.requested_method(headers["access-control-request-method"])
        asked = _cors.requested_headers(headers.get("access-control-request-headers"))
        if method is None or asked is None:
            logger.info(
                "Refused CORS preflight for %.200r from %s: it asked for method %.40r and "
                "headers %.200r; allowed are the methods %s and up to 32 header names.",
                req.path,
                origin,
                headers["access-control-request-method"],
                headers.get("access-control-request-headers", ""),
                ", ".join(sorted(_cors.METHODS)),
            )
            return
        resp.set_header("Access-Control-Allow-Origin", origin)
        resp.set_header("Access-Control-Allow-Methods", method)
        if asked:
            resp.set_header("Access-Control-Allow-Headers", asked)
        resp.set_header("Access-Control-Max-Age", str(_cors.MAX_AGE))

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
        origin = req.headers.get("origin")
        if origin is None:
            return  # not a browser: judged on its credential alone
        refusal = self._origin_refusal(req, origin)
        if refusal is not None:
            self._log_origin_refusal("WebSocket handshake", req, origin, refusal)
            shown = origin[:_MAX_LOGGED_ORIGIN]
            raise _Refused(f"Origin {shown!r} {refusal}", missing=False)

    def _origin_refusal(self, req: Request, origin: str) -> str | None:
        """Return why ``origin`` is not allowed for ``req``, or ``None`` if it is."""
        allowed = self._origins
        if allowed is None:
            return None
        try:
            parsed = parse_origin(origin)
        except ValueError as exc:
            return f"is not allowed: {exc}"
        if parsed in allowed:
            return None
        if self._allow_self and parsed == request_origin(req.scheme, req.get_header("host")):
            return None
        return "is not in allowed_origins"

    def _cors_refusal(self, req: Request, origin: str) -> str | None:
        """Like :meth:`_origin_refusal`, but only a well-formed origin may be echoed."""
        try:
            parse_origin(origin)
        except ValueError as exc:
            return f"is not allowed: {exc}"
        return self._origin_refusal(req, origin)

    def _log_origin_refusal(self, what: str, req: Request, origin: str, reason: str) -> None:
        """Say at INFO which origin was refused and what is allowed (origins are not secret)."""
        allowed = sorted(_serialise(o) for o in self._origins or ())
        if self._allow_self:
            own = request_origin(req.scheme, req.get_header("host"))
            allowed.insert(0, f"{SELF} ({_serialise(own) if own else 'no usable Host header'})")
        logger.info(
            "Refused %s on %.200r: Origin %.200r %s; allowed_origins is [%s].",
            what,
            req.path,
            origin,
            reason[:300],
            ", ".join(allowed),
        )

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


def _serialise(origin: tuple[str, str, int | None]) -> str:
    scheme, host, port = origin
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" if port is None else f"{scheme}://{host}:{port}"
