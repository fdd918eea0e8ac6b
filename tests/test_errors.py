"""Tests for HTTP errors: the HTTPError family, error handlers and unhandled exceptions."""

from __future__ import annotations

import http
import logging
import pickle
from typing import Any

import pytest

import lanner
from lanner.testing import ASGIConductor
from lanner.testing._http import Result


class Raiser:
    """Raises whatever the test put in ``error`` (from GET, with a URI field)."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    async def on_get(self, req: lanner.Request, resp: lanner.Response, key: str) -> None:
        resp.set_header("X-Partial", "set before the error")
        raise self.error


async def raise_from_responder(error: BaseException, app: lanner.App | None = None) -> Result:
    app = app or lanner.App()
    app.add_route("/raise/{key}", Raiser(error))
    async with ASGIConductor(app) as conductor:
        return await conductor.simulate_get("/raise/k1")


def lanner_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "lanner"]


# --- the HTTPError family -------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "status", "title"),
    [
        (lanner.HTTPBadRequest, 400, "Bad Request"),
        (lanner.HTTPForbidden, 403, "Forbidden"),
        (lanner.HTTPNotFound, 404, "Not Found"),
        (lanner.HTTPRouteNotFound, 404, "Not Found"),
        (lanner.HTTPNotAcceptable, 406, "Not Acceptable"),
        (lanner.HTTPConflict, 409, "Conflict"),
        (lanner.HTTPGone, 410, "Gone"),
        (lanner.HTTPContentTooLarge, 413, "Content Too Large"),
        (lanner.HTTPPayloadTooLarge, 413, "Content Too Large"),
        (lanner.HTTPUnsupportedMediaType, 415, "Unsupported Media Type"),
        (lanner.HTTPUnprocessableEntity, 422, "Unprocessable Content"),
        (lanner.HTTPTooManyRequests, 429, "Too Many Requests"),
        (lanner.HTTPInternalServerError, 500, "Internal Server Error"),
        (lanner.HTTPNotImplemented, 501, "Not Implemented"),
        (lanner.HTTPServiceUnavailable, 503, "Service Unavailable"),
    ],
)
async def test_family_status_and_json_body(
    cls: type[lanner.HTTPError], status: int, title: str
) -> None:
    bare = await raise_from_responder(cls())
    assert bare.status_code == status
    assert bare.headers["content-type"] == "application/json"
    assert bare.json == {"title": title}
    described = await raise_from_responder(cls(title="Custom", description="Why it failed."))
    assert described.status_code == status
    assert described.json == {"title": "Custom", "description": "Why it failed."}


async def test_unauthorized_challenges_become_www_authenticate() -> None:
    error = lanner.HTTPUnauthorized(
        description="Log in first.", challenges=['Bearer realm="api"', "Basic"]
    )
    result = await raise_from_responder(error)
    assert result.status_code == 401
    assert result.headers["www-authenticate"] == 'Bearer realm="api", Basic'
    assert result.json == {"title": "Unauthorized", "description": "Log in first."}


async def test_method_not_allowed_carries_allow() -> None:
    error = lanner.HTTPMethodNotAllowed(["GET", "POST"], headers={"X-Extra": "1"})
    assert error.allowed_methods == ("GET", "POST")
    result = await raise_from_responder(error)
    assert result.status_code == 405
    assert result.headers["allow"] == "GET, POST"
    assert result.headers["x-extra"] == "1"


@pytest.mark.parametrize("status", [418, http.HTTPStatus.IM_A_TEAPOT])
async def test_generic_http_error_with_headers(status: int | http.HTTPStatus) -> None:
    error = lanner.HTTPError(status, description="Short and stout.", headers={"Retry-After": "5"})
    assert error.status == 418
    result = await raise_from_responder(error)
    assert result.status_code == 418
    assert result.headers["retry-after"] == "5"
    assert result.json == {"title": "I'm a Teapot", "description": "Short and stout."}


async def test_http_error_with_a_non_standard_status() -> None:
    result = await raise_from_responder(lanner.HTTPError(599))
    assert result.status_code == 599
    assert result.json == {"title": "HTTP 599"}


def test_http_error_message_and_to_dict() -> None:
    error = lanner.HTTPNotFound(description="No such user.")
    assert str(error) == "404 Not Found: No such user."
    assert error.to_dict() == {"title": "Not Found", "description": "No such user."}
    assert isinstance(lanner.HTTPRouteNotFound(), lanner.HTTPNotFound)
    assert isinstance(lanner.MediaMalformedError("application/json"), lanner.HTTPBadRequest)


async def test_http_error_raised_in_middleware_is_rendered() -> None:
    class Guard:
        async def process_request(self, req: lanner.Request, resp: lanner.Response) -> None:
            raise lanner.HTTPForbidden(description="Nope.")

    app = lanner.App(middleware=Guard())
    result = await raise_from_responder(RuntimeError("never reached"), app)
    assert result.status_code == 403
    assert result.json == {"title": "Forbidden", "description": "Nope."}


# --- unhandled exceptions ----------------------------------------------------------------


async def test_unhandled_exception_is_500_logged_once_without_leaking(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class HalfWritten:
        async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
            resp.text = "half-written body"
            raise KeyError("db-password-hunter2")

    app = lanner.App()
    app.add_route("/raise/k1", HalfWritten())
    with caplog.at_level(logging.DEBUG, logger="lanner"):
        async with ASGIConductor(app) as conductor:
            result = await conductor.simulate_get("/raise/k1")
    assert result.status_code == 500
    assert result.headers["content-type"] == "application/json"
    assert result.json == {"title": "Internal Server Error"}
    assert "hunter2" not in result.text
    assert "KeyError" not in result.text
    records = lanner_records(caplog)
    assert len(records) == 1
    (record,) = records
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], KeyError)
    assert "GET /raise/k1" in record.getMessage()


async def test_exception_in_process_response_is_500_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken:
        async def process_response(
            self, req: lanner.Request, resp: lanner.Response, resource: object, ok: bool
        ) -> None:
            raise ValueError("secret detail")

    class Fine:
        async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
            resp.media = {"ok": True}

    app = lanner.App(middleware=Broken())
    app.add_route("/", Fine())
    with caplog.at_level(logging.DEBUG, logger="lanner"):
        async with ASGIConductor(app) as conductor:
            result = await conductor.simulate_get("/")
    assert result.status_code == 500
    assert result.json == {"title": "Internal Server Error"}
    assert len(lanner_records(caplog)) == 1


# --- error handlers --------------------------------------------------------------------


class AppError(Exception):
    pass


class NotFoundInDb(AppError, LookupError):
    pass


class VeryMissing(NotFoundInDb):
    pass


def make_handler(tag: str, calls: list[tuple[str, str]]) -> Any:
    async def handler(
        req: lanner.Request, resp: lanner.Response, ex: Exception, params: dict[str, Any]
    ) -> None:
        calls.append((tag, type(ex).__name__))
        resp.status = 409
        resp.media = {"handled_by": tag, "params": params}

    return handler


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (AppError("x"), "app"),
        (NotFoundInDb("x"), "db"),
        (VeryMissing("x"), "db"),  # no handler of its own: its nearest base wins
        (KeyError("x"), "lookup"),
        (LookupError("x"), "lookup"),
    ],
)
async def test_most_specific_handler_by_mro_wins(error: Exception, expected: str) -> None:
    calls: list[tuple[str, str]] = []
    app = lanner.App()
    # Added from most general to most specific and back, so order cannot decide.
    app.add_error_handler(LookupError, make_handler("lookup", calls))
    app.add_error_handler(NotFoundInDb, make_handler("db", calls))
    app.add_error_handler(AppError, make_handler("app", calls))
    result = await raise_from_responder(error, app)
    assert result.status_code == 409
    assert result.json == {"handled_by": expected, "params": {"key": "k1"}}
    assert calls == [(expected, type(error).__name__)]


async def test_handler_for_several_classes_and_replacing_a_handler() -> None:
    calls: list[tuple[str, str]] = []
    app = lanner.App()
    app.add_error_handler([KeyError, IndexError], make_handler("first", calls))
    app.add_error_handler(IndexError, make_handler("second", calls))
    assert (await raise_from_responder(KeyError(), app)).json["handled_by"] == "first"
    app2 = lanner.App()
    app2.add_error_handler([KeyError, IndexError], make_handler("first", calls))
    app2.add_error_handler(IndexError, make_handler("second", calls))
    assert (await raise_from_responder(IndexError(), app2)).json["handled_by"] == "second"


async def test_app_handler_for_http_error_replaces_the_default_rendering() -> None:
    async def plain(
        req: lanner.Request, resp: lanner.Response, ex: lanner.HTTPError, params: dict[str, Any]
    ) -> None:
        resp.status = ex.status
        resp.text = f"{ex.status}: {ex.title}"

    app = lanner.App()
    app.add_error_handler(lanner.HTTPError, plain)
    result = await raise_from_responder(lanner.HTTPNotFound(), app)
    assert result.status_code == 404
    assert result.text == "404: Not Found"
    async with ASGIConductor(app) as conductor:
        missing = await conductor.simulate_get("/no/such/route")
    assert missing.text == "404: Not Found"


async def test_handler_with_ws_parameter_gets_none_for_http() -> None:
    seen: list[object] = []

    async def handler(
        req: lanner.Request,
        resp: lanner.Response,
        ex: Exception,
        params: dict[str, Any],
        *,
        ws: object = "unset",
    ) -> None:
        seen.append(ws)
        resp.status = 400

    app = lanner.App()
    app.add_error_handler(AppError, handler)
    result = await raise_from_responder(AppError(), app)
    assert result.status_code == 400
    assert seen == [None]


async def test_handler_raising_an_http_error_renders_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def translate(
        req: lanner.Request, resp: lanner.Response, ex: Exception, params: dict[str, Any]
    ) -> None:
        raise lanner.HTTPNotFound(description=f"No item {params['key']}.")

    app = lanner.App()
    app.add_error_handler(LookupError, translate)
    with caplog.at_level(logging.DEBUG, logger="lanner"):
        result = await raise_from_responder(KeyError("k1"), app)
    assert result.status_code == 404
    assert result.json == {"title": "Not Found", "description": "No item k1."}
    assert lanner_records(caplog) == []


async def test_handler_raising_something_else_is_500_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(
        req: lanner.Request, resp: lanner.Response, ex: Exception, params: dict[str, Any]
    ) -> None:
        resp.text = "partial"
        raise RuntimeError("handler bug with secret-token")

    app = lanner.App()
    app.add_error_handler(AppError, broken)
    with caplog.at_level(logging.DEBUG, logger="lanner"):
        result = await raise_from_responder(AppError("original"), app)
    assert result.status_code == 500
    assert result.json == {"title": "Internal Server Error"}
    assert "secret-token" not in result.text
    records = lanner_records(caplog)
    assert len(records) == 1
    assert records[0].levelno == logging.ERROR
    assert records[0].exc_info is not None
    assert isinstance(records[0].exc_info[1], RuntimeError)


def test_sync_error_handler_is_refused() -> None:
    def sync(req: Any, resp: Any, ex: Any, params: Any) -> None:
        pass

    app = lanner.App()
    with pytest.raises(TypeError, match="must be a coroutine function"):
        app.add_error_handler(AppError, sync)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [ValueError("instance"), int, "KeyError"])
def test_error_handler_for_a_non_exception_is_refused(bad: Any) -> None:
    async def handler(req: Any, resp: Any, ex: Any, params: Any) -> None:
        pass

    app = lanner.App()
    with pytest.raises(TypeError, match="takes an exception class or an iterable of them"):
        app.add_error_handler(bad, handler)


def test_error_handler_list_with_a_bad_entry_registers_nothing() -> None:
    async def handler(req: Any, resp: Any, ex: Any, params: Any) -> None:
        pass

    app = lanner.App()
    with pytest.raises(TypeError, match="got 'oops'"):
        app.add_error_handler([AppError, "oops"], handler)  # type: ignore[list-item]
    assert AppError not in app.error_handlers


def test_websocket_disconnected_reads_well_and_survives_pickling() -> None:
    """Its message is built when shown, so it must still say the code and reason."""
    exc = lanner.WebSocketDisconnected(1001, "going away")
    assert str(exc) == "WebSocket connection closed with code 1001 (going away)"
    assert repr(exc) == "WebSocketDisconnected(1001, 'going away')"
    assert str(lanner.WebSocketDisconnected()) == "WebSocket connection closed with code 1000"
    copy = pickle.loads(pickle.dumps(lanner.WebSocketPathNotFound(3404)))
    assert (type(copy), copy.code, copy.reason) == (lanner.WebSocketPathNotFound, 3404, None)
