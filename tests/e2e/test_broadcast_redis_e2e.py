"""The demo across two workers on a real Redis: ``lanner serve --workers 2 --broadcast redis://``.

With the in-process ``memory://`` backend, a message reached only the clients of
the worker it was posted to (5 of 8 in the measurement that started this work).
Here every chat client gets every message whichever worker serves it, and an SSE
client that reconnects to the *other* worker with ``Last-Event-ID`` gets every
tick it missed, none twice. The demo tells each client its worker's PID; the
tests open connections until both workers serve some. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from websockets.asyncio.client import ClientConnection, connect

from lanner.testing import ParsedEvent, SSEParser
from tests.e2e._server import RunningServer, serve
from tests.plugins._redis import RedisServer, running_redis

pytestmark = pytest.mark.e2e

TOKEN = "e2e-redis-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PROTOCOLS = ["lanner-chat", f"bearer.{TOKEN}"]
TIMEOUT = 10.0
CLIENTS = 8
MAX_TRIES = 40  # SSE reconnects at most to land on the other worker
FEED_KEY = "lanner:broadcast:feed"  # the demo's feed channel under the default key prefix


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


@pytest.fixture(scope="module")
def workers(redis_server: RedisServer) -> Iterator[RunningServer]:
    """The demo under ``lanner serve --workers 2 --broadcast <the private Redis>``."""
    env = {"LANNER_DISABLE_PLUGIN_AUTOLOAD": "0", "LANNER_DEMO_TOKEN": TOKEN}
    args = ["--workers", "2", "--broadcast", redis_server.url]
    with serve("demo_app:app", env=env, args=args, cli=True) as running:
        yield running


async def _next_of(ws: ClientConnection, kind: str) -> dict[str, Any]:
    for _ in range(200):
        payload: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        if payload["type"] == kind:
            return payload
    raise AssertionError(f"no {kind!r} payload among the next 200 messages")


def _chat(server: RunningServer, name: str) -> connect:
    return connect(
        f"{server.ws_url}/ws/chat?name={name}",
        subprotocols=PROTOCOLS,  # type: ignore[list-item]
        open_timeout=TIMEOUT,
        close_timeout=TIMEOUT,
        # Read every frame as it comes (many joins make many presence messages),
        # so no client falls behind and a ping gets through.
        max_queue=None,
    )


@contextlib.asynccontextmanager
async def _clients_on_both_workers(
    server: RunningServer, count: int
) -> AsyncIterator[list[tuple[int, ClientConnection]]]:
    """Open ``count`` chat clients, of which some on each of the two workers.

    A worker still starting takes no connections yet, so a connection that
    lands on a worker which already has enough is closed again and retried.
    """
    async with contextlib.AsyncExitStack() as stack:
        clients: list[tuple[int, ClientConnection]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 3 * TIMEOUT
        n = 0
        while len(clients) < count or len({pid for pid, _ in clients}) < 2:
            assert loop.time() < deadline, (
                f"{len(clients)} clients, all on workers { ({pid for pid, _ in clients}) }; "
                f"server log:\n{server.log()}"
            )
            n += 1
            ws = await stack.enter_async_context(_chat(server, f"c{n}"))
            pid = int((await _next_of(ws, "welcome"))["worker_pid"])
            seen = {p for p, _ in clients}
            if len(clients) < count - 1 or pid not in seen or len(seen) == 2:
                clients.append((pid, ws))
            else:  # the last place is for the other worker
                await ws.close()
                await asyncio.sleep(0.05)
        yield clients


async def test_every_chat_client_gets_every_message_across_workers(
    workers: RunningServer,
) -> None:
    async with _clients_on_both_workers(workers, CLIENTS) as clients:
        texts = [f"from c{n}" for n in range(len(clients))]
        for (_, ws), text in zip(clients, texts, strict=True):
            await ws.send(json.dumps({"text": text}))
        async with httpx.AsyncClient(base_url=workers.http_url, timeout=TIMEOUT) as http:
            for n in range(2):
                posted = await http.post(
                    "/api/messages", json={"name": "http", "text": f"post {n}"}, headers=AUTH
                )
                assert posted.status_code == 201
        expected = sorted([*texts, "post 0", "post 1"])
        got_all = 0
        for pid, ws in clients:
            got = sorted([(await _next_of(ws, "message"))["text"] for _ in expected])
            assert got == expected, f"a client of worker {pid} got {got}"
            got_all += 1
        print(
            f"\n{got_all} of {len(clients)} chat clients on 2 workers got all "
            f"{len(expected)} messages"
        )
        assert got_all == len(clients)


async def _read_events(
    http: httpx.AsyncClient,
    count: int,
    last_event_id: str | None = None,
    *,
    not_on: int | None = None,
) -> tuple[int, list[ParsedEvent]]:
    """Open /events and read ``count`` events; return the serving worker's PID and them.

    With ``not_on``, a stream served by that worker is closed at once, unread.
    """
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    parser = SSEParser()
    events: list[ParsedEvent] = []
    async with http.stream(
        "GET", "/events", params={"access_token": TOKEN}, headers=headers
    ) as stream:
        assert stream.status_code == 200
        pid = int(stream.headers["x-worker-pid"])
        if pid == not_on:
            return pid, []

        async def read() -> None:
            async for chunk in stream.aiter_bytes():
                events.extend(e for e in parser.feed(chunk) if e.event_id)
                if len(events) >= count:
                    return

        await asyncio.wait_for(read(), TIMEOUT)
    return pid, events


async def _kept_after(server: RedisServer, after_id: str) -> list[str]:
    """The ids Redis keeps on the demo's feed after ``after_id``: what a resume must replay."""
    client = aioredis.Redis(host="127.0.0.1", port=server.port)
    try:
        kept = await client.xrange(FEED_KEY, min=f"({after_id}")
    finally:
        await client.aclose()
    return [entry_id.decode() for entry_id, _ in kept]


