"""The Redis backend passes the core's backend conformance kit against a real Redis.

The reconnect checks run with real losses, as the kit suggests for Redis:
``sever`` kills the backend's connections inside Redis (``CLIENT KILL``) and the
backend has to notice by itself. The kit's staged loss (closing and connecting
the backend from outside) races the hub's own reconnect once ``connect`` does
real I/O, so it is not used here.

One check is left to a test of its own: ``reconnect_after_history_reports_gap``
publishes right after the loss and expects those messages to miss the
subscriber; with a real reconnect the hub may be back before the publishes land,
and then rightly delivers them live. The same property is tested
deterministically with a network partition held open while the messages are
published (``test_a_partition_longer_than_the_history_reaches_subscribers_as_a_gap``
in ``test_broadcast_redis_faults.py``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis.asyncio as aioredis

from lanner import App, BroadcastBackend
from lanner.testing import BroadcastCheck, broadcast_checks
from lanner_broadcast_redis import make_backend
from tests.plugins._redis import RedisServer, running_redis

PLACEHOLDER = "redis://redis-under-test"
RACY = frozenset({"reconnect_after_history_reports_gap"})

# One Redis for the module (every check uses channel names of its own); the
# checks are bound at collection, before its port is known, so the factory swaps
# the placeholder host for it.
_SERVER: list[RedisServer] = []


@pytest.fixture(scope="module")
def shared_redis() -> Iterator[RedisServer]:
    with running_redis() as server:
        _SERVER.append(server)
        try:
            yield server
        finally:
            _SERVER.clear()


def _factory(url: str, app: App) -> BroadcastBackend:
    return make_backend(url.replace(PLACEHOLDER, _SERVER[0].url), app)


async def _kill_connections(backend: BroadcastBackend) -> None:
    """Cut every client connection but this one, as a network fault or an admin would."""
    client = aioredis.Redis(host="127.0.0.1", port=_SERVER[0].port)
    try:
        await client.client_kill_filter(_type="normal", skipme=True)
    finally:
        await client.aclose()


STAGED = [
    c for c in broadcast_checks(_factory, f"{PLACEHOLDER}/0") if not c.name.startswith("reconnect")
]
SEVERED = [
    c
    for c in broadcast_checks(_factory, f"{PLACEHOLDER}/0", sever=_kill_connections)
    if c.name.startswith("reconnect") and c.name not in RACY
]


@pytest.mark.parametrize("check", STAGED, ids=lambda check: check.name)
async def test_redis_backend_conforms(shared_redis: RedisServer, check: BroadcastCheck) -> None:
    await check()


@pytest.mark.parametrize("check", SEVERED, ids=lambda check: check.name)
async def test_redis_backend_conforms_when_connections_are_killed(
    shared_redis: RedisServer, check: BroadcastCheck
) -> None:
    await check()


def test_every_other_check_of_the_kit_runs() -> None:
    names = {check.name for check in STAGED}
    assert len(names) >= 13
    assert not any(name.startswith("reconnect") for name in names)
    assert {check.name for check in SEVERED} == {"reconnect_resumes_every_channel"}
