"""auth_mw keeps its credentials out of uvicorn's log records, at every level.

Header, subprotocol and query-parameter credentials are masked in messages and
arguments, including uvicorn's debug header dumps and trace scope dumps (see
tests/e2e/test_log_hygiene_e2e.py for the whole server output).
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import pytest

import lanner_auth_mw
from lanner import App
from lanner_auth_mw import MASK, QueryParamRedactor, install_redaction
from lanner_auth_mw.redaction import LOGGERS, SecretRedactor

SECRET = "SECRET-4b1d9e"


@pytest.fixture
def redactor() -> SecretRedactor:
    return SecretRedactor(["access_token"], ["bearer."])


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
        (f"'query_string': b'access_token={SECRET}'", "'query_string': b'access_token=***'"),
        (f"< authorization: Bearer {SECRET}", "< authorization: Bearer ***"),
        (f"Authorization: {SECRET}", "Authorization: ***"),
        (f"Proxy-Authorization: Basic {SECRET}", "Proxy-Authorization: Basic ***"),
        (f"(b'authorization', b'Bearer {SECRET}')", "(b'authorization', b'Bearer ***')"),
        (
            f"< sec-websocket-protocol: chat.v1, bearer.{SECRET}",
            "< sec-websocket-protocol: chat.v1, bearer.***",
        ),
        (
            f"'subprotocols': ['chat.v1', 'bearer.{SECRET}'], 'state': {{}}",
            "'subprotocols': ['chat.v1', 'bearer.***'], 'state': {}",
        ),
        (f"'subprotocols': [\"bearer.{SECRET}'x\"]", "'subprotocols': [\"bearer.***\"]"),
        ("chat.v1, bearer", "chat.v1, bearer"),
    ],
)
def test_redact(redactor: SecretRedactor, text: str, expected: str) -> None:
    assert redactor.redact(text) == expected


def test_filter_rewrites_args_keeping_their_shape(redactor: SecretRedactor) -> None:
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


def test_filter_rewrites_mapping_args_and_the_message(redactor: SecretRedactor) -> None:
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


def test_secrets_split_across_arguments_are_masked_in_the_formatted_message(
    redactor: SecretRedactor,
) -> None:
    # websockets' debug header dump: the name and the value are two arguments.
    record = logging.LogRecord(
        "uvicorn.error", logging.DEBUG, __file__, 1, "< %s: %s", ("Authorization", SECRET), None
    )
    redactor.filter(record)
    assert record.getMessage() == "< Authorization: ***"


def test_non_string_arguments_such_as_a_dumped_scope_are_masked(redactor: SecretRedactor) -> None:
    scope = {
        "type": "websocket",
        "query_string": f"a=1&access_token={SECRET}".encode(),
        "subprotocols": ["chat.v1", f"bearer.{SECRET}"],
    }
    record = logging.LogRecord(
        "uvicorn.asgi", 5, __file__, 1, "%s [%d] Started scope=%s", ("ASGI", 1, scope), None
    )
    redactor.filter(record)
    message = record.getMessage()
    assert SECRET not in message
    assert "access_token=***" in message
    assert "'bearer.***'" in message


def test_a_traceback_quoting_a_secret_is_masked(redactor: SecretRedactor) -> None:
    try:
        raise ValueError(f"cannot verify Authorization: Bearer {SECRET}")
    except ValueError:
        record = logging.LogRecord(
            "uvicorn.error", logging.ERROR, __file__, 1, "Exception in ASGI application", None,
            sys.exc_info(),
        )  # fmt: skip
    redactor.filter(record)
    output = logging.Formatter().format(record)
    assert SECRET not in output
    assert "Authorization: Bearer ***" in output
    assert "Traceback (most recent call last)" in output


def test_a_record_without_secrets_keeps_its_arguments(redactor: SecretRedactor) -> None:
    args = ("ASGI", 1, {"type": "http", "path": "/"})
    record = logging.LogRecord("uvicorn.asgi", 5, __file__, 1, "%s [%d] %s", args, None)
    redactor.filter(record)
    assert record.args == args


def test_a_malformed_record_is_left_for_logging_to_report(redactor: SecretRedactor) -> None:
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, "%s %s", ("x",), None)
    assert redactor.filter(record) is True
    assert record.args == ("x",)


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


def test_building_an_app_installs_the_filter_on_every_logger_that_may_show_a_request() -> None:
    App(
        autoload_plugins=False,
        plugins=[lanner_auth_mw],
        plugin_config={"auth_mw": {"tokens": {"alice": SECRET}, "subprotocol_prefix": "tok."}},
    )
    for name in LOGGERS:
        record = logging.LogRecord(
            name, logging.DEBUG, __file__, 1, "< %s: %s", ("sec-websocket-protocol", "tok.x"), None
        )
        logging.getLogger(name).filter(record)
        assert record.getMessage() == f"< sec-websocket-protocol: tok.{MASK}", name


def test_the_former_name_still_works() -> None:
    assert QueryParamRedactor is SecretRedactor


def test_installing_is_idempotent() -> None:
    for _ in range(3):
        App(
            autoload_plugins=False,
            plugins=[lanner_auth_mw],
            plugin_config={"auth_mw": {"tokens": {"alice": SECRET}, "query_param": "token"}},
        )
    install_redaction("token")
    for name in LOGGERS:
        filters = [f for f in logging.getLogger(name).filters if isinstance(f, SecretRedactor)]
        assert len(filters) == 1, name
        assert "token" in filters[0].names