async def test_sse_resumes_on_the_other_worker_with_every_missed_tick(
    workers: RunningServer, redis_server: RedisServer
) -> None:
    async with httpx.AsyncClient(base_url=workers.http_url, timeout=TIMEOUT) as http:
        first_pid, before = await _read_events(http, 2)
        last_seen = before[-1].event_id
        assert last_seen is not None
        await asyncio.sleep(2.5)  # both workers tick every second meanwhile
        for _ in range(MAX_TRIES):
            missed = await _kept_after(redis_server, last_seen)
            pid, replay = await _read_events(http, len(missed), last_seen, not_on=first_pid)
            if pid != first_pid:
                break
        else:
            pytest.fail(f"{MAX_TRIES} reconnects all went to worker {first_pid}")
    assert len(missed) >= 4, f"expected several ticks in 2.5 s, Redis kept {missed}"
    replayed = [event.event_id for event in replay]
    print(
        f"\nSSE: read on worker {first_pid}, resumed on worker {pid}: "
        f"{len(replayed)} of {len(missed)} missed ticks, none twice"
    )
    assert replayed == missed


FAULT_CLIENTS = 50
PUBLISH_TIMEOUT = 1.0


async def test_redis_stopped_under_50_clients_then_back() -> None:
    """Stop Redis under 50 chat clients on 2 workers: 503s, no worker or client lost."""
    env = {"LANNER_DISABLE_PLUGIN_AUTOLOAD": "0", "LANNER_DEMO_TOKEN": TOKEN}
    with running_redis() as redis_server:
        url = f"{redis_server.url}?publish_timeout={PUBLISH_TIMEOUT:g}"
        args = ["--workers", "2", "--broadcast", url]
        with serve("demo_app:app", env=env, args=args, cli=True) as server:
            async with contextlib.AsyncExitStack() as stack:
                clients = await stack.enter_async_context(
                    _clients_on_both_workers(server, FAULT_CLIENTS)
                )
                pids = {pid for pid, _ in clients}
                http = await stack.enter_async_context(
                    httpx.AsyncClient(base_url=server.http_url, timeout=TIMEOUT)
                )

                redis_server.stop()
                started = asyncio.get_running_loop().time()
                refused = await http.post(
                    "/api/messages", json={"name": "h", "text": "lost"}, headers=AUTH
                )
                took = asyncio.get_running_loop().time() - started
                assert refused.status_code == 503
                sender = clients[0][1]
                await sender.send(json.dumps({"text": "while Redis is down"}))
                assert (await _next_of(sender, "error"))["error"].startswith("Not delivered")
                await asyncio.sleep(PUBLISH_TIMEOUT)
                for _, ws in clients:  # every client is still connected and answers
                    pong = await ws.ping()
                    await asyncio.wait_for(pong, TIMEOUT)
                for pid in pids:
                    os.kill(pid, 0)  # both workers still run (raises if one is gone)

                redis_server.start()
                back = asyncio.get_running_loop().time()
                while True:
                    posted = await http.post(
                        "/api/messages", json={"name": "h", "text": "back"}, headers=AUTH
                    )
                    if posted.status_code == 201:
                        break
                    assert posted.status_code == 503
                    assert asyncio.get_running_loop().time() - back < TIMEOUT
                    await asyncio.sleep(0.1)
                for _, ws in clients:
                    while (await _next_of(ws, "message"))["text"] != "back":
                        pass
                recovered = asyncio.get_running_loop().time() - back
            print(
                f"\nRedis stopped under {len(clients)} clients on {len(pids)} workers: POST got "
                f"503 after {took * 1000:.0f} ms; all clients connected; all {len(clients)} "
                f"had a new message {recovered:.2f} s after Redis was back"
            )
            assert took < PUBLISH_TIMEOUT + 1.5
            assert "Traceback" not in server.log(), server.log()
