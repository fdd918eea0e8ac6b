"""End-to-end: a crafted path cannot freeze a real uvicorn serving lanner's router.

The routes in ``routing_app`` once took seconds, or much longer, to refuse a
long crafted path, and the server answered nothing else meanwhile. Here one
client sends the worst such paths while another sends ``/ping``; every ping must
be answered promptly, and every hostile request gets the answer its route
gives (404 or 200), never a 500 or a dropped connection.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e._server import RunningServer, serve

pytestmark = pytest.mark.e2e

ENV = {"LANNER_DISABLE_PLUGIN_AUTOLOAD": "1"}
TIMEOUT = httpx.Timeout(30.0)
# httpx refuses URLs over 64 KiB, and both of uvicorn's HTTP parsers take this much.
SIZE = 60_000
PING_DEADLINE = 2.0
"""Seconds a ping may take while hostile paths are routed: generous for a loaded
machine; before the fix one hostile path held the event loop for hours."""


def _hostile() -> list[tuple[str, int]]:
    """Each crafted path with the status its route should give."""
    return [
        ("/archive/" + "-" * SIZE + ".json", 200),  # three plain fields and a suffix
        ("/archive/" + "-" * SIZE, 404),
        ("/a/" + "-" * SIZE, 200),
        ("/" + "." * SIZE + ".bak", 200),
        ("/" + "." * SIZE, 404),
        ("/zoom/" + "1" * SIZE + "yx", 404),  # a float that is not one, then the suffix
        ("/zoom/" + "1" * SIZE, 404),
        ("/p/" + "1." * (SIZE // 2) + "x", 200),
        ("/v/" + "1." * (SIZE // 2), 404),
    ]


@pytest.fixture(scope="module", params=["httptools", "h11"])
def server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    with serve("routing_app:app", env=ENV, args=["--http", request.param]) as running:
        yield running


def test_ping_is_answered_while_hostile_paths_are_routed(server: RunningServer) -> None:
    statuses: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def attack() -> None:
        try:
            with httpx.Client(base_url=server.http_url, timeout=TIMEOUT) as client:
                for _ in range(2):
                    for path, expected in _hostile():
                        statuses.append((client.get(path).status_code, expected))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            done.set()

    pings: list[float] = []
    with httpx.Client(base_url=server.http_url, timeout=TIMEOUT) as client:
        assert client.get("/ping").text == "pong"
        attacker = threading.Thread(target=attack)
        attacker.start()
        try:
            while not done.is_set():
                started = time.monotonic()
                response = client.get("/ping")
                pings.append(time.monotonic() - started)
                assert response.text == "pong"
        finally:
            attacker.join(60)
    assert not errors, errors
    assert len(statuses) == 2 * len(_hostile())
    assert [status for status, _ in statuses] == [expected for _, expected in statuses]
    assert pings, "no ping completed while the hostile paths were sent"
    assert max(pings) < PING_DEADLINE, f"slowest ping {max(pings):.2f} s"
    assert "Traceback" not in server.log()


def test_hostile_path_gets_the_routes_answer(server: RunningServer) -> None:
    with httpx.Client(base_url=server.http_url, timeout=TIMEOUT) as client:
        response = client.get("/p/" + "1." * (SIZE // 2) + "x")
        assert response.status_code == 200
        assert response.json() == {"page": "1", "rest": "1." * (SIZE // 2 - 1) + "x"}
        response = client.get("/zoom/" + "1" * SIZE + "yx")
        assert response.status_code == 404
        assert response.json()["title"] == "Not Found"
