"""``resp.sse`` takes an async iterable, checked when assigned, before anything is sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

import lanner
from lanner import Request, Response, SSEvent
from lanner.testing import ASGIConductor


async def _events() -> AsyncIterator[SSEvent]:
    yield SSEvent(text="one")


class AsyncIterable:
    """Not a generator, but iterable with ``async for``."""

    def __aiter__(self) -> AsyncIterator[SSEvent]:
        return _events()


def _sync_events() -> Any:
    yield SSEvent(text="one")


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        (_events, "call the generator function"),
        (_sync_events(), "async generator"),
        ([SSEvent(text="one")], "got list"),
        ("data: x\n\n", "got str"),
        (SSEvent(text="one"), "got SSEvent"),
    ],
    ids=["uncalled-async-gen-function", "sync-generator", "list", "str", "one-event"],
)
def test_assigning_a_non_async_iterable_raises_type_error(value: object, hint: str) -> None:
    resp = Response(lanner.App().resp_options)
    with pytest.raises(TypeError, match=hint):
        resp.sse = value  # type: ignore[assignment]
    assert resp.sse is None


@pytest.mark.parametrize("make", [_events, AsyncIterable, lambda: None])
def test_async_iterables_and_none_are_kept(make: Any) -> None:
    resp = Response(lanner.App().resp_options)
    value = make()
    resp.sse = value
    assert resp.sse is value


async def test_a_bad_assignment_is_a_500_not_a_200_then_nothing() -> None:
    class Feed:
        async def on_get(self, req: Request, resp: Response) -> None:
            resp.sse = [SSEvent(text="x")]  # type: ignore[assignment]

    app = lanner.App()
    app.add_route("/feed", Feed())
    async with ASGIConductor(app) as c:
        result = await c.simulate_get("/feed")
    assert result.status_code == 500
    assert "text/event-stream" not in result.headers.get("content-type", "")
