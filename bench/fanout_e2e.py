"""End-to-end fan-out under uvicorn: one worker in memory, and two workers over Redis.

For each run and each implementation in turn (interleaved), a fresh server
serves:

- in memory (one worker, :mod:`bench._serve_fanout`): a healthy run
  (``subscribers`` clients that all read) and a stalled run (the same with 5 %
  of them never reading, larger messages), each with a publisher at ``rate``
  messages per second (see :mod:`bench._fanclient`);
- over Redis (``--workers 2``, a private ``redis-server``): the healthy run,
  with the Redis server's own CPU time per message as well.

Figures per run: delivered ratio to the healthy subscribers, latency p50 and
p99, the server's CPU per 1000 deliveries (the whole process tree), the load
client's own CPU, the server's RSS growth and how many stalled subscribers the
server closed. Results keep every run, the median, and ratios of medians to
the hand-written floor.
"""

from __future__ import annotations

import asyncio
import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from bench._fanclient import FanoutLoad, FanoutOutcome, fan_out
from bench._fanserve import FanoutServer
from bench._redis import RedisServer
from bench.endpoints import FANOUT_BACKLOG
from bench.fanout_frameworks import FANOUT_FLOOR, FanoutFramework

__all__ = ["FanoutE2EConfig", "run"]

_RUN_SLACK: Final = 120.0
"""Seconds a run may overrun its publishing time before it counts as hung."""

CPU_TARGET: Final = 1.1
P99_STALL_TARGET: Final = 2.0
RSS_ALLOWANCE_MB: Final = 5.0
REDIS_TARGET: Final = 1.2


@dataclass(frozen=True)
class FanoutE2EConfig:
    """What the end-to-end fan-out measures.

    Attributes:
        runs: Servers started per implementation and level.
        subscribers: Subscribers per run.
        rate: Messages published per second.
        messages: Messages per run.
        size: Bytes per message in the healthy runs.
        stalled_fraction: Share of subscribers that never read in the stalled run.
        stalled_size: Bytes per message in the stalled run.
        sndbuf: ``SO_SNDBUF`` of the one-worker servers (0: the OS's autotuning).
        memory: Run the one-worker level.
        redis: Run the two-worker Redis level.
        workers: Workers in the Redis level.
        stalled_drain: Seconds a stalled subscriber reads after the run, waiting
            for the server's close, before it counts as never closed.
    """

    runs: int
    subscribers: int
    rate: float
    messages: int
    size: int = 64
    stalled_fraction: float = 0.05
    stalled_size: int = 1024
    sndbuf: int = 65536
    memory: bool = True
    redis: bool = True
    workers: int = 2
    stalled_drain: float = 8.0

    @property
    def stalled(self) -> int:
        """How many subscribers stall in the stalled run (at least one)."""
        return max(1, round(self.subscribers * self.stalled_fraction))


def _redis_cpu(pid: int) -> Callable[[], float]:
    def read() -> float:
        try:
            return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
        except FileNotFoundError:
            return 0.0

    return read


async def _one(
    server: FanoutServer, load: FanoutLoad, extra: Callable[[], float], drain: float
) -> FanoutOutcome:
    return await asyncio.wait_for(
        fan_out(
            server.port,
            load,
            server.cpu_seconds,
            server.rss_bytes,
            extra_cpu=extra,
            stalled_drain=drain,
        ),
        load.messages / load.rate + _RUN_SLACK,
    )


def _figures(outcome: FanoutOutcome, load: FanoutLoad) -> dict[str, float]:
    deliveries = max(outcome.delivered, 1)
    return {
        "delivered_ratio": round(outcome.delivered_ratio, 5),
        "p50_ms": round(outcome.median_ms(), 3),
        "p99_ms": round(outcome.percentile_ms(0.99), 3),
        "server_cpu_ms_per_1000": round(outcome.server_cpu_s / deliveries * 1e6, 3),
        "client_cpu_s": round(outcome.client_cpu_s, 3),
        "client_cpu_ms_per_1000": round(outcome.client_cpu_s / deliveries * 1e6, 3),
        "rss_growth_mb": round(outcome.rss_growth / 1e6, 3),
        "stalled_closed": outcome.stalled_closed,
        "stalled": load.stalled,
        "redis_cpu_us_per_message": round(outcome.extra_cpu_s / load.messages * 1e6, 3),
    }


def _line(name: str, figures: dict[str, float]) -> str:
    return (
        f"{name}: delivered {figures['delivered_ratio']:.4f}, p50 {figures['p50_ms']:.1f} ms, "
        f"p99 {figures['p99_ms']:.1f} ms, server {figures['server_cpu_ms_per_1000']:.1f} ms/1000, "
        f"client {figures['client_cpu_s']:.2f} s, rss +{figures['rss_growth_mb']:.2f} MB, "
        f"closed {figures['stalled_closed']}/{figures['stalled']}"
    )


