"""Fixtures for the plugin tests: a private, real ``redis-server`` per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.plugins._redis import RedisServer, running_redis


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A fresh ``redis-server`` on a free 127.0.0.1 port, no persistence, stopped at teardown."""
    with running_redis() as server:
        yield server
