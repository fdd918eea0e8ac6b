"""In-process fan-out: the cost per delivery of one publish to many WebSocket subscribers.

Every implementation (:mod:`bench.fanout_frameworks`) gets the same driver:
``subscribers`` connections of :class:`bench.driver.Subscriber` open on
``/sub``; once every one is subscribed, ``messages`` distinct texts are
published in batches (a batch never exceeds the backlog, so no healthy
subscriber overflows) and the clock stops when every subscriber has received
every message. The cost per delivery is the elapsed time divided by
``subscribers x messages``. Repetitions are interleaved across
implementations, and each ratio is taken to the hand-written floor of the same
repetition.

Before any timing, each implementation is checked at a small size: every
subscriber must receive every message, in order, as text.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from bench.driver import Audience, Lifespan, Message, Subscriber, ws_scope
from bench.endpoints import FANOUT_BACKLOG, FANOUT_SUB_PATH
from bench.fanout_frameworks import FANOUT_FLOOR, FanoutApp, FanoutFramework
from bench.frameworks import Unavailable
from bench.inprocess import summarise
from bench.scenarios import WrongOutput

__all__ = ["TARGET", "FanoutSizes", "run"]

TARGET: Final = 1.3
"""lanner's target: cost per delivery at most this times the hand-written fan-out's."""

_BATCH: Final = 16
"""Messages published before waiting for their deliveries (well under the backlog)."""

_TIMEOUT: Final = 120.0
_CHECK_SUBSCRIBERS: Final = 5
_CHECK_MESSAGES: Final = 20


@dataclass(frozen=True)
class FanoutSizes:
    """How big the in-process fan-out run is."""

    subscribers: int
    messages: int
    repetitions: int


class _Recording(Subscriber):
    """A subscriber that keeps the texts it received (correctness check only)."""

    __slots__ = ("texts",)

    def __init__(self, audience: Audience) -> None:
        super().__init__(audience)
        self.texts: list[str] = []

    async def send(self, message: Message) -> None:
        if self.accepted and message["type"] == "websocket.send":
            self.texts.append(message["text"])
        await super().send(message)


async def _connect(
    built: FanoutApp, count: int, factory: Callable[[Audience], Subscriber]
) -> tuple[Audience, list[Subscriber], list[asyncio.Task[None]]]:
    audience = Audience()
    subscribers = [factory(audience) for _ in range(count)]
    template = ws_scope(FANOUT_SUB_PATH)
    tasks = []
    for sub in subscribers:
        scope = dict(template)
        scope["state"] = {}
        tasks.append(asyncio.ensure_future(built.app(scope, sub.receive, sub.send)))
    deadline = time.monotonic() + _TIMEOUT
    while built.subscribers() < count:
        if time.monotonic() > deadline:
            raise WrongOutput(f"expected {count} subscribers, {built.subscribers()} subscribed")
        for task in tasks:
            if task.done() and task.exception() is not None:
                raise WrongOutput(f"a subscriber failed: {task.exception()!r}")
        await asyncio.sleep(0.001)
    return audience, subscribers, tasks


async def _leave(audience: Audience, tasks: list[asyncio.Task[None]]) -> None:
    audience.leave()
    done, pending = await asyncio.wait(tasks, timeout=_TIMEOUT)
    if pending:
        for task in pending:
            task.cancel()
        raise WrongOutput(f"{len(pending)} subscriber handlers did not end after the client left")
    for task in done:
        if task.exception() is not None:
            raise WrongOutput(f"a subscriber handler raised {task.exception()!r}")


async def _publish_all(built: FanoutApp, audience: Audience, texts: list[str], count: int) -> None:
    publish = built.publish
    expected = audience.delivered
    for start in range(0, len(texts), _BATCH):
        batch = texts[start : start + _BATCH]
        for text in batch:
            await publish(text)
        expected += len(batch) * count
        await audience.wait_for(expected)


async def _time_once(built: FanoutApp, sizes: FanoutSizes) -> float:
    audience, _subs, tasks = await _connect(built, sizes.subscribers, Subscriber)
    texts = [f"message {index}" for index in range(sizes.messages)]
    try:
        gc.collect()
        start = time.perf_counter()
        await asyncio.wait_for(_publish_all(built, audience, texts, sizes.subscribers), _TIMEOUT)
        elapsed = time.perf_counter() - start
    finally:
        await _leave(audience, tasks)
    return elapsed / (sizes.subscribers * sizes.messages)


async def _check(built: FanoutApp) -> None:
    audience, subs, tasks = await _connect(built, _CHECK_SUBSCRIBERS, _Recording)
    texts = [f"check {index}" for index in range(_CHECK_MESSAGES)]
    try:
        await asyncio.wait_for(_publish_all(built, audience, texts, len(subs)), 30)
    finally:
        await _leave(audience, tasks)
    for sub in subs:
        assert isinstance(sub, _Recording)
        if sub.texts != texts:
            raise WrongOutput(f"fan-out: expected {texts!r} in order, got {sub.texts!r}")


async def _measure(
    frameworks: list[FanoutFramework], sizes: FanoutSizes, log: Callable[[str], None]
) -> dict[str, Any]:
    built: dict[str, FanoutApp] = {}
    lifespans: list[Lifespan] = []
    info: dict[str, Any] = {}
    errors: dict[str, str] = {}
    timings: dict[str, list[float]] = {}
    try:
        for framework in frameworks:
            try:
                app = framework.build(url="memory://", backlog=FANOUT_BACKLOG)
                lifespan = Lifespan(app.app)
                await lifespan.startup()
                lifespans.append(lifespan)
                await _check(app)
                await _time_once(app, sizes)  # warm-up, untimed
            except Unavailable as exc:
                info[framework.key] = {"unavailable": str(exc)}
                log(f"  {framework.key}: unavailable: {exc}")
                continue
            except Exception as exc:
                errors[framework.key] = f"{type(exc).__name__}: {exc}"
                log(f"  {framework.key}: failed: {errors[framework.key]}")
                continue
            built[framework.key] = app
            timings[framework.key] = []
            info[framework.key] = {"label": framework.label, "version": framework.version()}
        if FANOUT_FLOOR.key not in built:
            from bench.inprocess import HarnessError

            raise HarnessError(
                f"the hand-written fan-out failed: {errors.get(FANOUT_FLOOR.key, 'unavailable')}"
            )
        for repetition in range(sizes.repetitions):
            for key, app in list(built.items()):
                try:
                    timings[key].append(await _time_once(app, sizes))
                except Exception as exc:
                    errors[key] = f"{type(exc).__name__}: {exc}"
                    log(f"  {key}: failed: {errors[key]}")
                    del built[key], timings[key]
            log(
                f"  repetition {repetition + 1}/{sizes.repetitions}: "
                + ", ".join(f"{key} {values[-1] * 1e6:.2f} us" for key, values in timings.items())
            )
    finally:
        for lifespan in lifespans:
            try:
                await lifespan.shutdown()
            except Exception as exc:
                log(f"  lifespan shutdown raised {exc!r}")
    floor = timings.get(FANOUT_FLOOR.key)
    cells: dict[str, Any] = {}
    for framework in frameworks:
        key = framework.key
        if key in timings:
            cells[key] = summarise(
                timings[key],
                None if key == FANOUT_FLOOR.key else floor,
                samples="per_delivery_us",
            )
        elif key in errors:
            cells[key] = {"error": errors[key]}
        else:
            cells[key] = info.get(key, {"error": "not measured"})
    return {"frameworks": info, "cells": cells}


def run(
    frameworks: list[FanoutFramework],
    sizes: FanoutSizes,
    *,
    loop: str = "uvloop",
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run the in-process fan-out and return its results (JSON-ready).

    Returns:
        ``{"frameworks": {key: info}, "cells": {key: {"median_us", "ratio", ...}},
        "sizes": ..., "loop": ..., "target": ...}``.

    Raises:
        bench.inprocess.HarnessError: The hand-written floor failed.
    """
    from bench.inprocess import _available_loop, _run_loop

    loop = _available_loop(loop, log)
    log(
        f"  fan-out: {sizes.subscribers} subscribers x {sizes.messages} messages x "
        f"{sizes.repetitions} repetitions"
    )
    result: dict[str, Any] = _run_loop(lambda: _measure(frameworks, sizes, log), loop)
    result["sizes"] = {
        "subscribers": sizes.subscribers,
        "messages": sizes.messages,
        "repetitions": sizes.repetitions,
        "batch": _BATCH,
        "backlog": FANOUT_BACKLOG,
    }
    result["loop"] = loop
    result["target"] = TARGET
    return result
