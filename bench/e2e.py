"""The end-to-end level: each app under uvicorn in a subprocess, driven over loopback.

For every run, every WebSocket implementation and every framework in turn
(interleaved, like the in-process level), one server serves the throughput
metrics and a fresh one serves the idle-memory measurement. The client runs
in this process on uvloop (see :mod:`bench._client`). Each metric records
operations per second and the server's CPU time per operation; results keep
every run's figure, the median and range, and the ratio of medians to the
bare app's.
"""

from __future__ import annotations

import asyncio
import resource
import statistics
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from bench import _client
from bench._process import ServerProcess
from bench.frameworks import BARE, Framework

__all__ = ["DEFAULT_IMPLS", "METRICS", "WINDOW_SLACK", "E2EConfig", "run"]

DEFAULT_IMPLS: Final = ("websockets-sansio", "wsproto")
"""uvicorn's default WebSocket implementation and the other one end-to-end tests cover."""

METRICS: Final = {
    "echo_1": "echo round trips, 1 connection",
    "echo_50": "echo round trips, 50 connections",
    "handshake": "connections (handshake, one echo, close)",
    "push": "pushed messages, one connection at a time",
    "sse": "SSE events, one stream at a time",
    "http_get": "HTTP GET /json, 4 keep-alive connections",
}
"""Every throughput metric and what one operation is."""

WINDOW_SLACK: Final = 60.0
"""Seconds a metric may overrun its window before it counts as hung."""


@dataclass(frozen=True)
class E2EConfig:
    """How long and how often the end-to-end level measures.

    Attributes:
        runs: Servers started per framework and implementation.
        seconds: Length of each metric's window.
        impls: uvicorn ``--ws`` implementations.
        idle_connections: Connections held open for the memory figure.
        push_count: Messages per ``/push`` connection.
        sse_count: Events per ``/sse`` stream.
        metrics: Throughput metrics to take (keys of :data:`METRICS`).
    """

    runs: int
    seconds: float
    impls: tuple[str, ...]
    idle_connections: int
    push_count: int
    sse_count: int
    metrics: tuple[str, ...] = tuple(METRICS)


def _raise_fd_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))


def _metric(
    name: str, server: ServerProcess, config: E2EConfig
) -> Callable[[], Awaitable[_client.Measurement]]:
    meter = _client.Meter(server.cpu_seconds)
    port, seconds = server.port, config.seconds
    factories: dict[str, Callable[[], Awaitable[_client.Measurement]]] = {
        "echo_1": lambda: _client.echo(port, 1, seconds, meter),
        "echo_50": lambda: _client.echo(port, 50, seconds, meter),
        "handshake": lambda: _client.handshakes(port, seconds, meter),
        "push": lambda: _client.push(port, seconds, config.push_count, meter),
        "sse": lambda: _client.sse(port, seconds, config.sse_count, meter),
        "http_get": lambda: _client.http_get(port, seconds, meter),
    }
    return factories[name]


async def _throughput(
    framework: Framework, impl: str, config: E2EConfig
) -> dict[str, _client.Measurement]:
    taken: dict[str, _client.Measurement] = {}
    with ServerProcess(
        framework.key, impl, push_count=config.push_count, sse_count=config.sse_count
    ) as server:
        # Warm-up: import paths, caches and allocator arenas, untimed.
        warm = _client.Meter(server.cpu_seconds)
        await asyncio.wait_for(_client.echo(server.port, 2, 0.05, warm), WINDOW_SLACK)
        await asyncio.wait_for(_client.http_get(server.port, 0.05, warm), WINDOW_SLACK)
        for name in config.metrics:
            taken[name] = await asyncio.wait_for(
                _metric(name, server, config)(), config.seconds + WINDOW_SLACK
            )
    return taken


async def _memory(framework: Framework, impl: str, config: E2EConfig) -> float:
    with ServerProcess(
        framework.key, impl, push_count=config.push_count, sse_count=config.sse_count
    ) as server:
        return await asyncio.wait_for(
            _client.idle_connections(server.port, config.idle_connections, server.rss_bytes),
            WINDOW_SLACK * 2,
        )


def _spread(values: list[float], digits: int) -> dict[str, Any]:
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
    }


