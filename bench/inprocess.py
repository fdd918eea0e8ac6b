"""The in-process level: every app driven through the same in-memory driver, interleaved.

For each scenario the frameworks run in turn (A B C A B C ...) for several
repetitions, so drift in the machine's speed touches all of them alike. Each
timing is one full scenario run divided by its operation count; results keep
the per-repetition figures, their median and range, and the ratio to the bare
app (median over median, with the range of the per-repetition ratios).
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import io
import pstats
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench._asgi import ASGIApp
from bench.driver import Lifespan
from bench.frameworks import BARE, Framework, Unavailable
from bench.scenarios import Scenario

__all__ = ["CHECK_SIZE", "HarnessError", "Sizes", "profile", "run"]

CHECK_SIZE = 3
"""Operations per scenario in the correctness check that precedes timing."""

_RUN_TIMEOUT = 60.0
"""Seconds one scenario run may take before it counts as hung."""


class HarnessError(Exception):
    """The suite itself is broken (the bare app failed); the message says where."""


@dataclass(frozen=True)
class Sizes:
    """Operation counts per scenario run, and how many runs.

    Attributes:
        messages: Messages per WebSocket echo/push run, events per SSE run.
        connections: Connections per lifecycle run.
        requests: Requests per HTTP GET run.
        repetitions: Timed runs per framework per scenario.
    """

    messages: int
    connections: int
    requests: int
    repetitions: int

    def of(self, scenario: Scenario) -> int:
        """Return the operation count of one run of ``scenario``."""
        value: int = getattr(self, scenario.size_name)
        return value


@dataclass
class _Subject:
    framework: Framework
    app: ASGIApp | None = None
    check_app: ASGIApp | None = None
    lifespans: list[Lifespan] = field(default_factory=list)
    unavailable: str | None = None


async def _prepare(framework: Framework, sizes: Sizes) -> _Subject:
    subject = _Subject(framework)
    try:
        subject.app = framework.build(push_count=sizes.messages, sse_count=sizes.messages)
        subject.check_app = framework.build(push_count=CHECK_SIZE, sse_count=CHECK_SIZE)
        for app in (subject.app, subject.check_app):
            lifespan = Lifespan(app)
            await lifespan.startup()
            subject.lifespans.append(lifespan)
    except Unavailable as exc:
        subject.unavailable = str(exc)
    except Exception as exc:
        subject.unavailable = f"lifespan startup raised {type(exc).__name__}: {exc}"
    return subject


def _describe(exc: Exception) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return f"no result within {_RUN_TIMEOUT:.0f} s: the app seems to hang"
    return f"{type(exc).__name__}: {exc}"


def summarise(
    per_op: list[float], floor: list[float] | None, *, samples: str = "per_op_us"
) -> dict[str, Any]:
    """Summarise one cell's timings (seconds per operation) in µs, with ratios to ``floor``.

    ``samples`` names the key of the raw timings in the result (the fan-out
    tables call them ``per_delivery_us``).
    """
    median = statistics.median(per_op)
    result: dict[str, Any] = {
        samples: [round(value * 1e6, 4) for value in per_op],
        "median_us": round(median * 1e6, 4),
        "min_us": round(min(per_op) * 1e6, 4),
        "max_us": round(max(per_op) * 1e6, 4),
    }
    if floor:
        ratios = [mine / base for mine, base in zip(per_op, floor, strict=False)]
        result["ratio"] = round(median / statistics.median(floor), 3)
        result["ratio_min"] = round(min(ratios), 3)
        result["ratio_max"] = round(max(ratios), 3)
    return result


async def _measure(
    scenarios: list[Scenario],
    frameworks: list[Framework],
    sizes: Sizes,
    log: Callable[[str], None],
) -> dict[str, Any]:
    subjects = [await _prepare(framework, sizes) for framework in frameworks]
    for subject in subjects:
        if subject.unavailable is not None:
            log(f"  {subject.framework.key}: unavailable: {subject.unavailable}")
    results: dict[str, Any] = {}
    try:
        for scenario in scenarios:
            size = sizes.of(scenario)
            log(f"  {scenario.key}: {size} {scenario.unit}s x {sizes.repetitions} repetitions")
            errors: dict[str, str] = {}
            timings: dict[str, list[float]] = {}
            live: list[_Subject] = []
            for subject in subjects:
                if subject.unavailable is not None or subject.app is None:
                    continue
                key = subject.framework.key
                try:
                    assert subject.check_app is not None
                    await asyncio.wait_for(scenario.check(subject.check_app, CHECK_SIZE), 30)
                    # Warm-up: one untimed run at full size.
                    await asyncio.wait_for(scenario.run(subject.app, size), _RUN_TIMEOUT)
                except Exception as exc:
                    errors[key] = _describe(exc)
                    log(f"    {key}: failed: {errors[key]}")
                    continue
                live.append(subject)
                timings[key] = []
            if BARE.key in errors:
                raise HarnessError(f"the bare app failed {scenario.key}: {errors[BARE.key]}")
            for _ in range(sizes.repetitions):
                for subject in list(live):
                    key = subject.framework.key
                    assert subject.app is not None
                    gc.collect()
                    try:
                        elapsed = await asyncio.wait_for(
                            scenario.run(subject.app, size), _RUN_TIMEOUT
                        )
                    except Exception as exc:
                        errors[key] = _describe(exc)
                        log(f"    {key}: failed: {errors[key]}")
                        live.remove(subject)
                        del timings[key]
                        continue
                    timings[key].append(elapsed / size)
            if BARE.key in errors:
                raise HarnessError(f"the bare app failed {scenario.key}: {errors[BARE.key]}")
            floor = timings.get(BARE.key)
            cell: dict[str, Any] = {}
            for subject in subjects:
                key = subject.framework.key
                if subject.unavailable is not None:
                    cell[key] = {"unavailable": subject.unavailable}
                elif key in errors:
                    cell[key] = {"error": errors[key]}
                else:
                    cell[key] = summarise(timings[key], None if key == BARE.key else floor)
            results[scenario.key] = {"size": size, "unit": scenario.unit, "frameworks": cell}
            log("    " + _one_line(cell))
    finally:
        for subject in subjects:
            for lifespan in subject.lifespans:
                try:
                    await lifespan.shutdown()
                except Exception as exc:
                    log(f"  {subject.framework.key}: lifespan shutdown raised {exc!r}")
    return {
        "frameworks": {
            subject.framework.key: (
                {"unavailable": subject.unavailable}
                if subject.unavailable is not None
                else {"label": subject.framework.label, "version": subject.framework.version()}
            )
            for subject in subjects
        },
        "scenarios": results,
    }


def _one_line(cell: dict[str, Any]) -> str:
    parts = []
    for key, value in cell.items():
        if "median_us" in value:
            ratio = f" ({value['ratio']}x)" if "ratio" in value else ""
            parts.append(f"{key} {value['median_us']:.3f} us{ratio}")
        else:
            parts.append(f"{key} n/a")
    return ", ".join(parts)


def _available_loop(wanted: str, log: Callable[[str], None]) -> str:
    if wanted != "uvloop":
        return wanted
    try:
        import uvloop  # noqa: F401
    except ImportError:
        log("  uvloop is not installed: running on asyncio's loop instead")
        return "asyncio"
    return wanted


def _run_loop(coro_factory: Callable[[], Any], loop_name: str) -> Any:
    if loop_name == "uvloop":
        import uvloop

        return uvloop.run(coro_factory())
    return asyncio.run(coro_factory())


def run(
    scenarios: list[Scenario],
    frameworks: list[Framework],
    sizes: Sizes,
    *,
    loop: str = "uvloop",
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run the in-process level and return its results (JSON-ready).

    Args:
        scenarios: Scenarios to run, in order.
        frameworks: Frameworks to compare; must include the bare app.
        sizes: Operation counts and repetitions.
        loop: ``"uvloop"`` or ``"asyncio"``: the event loop to run on (asyncio's
            when uvloop is not installed; the results say which ran).
        log: Where progress lines go.

    Returns:
        ``{"frameworks": {key: info}, "scenarios": {key: {...}}, "sizes": ..., "loop": ...}``.

    Raises:
        HarnessError: The bare app failed a scenario, so no ratio means anything.
    """
    if BARE not in frameworks:
        raise HarnessError("the bare app must be among the frameworks: it is the floor")
    loop = _available_loop(loop, log)
    result: dict[str, Any] = _run_loop(lambda: _measure(scenarios, frameworks, sizes, log), loop)
    result["sizes"] = {
        "messages": sizes.messages,
        "connections": sizes.connections,
        "requests": sizes.requests,
        "repetitions": sizes.repetitions,
    }
    result["loop"] = loop
    return result


def profile(
    framework: Framework,
    scenario: Scenario,
    sizes: Sizes,
    *,
    loop: str = "uvloop",
    top: int = 25,
) -> str:
    """Profile one run of ``scenario`` on ``framework`` with cProfile.

    Returns:
        The ``top`` entries by internal time, then by cumulative time, as text.

    Raises:
        Unavailable: The framework's app cannot be built.
    """
    size = sizes.of(scenario)

    async def body() -> cProfile.Profile:
        app = framework.build(push_count=sizes.messages, sse_count=sizes.messages)
        lifespan = Lifespan(app)
        await lifespan.startup()
        try:
            await scenario.run(app, size)  # warm-up
            profiler = cProfile.Profile()
            profiler.enable()
            await scenario.run(app, size)
            profiler.disable()
        finally:
            await lifespan.shutdown()
        return profiler

    profiler: cProfile.Profile = _run_loop(body, _available_loop(loop, print))
    out = io.StringIO()
    out.write(f"# {framework.key} / {scenario.key}: {size} {scenario.unit}s\n")
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()
