"""The private Redis the tests use: a missing server fails loudly, and nothing is left running."""

from __future__ import annotations

import os
import socket

import pytest

from tests.plugins._redis import RedisServer, redis_server_path, running_redis


def test_a_missing_redis_server_fails_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(RuntimeError, match=r"Run \.ci/install-redis"):
        redis_server_path()


def test_stop_restart_and_pause_keep_the_port_and_end_with_no_process() -> None:
    with running_redis() as server:
        port, first = server.port, server.pid
        server.pause()
        server.resume()
        server.restart()
        assert (server.port, server.pid != first) == (port, True)
        last = server.pid
    with pytest.raises(ProcessLookupError):
        os.kill(last, 0)
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_the_server_keeps_nothing_on_disk(redis_server: RedisServer) -> None:
    import redis

    client = redis.Redis(port=redis_server.port)
    try:
        config = client.config_get("save") | client.config_get("appendonly")
    finally:
        client.close()
    assert config == {"save": "", "appendonly": "no"}