def _summarise(
    frameworks: list[Framework],
    samples: dict[str, dict[str, list[_client.Measurement]]],
    memory: dict[str, list[float]],
    errors: dict[str, str],
    config: E2EConfig,
) -> dict[str, Any]:
    metrics: dict[str, Any] = {}
    for name in config.metrics:
        cell: dict[str, Any] = {}
        floor: dict[str, Any] | None = None
        for framework in frameworks:
            key = framework.key
            runs = samples.get(key, {}).get(name, [])
            if key in errors or not runs:
                cell[key] = {"error": errors.get(key, "no measurement")}
                continue
            rates = [m.ops / m.wall_s for m in runs if m.wall_s > 0]
            cpu_us = [m.cpu_s / m.ops * 1e6 for m in runs if m.ops]
            if not rates or not cpu_us:
                cell[key] = {"error": "no operations completed"}
                continue
            entry: dict[str, Any] = {
                "rate": [round(r, 1) for r in rates],
                "rate_per_s": _spread(rates, 1),
                "cpu_us": [round(c, 3) for c in cpu_us],
                "cpu_us_per_op": _spread(cpu_us, 3),
            }
            if key == BARE.key:
                floor = entry
            elif floor is not None:
                entry["rate_ratio"] = round(
                    entry["rate_per_s"]["median"] / floor["rate_per_s"]["median"], 3
                )
                if floor["cpu_us_per_op"]["median"] > 0:
                    entry["cpu_ratio"] = round(
                        entry["cpu_us_per_op"]["median"] / floor["cpu_us_per_op"]["median"], 3
                    )
            cell[key] = entry
        metrics[name] = cell
    mem: dict[str, Any] = {}
    for framework in frameworks:
        key = framework.key
        values = memory.get(key, [])
        if key in errors or not values:
            mem[key] = {"error": errors.get(key, "no measurement")}
        else:
            mem[key] = {"kib": [round(v, 2) for v in values], **_spread(values, 2)}
    return {"metrics": metrics, "memory_kib_per_idle_ws": mem}


async def _measure(
    frameworks: list[Framework], config: E2EConfig, log: Callable[[str], None]
) -> dict[str, Any]:
    by_impl: dict[str, Any] = {}
    samples: dict[str, dict[str, dict[str, list[_client.Measurement]]]] = {
        impl: {} for impl in config.impls
    }
    memory: dict[str, dict[str, list[float]]] = {impl: {} for impl in config.impls}
    errors: dict[str, dict[str, str]] = {impl: {} for impl in config.impls}
    for run_index in range(config.runs):
        for impl in config.impls:
            for framework in frameworks:
                key = framework.key
                if key in errors[impl]:
                    continue
                log(f"  run {run_index + 1}/{config.runs} {impl} {key}")
                try:
                    taken = await _throughput(framework, impl, config)
                    kib = await _memory(framework, impl, config)
                except asyncio.TimeoutError:
                    errors[impl][key] = "no result in time: the server or the client seems to hang"
                    log(f"    failed: {errors[impl][key]}")
                    continue
                except Exception as exc:
                    errors[impl][key] = f"{type(exc).__name__}: {exc}"
                    log(f"    failed: {errors[impl][key]}")
                    continue
                for name, measurement in taken.items():
                    samples[impl].setdefault(key, {}).setdefault(name, []).append(measurement)
                memory[impl].setdefault(key, []).append(kib)
                log(
                    "    "
                    + ", ".join(
                        f"{name} {m.ops / m.wall_s:,.0f}/s {m.cpu_s / max(m.ops, 1) * 1e6:.1f}us"
                        for name, m in taken.items()
                    )
                    + f", idle {kib:.1f} KiB/ws"
                )
    for impl in config.impls:
        by_impl[impl] = _summarise(frameworks, samples[impl], memory[impl], errors[impl], config)
        by_impl[impl]["errors"] = errors[impl]
    return by_impl


def run(
    frameworks: list[Framework], config: E2EConfig, *, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Run the end-to-end level and return its results (JSON-ready).

    A framework whose server fails is recorded with its error and skipped for
    the rest of that implementation; the others go on.

    Returns:
        ``{"config": {...}, "metric_units": {...}, "impls": {impl: {"metrics": ...,
        "memory_kib_per_idle_ws": ..., "errors": ...}}}``.
    """
    import uvloop

    _raise_fd_limit(config.idle_connections + 1024)
    impls = uvloop.run(_measure(frameworks, config, log))
    return {
        "config": {
            "runs": config.runs,
            "seconds": config.seconds,
            "impls": list(config.impls),
            "idle_connections": config.idle_connections,
            "push_count": config.push_count,
            "sse_count": config.sse_count,
            "server": "uvicorn, 1 worker, --loop uvloop --http httptools, "
            "--ws-per-message-deflate false",
        },
        "metric_units": {name: METRICS[name] for name in config.metrics},
        "impls": impls,
    }