async def _measure(
    frameworks: list[FanoutFramework],
    config: FanoutE2EConfig,
    level: str,
    url: Callable[[], str],
    extra: Callable[[], float],
    log: Callable[[str], None],
) -> dict[str, Any]:
    loads = {
        "healthy": FanoutLoad(config.subscribers, 0, config.rate, config.messages, config.size),
    }
    if level == "memory":
        loads["stalled"] = FanoutLoad(
            config.subscribers, config.stalled, config.rate, config.messages, config.stalled_size
        )
    samples: dict[str, dict[str, list[dict[str, float]]]] = {}
    errors: dict[str, str] = {}
    workers = 1 if level == "memory" else config.workers
    for run_index in range(config.runs):
        for framework in frameworks:
            key = framework.key
            if key in errors:
                continue
            log(f"  {level} run {run_index + 1}/{config.runs} {key}")
            try:
                with FanoutServer(
                    key, url(), workers=workers, sndbuf=config.sndbuf if workers == 1 else 0
                ) as server:
                    for name, load in loads.items():
                        figures = _figures(
                            await _one(server, load, extra, config.stalled_drain), load
                        )
                        samples.setdefault(key, {}).setdefault(name, []).append(figures)
                        log("    " + _line(name, figures))
            except Exception as exc:
                errors[key] = f"{type(exc).__name__}: {exc}"[:600]
                log(f"    failed: {errors[key]}")
    return _summarise(frameworks, samples, errors, config, loads)


def _median_of(runs: list[dict[str, float]], field: str) -> float:
    values = [run[field] for run in runs if not math.isnan(run[field])]
    return round(statistics.median(values), 3) if values else float("nan")


def _summarise(
    frameworks: list[FanoutFramework],
    samples: dict[str, dict[str, list[dict[str, float]]]],
    errors: dict[str, str],
    config: FanoutE2EConfig,
    loads: dict[str, FanoutLoad],
) -> dict[str, Any]:
    cells: dict[str, Any] = {}
    for framework in frameworks:
        key = framework.key
        if key in errors or key not in samples:
            cells[key] = {"error": errors.get(key, "no measurement")}
            continue
        cell: dict[str, Any] = {}
        for name, runs in samples[key].items():
            cell[name] = {
                "runs": runs,
                "delivered_ratio": min(run["delivered_ratio"] for run in runs),
                **{
                    field: _median_of(runs, field)
                    for field in (
                        "p50_ms",
                        "p99_ms",
                        "server_cpu_ms_per_1000",
                        "client_cpu_s",
                        "client_cpu_ms_per_1000",
                        "rss_growth_mb",
                        "redis_cpu_us_per_message",
                    )
                },
                "stalled_closed": min(run["stalled_closed"] for run in runs),
                "stalled": loads[name].stalled,
            }
        cells[key] = cell
    floor = cells.get(FANOUT_FLOOR.key, {})
    for key, cell in cells.items():
        if key == FANOUT_FLOOR.key or "error" in cell or "error" in floor:
            continue
        for name, entry in cell.items():
            base = floor.get(name, {})
            for field in ("server_cpu_ms_per_1000", "p99_ms"):
                if base.get(field):
                    entry[field.split("_")[0] + "_ratio"] = round(entry[field] / base[field], 3)
    for cell in cells.values():
        if "healthy" in cell and "stalled" in cell and cell["healthy"]["p99_ms"]:
            cell["stalled"]["p99_vs_healthy"] = round(
                cell["stalled"]["p99_ms"] / cell["healthy"]["p99_ms"], 3
            )
            cell["stalled"]["rss_allowance_mb"] = round(
                RSS_ALLOWANCE_MB
                + cell["stalled"]["stalled"] * FANOUT_BACKLOG * config.stalled_size / 1e6,
                3,
            )
    return {"cells": cells, "errors": errors}


def run(
    frameworks: list[FanoutFramework],
    config: FanoutE2EConfig,
    *,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run the end-to-end fan-out levels the config asks for; return their results.

    Returns:
        ``{"config": {...}, "memory": {"cells", "errors"}, "redis": {...}}`` (a level
        left out is absent).

    Raises:
        bench._redis.RedisMissing: The Redis level was asked for and
            ``redis-server`` is not installed (the message says how to install it).
    """
    import uvloop

    from bench.e2e import _raise_fd_limit

    _raise_fd_limit(config.subscribers * 4 + 1024)
    result: dict[str, Any] = {
        "config": {
            "runs": config.runs,
            "subscribers": config.subscribers,
            "rate": config.rate,
            "messages": config.messages,
            "size": config.size,
            "stalled": config.stalled,
            "stalled_size": config.stalled_size,
            "backlog": FANOUT_BACKLOG,
            "sndbuf": config.sndbuf,
            "workers": config.workers,
            "server": "uvicorn --loop uvloop --http httptools --ws websockets-sansio",
        }
    }
    if config.memory:
        log(
            f"fan-out end to end, 1 worker: {config.subscribers} subscribers, "
            f"{config.rate:g} msg/s, {config.messages} messages"
        )
        result["memory"] = uvloop.run(
            _measure(frameworks, config, "memory", lambda: "memory://", lambda: 0.0, log)
        )
    if config.redis:
        log(f"fan-out end to end, {config.workers} workers over Redis")
        with RedisServer() as redis:
            result["redis"] = uvloop.run(
                _measure(
                    frameworks,
                    config,
                    "redis",
                    lambda: redis.url,
                    _redis_cpu(redis.pid),
                    log,
                )
            )
    return result
