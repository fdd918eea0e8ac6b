"""The logging configuration ``lanner serve`` gives uvicorn: one line per invalid-UTF-8 frame."""

from __future__ import annotations

import io
import logging
import logging.config
import sys
from collections.abc import Iterator

import pytest

from lanner._server_logging import InvalidUTF8Condenser, server_log_config

UVICORN_MESSAGE = "Invalid UTF-8 sequence received from client."


def _exception_record(message: str) -> logging.LogRecord:
    try:
        b"\xff".decode()
    except UnicodeDecodeError:
        exc_info = sys.exc_info()
    return logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1, message, None, exc_info)


def test_the_invalid_utf8_traceback_becomes_one_warning_line() -> None:
    record = _exception_record(UVICORN_MESSAGE)
    assert InvalidUTF8Condenser().filter(record) is True
    assert (record.levelno, record.levelname) == (logging.WARNING, "WARNING")
    assert record.exc_info is None
    assert "1007" in record.getMessage()
    assert "\n" not in logging.Formatter().format(record)


def test_other_records_pass_unchanged() -> None:
    record = _exception_record("Exception in ASGI application\n")
    assert InvalidUTF8Condenser().filter(record) is True
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None


@pytest.fixture
def configured() -> Iterator[io.StringIO]:
    """Apply the configuration (output redirected), then restore uvicorn's loggers."""
    loggers = [logging.getLogger(n) for n in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    saved = [(lg.level, list(lg.filters), list(lg.handlers), lg.propagate) for lg in loggers]
    config = server_log_config()
    stream = io.StringIO()
    config["handlers"]["default"]["stream"] = stream
    config["handlers"]["access"]["stream"] = stream
    logging.config.dictConfig(config)
    try:
        yield stream
    finally:
        for lg, (level, filters, handlers, propagate) in zip(loggers, saved, strict=True):
            lg.setLevel(level)
            lg.filters[:] = filters
            lg.handlers[:] = handlers
            lg.propagate = propagate


def test_the_configuration_is_uvicorns_plus_the_filter(configured: io.StringIO) -> None:
    logger = logging.getLogger("uvicorn.error")
    try:
        b"\xff".decode()
    except UnicodeDecodeError:
        logger.exception(UVICORN_MESSAGE)
    logger.info("Application startup complete.")
    lines = configured.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("WARNING:")
    assert "Traceback" not in configured.getvalue()
    assert lines[1] == "INFO:     Application startup complete."
