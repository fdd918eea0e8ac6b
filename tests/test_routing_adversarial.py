"""Routing takes time linear in the path's length, whatever the path (DESIGN.md §7).

Each case pairs a template shape with a crafted path family that once made the
router backtrack (seconds for a few KB), or that exercises a typed converter, a
literal-heavy segment or the tree search. The test times one lookup at 6 KB and
at 60 KB: ten times the path may cost at most about twenty times the time (a
quadratic matcher costs a hundred times). Times are the minimum of several runs,
and a ratio above the bound is measured again before the test fails; times
are this thread's CPU time, so a loaded machine does not make it flaky. Each
lookup also has a liveness deadline of one CPU second.
"""

from __future__ import annotations

import contextlib
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from lanner.routing import CompiledRouter

SMALL = 6_000
LARGE = 60_000
MAX_GROWTH = 20.0
DEADLINE = 1.0
"""CPU seconds one lookup may take: the liveness bound."""
HANG = 10.0
"""Wall seconds after which a lookup is interrupted, so a regression fails instead of hanging."""
ATTEMPTS = 3

_UUID = str(uuid.UUID(int=0x1234))


def _fill(unit: str, size: int) -> str:
    """``unit`` repeated to exactly ``size`` characters."""
    return (unit * (size // len(unit) + 1))[:size]


# (templates, path for a size, the template the path matches or None)
Case = tuple[tuple[str, ...], Callable[[int], str], str | None]

CASES: dict[str, Case] = {
    # The issue's own figures: several plain fields between literals.
    "three fields and a suffix": (
        ("/archive/{year}-{month}-{day}.json",),
        lambda n: "/archive/" + _fill("-", n) + ".json",
        "/archive/{year}-{month}-{day}.json",
    ),
    "three fields, no suffix": (
        ("/archive/{year}-{month}-{day}.json",),
        lambda n: "/archive/" + _fill("-", n),
        None,
    ),
    "four fields": (("/a/{a}-{b}-{c}-{d}",), lambda n: "/a/" + _fill("-", n), "/a/{a}-{b}-{c}-{d}"),
    "name.ext.bak": (
        ("/{name}.{ext}.bak",),
        lambda n: "/" + _fill(".", n) + ".bak",
        "/{name}.{ext}.bak",
    ),
    "name.ext.bak, no suffix": (("/{name}.{ext}.bak",), lambda n: "/" + _fill(".", n), None),
    # Typed converters, where the syntax guides the split.
    "float then x": (("/l/{level:float}x",), lambda n: "/l/" + _fill("1", n) + "yx", None),
    "float then x, no x": (("/l/{level:float}x",), lambda n: "/l/" + _fill("1", n), None),
    "whole-segment float": (("/l/{level:float}",), lambda n: "/l/" + _fill("1", n) + "x", None),
    "float.float.float": (
        ("/v/{a:float}.{b:float}.{c:float}",),
        lambda n: "/v/" + _fill("1.", n),
        None,
    ),
    "float e float": (("/e/{a:float}e{b:float}",), lambda n: "/e/" + _fill("1e", n), None),
    "int.rest": (("/p/{a:int}.{b}",), lambda n: "/p/" + _fill("1.", n) + "x", "/p/{a:int}.{b}"),
    "int-int-int": (
        ("/d/{a:int}-{b:int}-{c:int}x",),
        lambda n: "/d/" + _fill("1-", n) + "x",
        None,
    ),
    "int, literal digit": (
        ("/q/{a:int}1{b}x",),
        lambda n: "/q/" + _fill("1", n) + "x",
        None,
    ),  # int refuses 4,300+ digits
    "whole-segment int": (("/i/{n:int}",), lambda n: "/i/" + _fill("1", n), None),
    "uuid-uuid": (("/u/{a:uuid}-{b:uuid}",), lambda n: "/u/" + _fill(_UUID + "-", n), None),
    "uuid.rest": (("/u/{a:uuid}.{b}",), lambda n: "/u/" + _fill(_UUID + ".", n), "/u/{a:uuid}.{b}"),
    "path": (("/f/{p:path}",), lambda n: "/f/" + _fill("a/", n), "/f/{p:path}"),
    # Literals that overlap themselves and each other.
    "literal-heavy": (("/m/ab{x}abab{y}aba",), lambda n: "/m/" + _fill("ab", n), None),
    "long literal": (
        ("/m/" + "ab" * 50 + "{x}" + "ab" * 50 + "c",),
        lambda n: "/m/" + _fill("ab", n),
        None,
    ),
    # The tree search: many candidates per segment, many segments.
    "deep tree": (
        (
            "/{a}/{b}/{c}/{d}/x",
            "/{a:int}/{b:int}/{c}/{d}/y",
            "/{a}.{b}/{c}-{d}/{e:float}/{f}/z",
            "/{a:float}/{b}/{c:path}",
        ),
        lambda n: _fill("/1.5", n),
        "/{a:float}/{b}/{c:path}",
    ),
    "long segments, deep tree": (
        ("/{a}/{b}-{c}/{d:int}/x", "/{a}/{b}/{c}/y", "/{a}/{b}-{c}/{d}/{e:path}"),
        lambda n: "/" + _fill("-", n // 3) + "/" + _fill("-", n // 3) + "/" + _fill("1", n // 3),
        None,
    ),
}


@contextlib.contextmanager
def _interrupt_after(seconds: float) -> Iterator[None]:
    """Raise ``TimeoutError`` in this (the main) thread if the block runs too long.

    A router that backtracks would otherwise hang the test run for hours; the
    regular expression engine checks for signals, so the alarm interrupts it.
    """

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"a lookup ran for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _router(templates: tuple[str, ...]) -> CompiledRouter[str]:
    router: CompiledRouter[str] = CompiledRouter()
    for template in templates:
        router.add(template, template)
    return router


def _time_per_lookup(router: CompiledRouter[str], path: str) -> float:
    """The best CPU time of one lookup over several runs, each long enough to time well.

    CPU time of this thread, not wall time: on a loaded machine a run longer
    than the scheduler's time slice waits for the CPU, which would inflate the
    large path's time only.
    """
    with _interrupt_after(HANG):
        started = time.thread_time()
        router.find(path)
        single = time.thread_time() - started
        assert single < DEADLINE, f"one lookup of {len(path)} characters took {single:.2f} s"
        number = max(1, int(0.002 / max(single, 1e-7)))
        best = float("inf")
        for _ in range(5):
            started = time.thread_time()
            for _ in range(number):
                router.find(path)
            best = min(best, (time.thread_time() - started) / number)
    return best


@pytest.mark.parametrize("name", list(CASES))
def test_lookup_time_grows_linearly_with_the_path(name: str) -> None:
    templates, make_path, expected = CASES[name]
    router = _router(templates)
    small, large = make_path(SMALL), make_path(LARGE)
    with _interrupt_after(HANG):
        found = router.find(large)
    assert (None if found is None else found[0]) == expected
    ratios: list[float] = []
    for _ in range(ATTEMPTS):
        ratio = _time_per_lookup(router, large) / _time_per_lookup(router, small)
        ratios.append(ratio)
        if ratio <= MAX_GROWTH:
            break
    assert min(ratios) <= MAX_GROWTH, (
        f"{name}: ten times the path cost {', '.join(f'{r:.0f}' for r in ratios)} times the time"
    )


def test_issue_paths_are_refused_or_matched_quickly() -> None:
    """The issue's exact figures: each took seconds before, and gets its answer now."""
    lookups: list[tuple[str, str, Any]] = [
        ("/archive/{year}-{month}-{day}.json", "/archive/" + "-" * 1600, None),
        ("/a/{a}-{b}-{c}-{d}.x", "/a/" + "-" * 400, None),
        ("/{name}.{ext}.bak", "/" + "." * 60_000, None),
        ("/z/{level:float}x", "/z/" + "1" * 16_000, None),
        (
            "/archive/{year}-{month}-{day}.json",
            "/archive/2024-05-06.json",
            {"year": "2024", "month": "05", "day": "06"},
        ),
    ]
    for template, path, expected in lookups:
        router = _router((template,))
        with _interrupt_after(HANG):
            started = time.thread_time()
            found = router.find(path)
            assert time.thread_time() - started < DEADLINE
        assert (None if found is None else found[1]) == expected
