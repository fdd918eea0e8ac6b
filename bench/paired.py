"""Paired end-to-end CPU check: each framework against the bare app, window by window.

The end-to-end level measures each framework on its own server, one after the
other, so the figures it compares are taken tens of seconds apart. On a shared
2-core machine the CPU time a server needs per operation drifts by more than
that in tens of seconds (other guests take cycles, caches go cold), which is
more than the 5 % the CPU target allows.

Here every server runs at once, idle between windows. Each round measures the
bare app and one framework in back-to-back windows of the same load (echo
round trips over 50 connections), alternating which goes first, and keeps
the ratio of the two. A drift slower than a window cancels out of each ratio;
the median of the rounds and their range are what the report shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench import _client
from bench._process import ServerProcess
from bench.e2e import WINDOW_SLACK
from bench.frameworks import BARE, Framework

__all__ = ["PairedConfig", "run"]


@dataclass(frozen=True)
class PairedConfig:
    """What the paired check measures.

    Attributes:
        impl: The uvicorn ``--ws`` implementation every server uses.
        rounds: Pairs of windows per framework.
        seconds: Length of each window.
        connections: Concurrent echo connections in each window.
        push_count: Messages per ``/push`` connection (the servers need it to start).
        sse_count: Events per ``/sse`` stream (likewise).
    """

    impl: str
    rounds: int
    seconds: float
    connections: int = 50
    push_count: int = 2000
    sse_count: int = 2000


async def _cpu_per_op(server: ServerProcess, config: PairedConfig) -> float:
    """Return the server's CPU microseconds per echo round trip over one window."""
    meter = _client.Meter(server.cpu_seconds)
    taken = await asyncio.wait_for(
        _client.echo(server.port, config.connections, config.seconds, meter),
        config.seconds + WINDOW_SLACK,
    )
    if taken.ops == 0:
        raise _client.ProtocolError(f"{server.framework}: no echo completed in the window")
    return taken.cpu_s / taken.ops * 1e6


async def _measure(
    frameworks: list[Framework], config: PairedConfig, log: Callable[[str], None]
) -> dict[str, Any]:
    peers = [framework for framework in frameworks if framework.key != BARE.key]
    ratios: dict[str, list[float]] = {framework.key: [] for framework in peers}
    with contextlib.ExitStack() as stack:
        servers = {
            framework.key: stack.enter_context(
                ServerProcess(
                    framework.key,
                    config.impl,
                    push_count=config.push_count,
                    sse_count=config.sse_count,
                )
            )
            for framework in [BARE, *peers]
        }
        for server in servers.values():  # warm-up, untimed
            warm = _client.Meter(server.cpu_seconds)
            await asyncio.wait_for(
                _client.echo(server.port, config.connections, 0.2, warm), WINDOW_SLACK
            )
        bare = servers[BARE.key]
        for round_index in range(config.rounds):
            for framework in peers:
                server = servers[framework.key]
                if round_index % 2 == 0:
                    floor = await _cpu_per_op(bare, config)
                    cost = await _cpu_per_op(server, config)
                else:
                    cost = await _cpu_per_op(server, config)
                    floor = await _cpu_per_op(bare, config)
                ratios[framework.key].append(cost / floor)
            log(
                f"  paired round {round_index + 1}/{config.rounds}: "
                + ", ".join(f"{key} {values[-1]:.2f}x" for key, values in ratios.items())
            )
    return {
        key: {
            "ratios": [round(value, 3) for value in values],
            "median": round(statistics.median(values), 3),
            "min": round(min(values), 3),
            "max": round(max(values), 3),
        }
        for key, values in ratios.items()
        if values
    }


def run(
    frameworks: list[Framework], config: PairedConfig, *, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Compare each framework's server CPU per echo round trip with the bare app's.

    Returns:
        ``{"config": {...}, "ratios": {framework key: {"ratios": [...], "median",
        "min", "max"}}}``; empty ratios when ``frameworks`` holds only the bare app.
    """
    ratios: dict[str, Any] = {}
    if any(framework.key != BARE.key for framework in frameworks):
        import uvloop  # a bench dependency, like the servers' own loop

        ratios = uvloop.run(_measure(frameworks, config, log))
    return {
        "config": {
            "impl": config.impl,
            "rounds": config.rounds,
            "seconds": config.seconds,
            "connections": config.connections,
        },
        "ratios": ratios,
    }
