"""Tests for middleware: stage order, short-circuits, arguments and checks."""

from __future__ import annotations

from typing import Any

import pytest

import lanner
from lanner.testing import ASGIConductor


class Recorder:
    """Middleware that appends ``"<name>.<stage>"`` to a shared list at each stage."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    async def process_request(self, req: lanner.Request, resp: lanner.Response) -> None:
        self.log.append(f"{self.name}.request")

    async def process_resource(
        self, req: lanner.Request, resp: lanner.Response, resource: object, params: dict[str, Any]
    ) -> None:
        self.log.append(f"{self.name}.resource {type(resource).__name__} {params}")

    async def process_response(
        self, req: lanner.Request, resp: lanner.Response, resource: object, req_succeeded: bool
    ) -> None:
        self.log.append(f"{self.name}.response {type(resource).__name__} {req_succeeded}")


class Item:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def on_get(self, req: lanner.Request, resp: lanner.Response, id: int) -> None:
        self.log.append("responder")
        resp.media = {"id": id}

    async def on_delete(self, req: lanner.Request, resp: lanner.Response, id: int) -> None:
        self.log.append("responder")
        raise lanner.HTTPConflict()


def recorded_app(log: list[str], *middleware: object) -> lanner.App:
    app = lanner.App(middleware=[Recorder("a", log), Recorder("b", log), *middleware])
    app.add_route("/items/{id:int}", Item(log))
    return app


async def test_request_and_resource_in_order_response_in_reverse() -> None:
    log: list[str] = []
    async with ASGIConductor(recorded_app(log)) as conductor:
        result = await conductor.simulate_get("/items/3")
    assert result.json == {"id": 3}
    assert log == [
        "a.request",
        "b.request",
        "a.resource Item {'id': 3}",
        "b.resource Item {'id': 3}",
        "responder",
        "b.response Item True",
        "a.response Item True",
    ]


async def test_add_middleware_appends_after_constructor_middleware() -> None:
    log: list[str] = []
    app = recorded_app(log)
    app.add_middleware(Recorder("c", log))
    app.add_middleware([Recorder("d", log), Recorder("e", log)])
    async with ASGIConductor(app) as conductor:
        await conductor.simulate_get("/items/1")
    assert [entry for entry in log if entry.endswith("request")] == [
        "a.request",
        "b.request",
        "c.request",
        "d.request",
        "e.request",
    ]
    assert [entry.split()[0] for entry in log if ".response" in entry] == [
        "e.response",
        "d.response",
        "c.response",
        "b.response",
        "a.response",
    ]


@pytest.mark.parametrize("as_list", [False, True])
async def test_app_takes_one_middleware_or_a_list(as_list: bool) -> None:
    log: list[str] = []
    recorder = Recorder("only", log)
    app = lanner.App(middleware=[recorder] if as_list else recorder)
    app.add_route("/items/{id:int}", Item(log))
    async with ASGIConductor(app) as conductor:
        await conductor.simulate_get("/items/1")
    assert log[0] == "only.request"
    assert log[-1] == "only.response Item True"


async def test_app_takes_a_tuple_of_middleware() -> None:
    log: list[str] = []
    app = lanner.App(middleware=(Recorder("x", log), Recorder("y", log)))
    app.add_route("/items/{id:int}", Item(log))
    async with ASGIConductor(app) as conductor:
        await conductor.simulate_get("/items/1")
    assert log[:2] == ["x.request", "y.request"]


class CompleteIn:
    """Sets ``resp.complete`` at one stage and answers from there."""

    def __init__(self, stage: str) -> None:
        self.stage = stage

    async def process_request(self, req: lanner.Request, resp: lanner.Response) -> None:
        if self.stage == "request":
            resp.complete = True
            resp.status = 304

    async def process_resource(
        self, req: lanner.Request, resp: lanner.Response, resource: object, params: dict[str, Any]
    ) -> None:
        if self.stage == "resource":
            resp.complete = True
            resp.text = "cached"


async def test_complete_in_process_request_skips_routing_and_responder() -> None:
    log: list[str] = []
    app = lanner.App(middleware=[Recorder("a", log), CompleteIn("request"), Recorder("b", log)])
    app.add_route("/items/{id:int}", Item(log))
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_get("/items/1")
    assert result.status_code == 304
    assert result.content == b""
    # Later process_request, every process_resource and the responder are skipped;
    # every process_response still runs, with no resource.
    assert log == ["a.request", "b.response NoneType True", "a.response NoneType True"]


async def test_complete_in_process_request_also_skips_unknown_paths() -> None:
    app = lanner.App(middleware=CompleteIn("request"))
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_get("/no/such/route")
    assert result.status_code == 304


async def test_complete_in_process_resource_skips_the_responder() -> None:
    log: list[str] = []
    app = lanner.App(middleware=[Recorder("a", log), CompleteIn("resource"), Recorder("b", log)])
    app.add_route("/items/{id:int}", Item(log))
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_get("/items/1")
    assert result.text == "cached"
    assert log == [
        "a.request",
        "b.request",
        "a.resource Item {'id': 1}",
        "b.response Item True",
        "a.response Item True",
    ]


async def test_process_resource_is_not_called_for_an_unknown_path() -> None:
    log: list[str] = []
    async with ASGIConductor(recorded_app(log)) as conductor:
        result = await conductor.simulate_get("/nowhere")
    assert result.status_code == 404
    assert log == [
        "a.request",
        "b.request",
        "b.response NoneType False",
        "a.response NoneType False",
    ]


async def test_process_resource_runs_for_a_method_not_allowed() -> None:
    log: list[str] = []
    async with ASGIConductor(recorded_app(log)) as conductor:
        result = await conductor.simulate_post("/items/2")
    assert result.status_code == 405
    assert "a.resource Item {'id': 2}" in log
    assert log[-1] == "a.response Item False"


async def test_process_response_gets_req_succeeded_false_on_error() -> None:
    log: list[str] = []
    async with ASGIConductor(recorded_app(log)) as conductor:
        result = await conductor.simulate_delete("/items/5")
    assert result.status_code == 409
    assert log[-3:] == ["responder", "b.response Item False", "a.response Item False"]


async def test_process_response_sees_the_rendered_error_and_can_change_it() -> None:
    class Stamp:
        async def process_response(
            self, req: lanner.Request, resp: lanner.Response, resource: object, ok: bool
        ) -> None:
            resp.set_header("X-Status-Seen", str(int(resp.status)))

    app = lanner.App(middleware=Stamp())
    async with ASGIConductor(app) as conductor:
        result = await conductor.simulate_get("/missing")
    assert result.status_code == 404
    assert result.headers["x-status-seen"] == "404"


async def test_failing_process_response_marks_later_ones_unsuccessful() -> None:
    log: list[str] = []

    class Failing:
        async def process_response(
            self, req: lanner.Request, resp: lanner.Response, resource: object, ok: bool
        ) -> None:
            raise lanner.HTTPServiceUnavailable()

    # Response stages run in reverse: Failing runs before a's.
    async with ASGIConductor(recorded_app(log, Failing())) as conductor:
        result = await conductor.simulate_get("/items/1")
    assert result.status_code == 503
    assert log[-2:] == ["b.response Item False", "a.response Item False"]


async def test_each_middleware_method_is_looked_up_once() -> None:
    lookups: list[str] = []

    class Counting:
        def __getattribute__(self, name: str) -> Any:
            if name.startswith("process_"):
                lookups.append(name)
            return object.__getattribute__(self, name)

        async def process_request(self, req: lanner.Request, resp: lanner.Response) -> None:
            pass

    app = lanner.App(middleware=Counting())
    app.freeze()
    before = len(lookups)
    async with ASGIConductor(app) as conductor:
        for _ in range(3):
            await conductor.simulate_get("/x")
    assert len(lookups) == before


# --- checks when middleware is added -------------------------------------------------------


class NoMethods:
    async def handle(self, req: lanner.Request, resp: lanner.Response) -> None:
        pass


class Typo:
    async def process_requests(self, req: lanner.Request, resp: lanner.Response) -> None:
        pass


class TypoBesideValid:
    async def process_request(self, req: lanner.Request, resp: lanner.Response) -> None:
        pass

    async def process_respones(
        self, req: lanner.Request, resp: lanner.Response, resource: object, ok: bool
    ) -> None:
        pass


class SyncMethod:
    def process_request(self, req: lanner.Request, resp: lanner.Response) -> None:
        pass


class SyncStartup:
    async def process_request(self, req: lanner.Request, resp: lanner.Response) -> None:
        pass

    def process_startup(self, scope: Any, event: Any) -> None:
        pass


@pytest.mark.parametrize(
    ("middleware", "message"),
    [
        (NoMethods(), "NoMethods has none of the middleware methods"),
        (Typo(), "Typo has unknown method(s) process_requests"),
        (TypoBesideValid(), "TypoBesideValid has unknown method(s) process_respones"),
        (SyncMethod(), "SyncMethod.process_request must be a coroutine function"),
        (SyncStartup(), "SyncStartup.process_startup must be a coroutine function"),
    ],
)
def test_bad_middleware_is_refused(middleware: object, message: str) -> None:
    with pytest.raises(TypeError) as info:
        lanner.App(middleware=middleware)
    assert message in str(info.value)
    app = lanner.App()
    with pytest.raises(TypeError):
        app.add_middleware([Recorder("ok", []), middleware])


async def test_refused_middleware_list_adds_nothing() -> None:
    log: list[str] = []
    app = lanner.App()
    with pytest.raises(TypeError):
        app.add_middleware([Recorder("ok", log), Typo()])
    app.add_route("/items/{id:int}", Item(log))
    async with ASGIConductor(app) as conductor:
        assert (await conductor.simulate_get("/items/1")).json == {"id": 1}
    assert log == ["responder"]  # the valid "ok" recorder before the typo was not added
