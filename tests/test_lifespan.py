"""Tests for the ASGI lifespan protocol: startup and shutdown hooks, and failures."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

import lanner
from lanner.media import MessagePackHandlerWS
from lanner.testing import ASGIConductor

LIFESPAN_SCOPE: dict[str, Any] = {"type": "lifespan", "asgi": {"version": "3.0"}}


async def drive(app: lanner.App, *events: str) -> list[dict[str, Any]]:
    """Run the lifespan protocol by hand: send ``events``, return what the app sent."""
    incoming = [{"type": f"lifespan.{event}"} for event in events]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(10)  # a server waits for shutdown; the test must not
        raise AssertionError("the app asked for more lifespan events than the test sends")

    async def send(message: dict[str, Any]) -> None:
        sent.append(dict(message))

    await asyncio.wait_for(app(dict(LIFESPAN_SCOPE), receive, send), 5)
    return sent


class Hooks:
    """Middleware recording startup and shutdown with the event it was given."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    async def process_startup(self, scope: dict[str, Any], event: dict[str, Any]) -> None:
        self.log.append(f"{self.name}.startup {scope['type']} {event['type']}")

    async def process_shutdown(self, scope: dict[str, Any], event: dict[str, Any]) -> None:
        self.log.append(f"{self.name}.shutdown {scope['type']} {event['type']}")


class FailingStartup:
    async def process_startup(self, scope: dict[str, Any], event: dict[str, Any]) -> None:
        raise RuntimeError("database unreachable at db:5432")


async def test_startup_in_order_shutdown_in_reverse() -> None:
    log: list[str] = []
    app = lanner.App(middleware=[Hooks("a", log), Hooks("b", log)])
    sent = await drive(app, "startup", "shutdown")
    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]
    assert log == [
        "a.startup lifespan lifespan.startup",
        "b.startup lifespan lifespan.startup",
        "b.shutdown lifespan lifespan.shutdown",
        "a.shutdown lifespan lifespan.shutdown",
    ]


async def test_conductor_runs_startup_before_requests_and_shutdown_after() -> None:
    log: list[str] = []

    class State:
        async def process_startup(self, scope: dict[str, Any], event: dict[str, Any]) -> None:
            self.ready = True

    class Ready:
        def __init__(self, state: State) -> None:
            self.state = state

        async def on_get(self, req: lanner.Request, resp: lanner.Response) -> None:
            log.append("request")
            resp.media = {"ready": getattr(self.state, "ready", False)}

    state = State()
    app = lanner.App(middleware=[Hooks("a", log), state])
    app.add_route("/ready", Ready(state))
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_get("/ready")
    assert result.json == {"ready": True}
    assert [entry.split()[0] for entry in log] == ["a.startup", "request", "a.shutdown"]


async def test_failing_startup_reports_startup_failed_with_the_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log: list[str] = []
    app = lanner.App(middleware=[Hooks("a", log), FailingStartup(), Hooks("b", log)])
    with caplog.at_level(logging.DEBUG, logger="lanner"):
        sent = await drive(app, "startup")
    assert sent == [
        {
            "type": "lifespan.startup.failed",
            "message": "RuntimeError: database unreachable at db:5432",
        }
    ]
    assert log == ["a.startup lifespan lifespan.startup"]
    records = [r for r in caplog.records if r.name == "lanner"]
    assert len(records) == 1
    assert records[0].levelno == logging.ERROR
    assert records[0].exc_info is not None


async def test_conductor_raises_the_original_startup_exception() -> None:
    app = lanner.App(middleware=FailingStartup())
    with pytest.raises(RuntimeError, match="database unreachable at db:5432") as info:
        async with ASGIConductor(app):
            pass
    assert type(info.value) is RuntimeError


async def test_failing_shutdown_reports_shutdown_failed() -> None:
    class FailingShutdown:
        async def process_shutdown(self, scope: dict[str, Any], event: dict[str, Any]) -> None:
            raise ValueError("flush failed")

    log: list[str] = []
    app = lanner.App(middleware=[Hooks("a", log), FailingShutdown()])
    sent = await drive(app, "startup", "shutdown")
    assert sent == [
        {"type": "lifespan.startup.complete"},
        {"type": "lifespan.shutdown.failed", "message": "ValueError: flush failed"},
    ]
    # The failure does not skip the outer middleware's shutdown.
    assert log[-1] == "a.shutdown lifespan lifespan.shutdown"


async def test_conductor_reports_a_failing_shutdown() -> None:
    class FailingShutdown:
        async def process_shutdown(self, scope: dict[str, Any], event: dict[str, Any]) -> None:
            raise ValueError("flush failed")

    app = lanner.App(middleware=FailingShutdown())
    with pytest.raises(RuntimeError, match="App shutdown failed: ValueError: flush failed"):
        async with ASGIConductor(app):
            pass


async def test_an_app_that_cannot_assemble_fails_startup() -> None:
    app = lanner.App()
    # A BINARY handler in the TEXT slot is found when the app freezes at startup.
    app.ws_options.media_handlers[lanner.WebSocketPayloadType.TEXT] = MessagePackHandlerWS()
    sent = await drive(app, "startup")
    assert len(sent) == 1
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "TEXT" in sent[0]["message"]


async def test_conductor_raises_the_assembly_error_itself() -> None:
    app = lanner.App()
    app.ws_options.media_handlers[lanner.WebSocketPayloadType.TEXT] = MessagePackHandlerWS()
    with pytest.raises(TypeError, match="TEXT"):
        async with ASGIConductor(app):
            pass


async def test_plugin_lifespans_wrap_middleware_startup_and_shutdown() -> None:
    log: list[str] = []

    class Plugin:
        name = "tracker"

        @lanner.hookimpl
        def lanner_lifespan(self, app: lanner.App) -> contextlib.AbstractAsyncContextManager[None]:
            @contextlib.asynccontextmanager
            async def span() -> AsyncIterator[None]:
                log.append("plugin.enter")
                yield
                log.append("plugin.exit")

            return span()

    app = lanner.App(plugins=[Plugin()], middleware=Hooks("mw", log))
    sent = await drive(app, "startup", "shutdown")
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert [entry.split()[0] for entry in log] == [
        "plugin.enter",
        "mw.startup",
        "mw.shutdown",
        "plugin.exit",
    ]


async def test_failing_startup_exits_plugin_lifespans_already_entered() -> None:
    log: list[str] = []

    class Plugin:
        name = "tracker"

        @lanner.hookimpl
        def lanner_lifespan(self, app: lanner.App) -> contextlib.AbstractAsyncContextManager[None]:
            @contextlib.asynccontextmanager
            async def span() -> AsyncIterator[None]:
                log.append("enter")
                yield
                log.append("exit")

            return span()

    app = lanner.App(plugins=[Plugin()], middleware=FailingStartup())
    sent = await drive(app, "startup")
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert log == ["enter", "exit"]
