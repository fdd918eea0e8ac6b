"""auth_mw keeps its query-parameter token out of uvicorn's log records."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

import lanner_auth_mw
from lanner import App
from lanner_auth_mw import MASK, QueryParamRedactor, install_redaction

SECRET = "SECRET-4b1d9e"


@pytest.fixture
def redactor() -> QueryParamRedactor:
    return QueryParamRedactor(["access_token"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"/ws?access_token={SECRET}", "/ws?access_token=***"),
        (f"/ws?a=1&access_token={SECRET}&b=2", "/ws?a=1&access_token=***&b=2"),
        (f'"WebSocket /ws?access_token={SECRET}" 403', '"WebSocket /ws?access_token=***" 403'),
        (f"/ws?access%5Ftoken={SECRET}", "/ws?access%5Ftoken=***"),
        (f"/ws?access_token={SECRET}#frag", "/ws?access_token=***#frag"),
        ("/ws?access_token=", "/ws?access_token=***"),
        (f"/ws?xaccess_token={SECRET}", f"/ws?xaccess_token={SECRET}"),
        (f"/ws?access_token_2={SECRET}", f"/ws?access_token_2={SECRET}"),
        (f"/ws?other={SECRET}", f"/ws?other={SECRET}"),
        ("no query here", "no query here"),
    ],
)
def test_redact(redactor: QueryParamRedactor, text: str, expected: str) -> None:
    assert redactor.redact(text) == expected


def test_filter_rewrites_args_keeping_their_shape(redactor: QueryParamRedactor) -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/me?access_token={SECRET}", "1.1", 200),
        None,
    )
    assert redactor.filter(record) is True
    assert record.args == ("127.0.0.1:5000", "GET", "/me?access_token=***", "1.1", 200)
    assert SECRET not in record.getMessage()


def test_filter_rewrites_mapping_args_and_the_message(redactor: QueryParamRedactor) -> None:
    record = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        "%(path)s",
        ({"path": f"/?access_token={SECRET}"},),
        None,
    )
    redactor.filter(record)
    assert record.getMessage() == "/?access_token=***"
    record = logging.LogRecord(
        "uvicorn.error", logging.INFO, __file__, 1, f"GET /?access_token={SECRET}", None, None
    )
    redactor.filter(record)
    assert record.getMessage() == "GET /?access_token=***"


@pytest.fixture
def uvicorn_output() -> Iterator[io.StringIO]:
    """Capture what uvicorn's error and access loggers print, through a real handler."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    loggers = [logging.getLogger("uvicorn.error"), logging.getLogger("uvicorn.access")]
    saved = [(lg.level, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)
        lg.propagate = False
    try:
        yield stream
    finally:
        for lg, (level, propagate) in zip(loggers, saved, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)
            lg.propagate = propagate


def test_building_an_app_installs_the_filter_on_uvicorns_loggers(
    uvicorn_output: io.StringIO,
) -> None:
    App(
        autoload_plugins=False,
        plugins=[lanner_auth_mw],
        plugin_config={"auth_mw": {"tokens": {"alice": SECRET}, "query_param": "access_token"}},
    )
    logging.getLogger("uvicorn.error").info(
        '%s - "WebSocket %s" [accepted]', "127.0.0.1:5000", f"/ws?access_token={SECRET}"
    )
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", f"/me?access_token={SECRET}", "1.1", 200
    )
    output = uvicorn_output.getvalue()
    assert SECRET not in output
    assert output.count(f"access_token={MASK}") == 2


def test_installing_is_idempotent() -> None:
    for _ in range(3):
        App(
            autoload_plugins=False,
            plugins=[lanner_auth_mw],
            plugin_config={"auth_mw": {"tokens": {"alice": SECRET}, "query_param": "token"}},
        )
    install_redaction("token")
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        filters = [f for f in logging.getLogger(name).filters if isinstance(f, QueryParamRedactor)]
        assert len(filters) == 1, name
        assert "token" in filters[0].names
