"""The memory:// backend passes the whole backend conformance kit."""

from __future__ import annotations

import pytest

from lanner.broadcast import memory_backend
from lanner.testing import BroadcastCheck, broadcast_checks

CHECKS = broadcast_checks(memory_backend, "memory://")


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.name)
async def test_memory_backend_conforms(check: BroadcastCheck) -> None:
    await check()


def test_the_kit_names_and_describes_every_check() -> None:
    names = [check.name for check in CHECKS]
    assert len(set(names)) == len(names)
    assert all(check.description for check in CHECKS)
    assert {"overflow_close", "reconnect_resumes_every_channel", "history_zero"} <= set(names)
