"""The fan-out tables of ``docs/benchmarks.md``: in process, end to end, and over Redis."""

from __future__ import annotations

import math
from typing import Any, Final

from bench.fanout_frameworks import FANOUT_FLOOR, FANOUT_FRAMEWORKS

__all__ = ["fanout_tables"]

_LABELS: Final = {fw.key: fw.label for fw in FANOUT_FRAMEWORKS}
_X: Final = "\u00d7"
_DASH: Final = "\u2013"


def _keys(present: dict[str, Any]) -> list[str]:
    return [fw.key for fw in FANOUT_FRAMEWORKS if fw.key in present]


def _yes(condition: bool) -> str:
    return "yes" if condition else "no"


def _in_process(section: dict[str, Any]) -> list[str]:
    sizes = section["sizes"]
    cells = section["cells"]
    keys = _keys(cells)
    lines = [
        "### Fan-out in process: cost per delivery, publishing to "
        f"{sizes['subscribers']:,} WebSocket subscribers",
        "",
        f"{sizes['messages']} messages per run, published in batches of {sizes['batch']} "
        f"(backlog {sizes['backlog']}); {sizes['repetitions']} repetitions, interleaved; "
        f"event loop {section['loop']}. Each cell: µs per delivery (median, range), then the "
        "ratio to the hand-written fan-out of the same repetitions.",
        "",
        "| | " + " | ".join(_LABELS[key] for key in keys) + " |",
        "|---|" + "---:|" * len(keys),
    ]
    row = []
    for key in keys:
        cell = cells[key]
        if "median_us" not in cell:
            row.append("unavailable" if "unavailable" in cell else "failed")
            continue
        text = f"{cell['median_us']:.2f} µs ({cell['min_us']:.2f}{_DASH}{cell['max_us']:.2f})"
        if "ratio" in cell:
            text += (
                f"; {cell['ratio']:.2f}{_X} ({cell['ratio_min']:.2f}{_DASH}{cell['ratio_max']:.2f})"
            )
        row.append(text)
    lines.append("| cost per delivery | " + " | ".join(row) + " |")
    lines.append("")
    lanner = cells.get("lanner", {})
    if "ratio" in lanner:
        peers = [
            cells[key]["median_us"]
            for key in keys
            if key not in ("lanner", FANOUT_FLOOR.key) and "median_us" in cells[key]
        ]
        ahead = all(lanner["median_us"] < peer for peer in peers)
        lines += [
            f"Target: lanner at most {section['target']}{_X} the hand-written fan-out: "
            f"{_yes(lanner['ratio'] <= section['target'])} ({lanner['ratio']:.2f}{_X}); "
            f"ahead of every peer: {_yes(ahead)}.",
            "",
        ]
    for key in keys:
        reason = cells[key].get("unavailable") or cells[key].get("error")
        if reason:
            lines.append(f"- {_LABELS[key]}: {reason}")
    return lines


def _num(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.{digits}f}"


def _e2e_rows(level: dict[str, Any], keys: list[str], run: str) -> list[str]:
    cells = level["cells"]

    def field(key: str, name: str, digits: int = 1, ratio: str | None = None) -> str:
        entry = cells[key].get(run) if "error" not in cells[key] else None
        if entry is None:
            return "failed"
        text = _num(entry.get(name), digits)
        if ratio and ratio in entry:
            text += f" ({entry[ratio]:.2f}{_X})"
        return text

    rows = [
        ("delivered to the healthy subscribers", "delivered_ratio", 4, None),
        ("latency p50, ms", "p50_ms", 1, None),
        ("latency p99, ms", "p99_ms", 1, "p99_ratio"),
        ("server CPU per 1000 deliveries, ms", "server_cpu_ms_per_1000", 1, "server_ratio"),
        ("load client CPU, s", "client_cpu_s", 2, None),
        ("server RSS growth, MB", "rss_growth_mb", 2, None),
    ]
    lines = []
    for title, name, digits, ratio in rows:
        lines.append(
            f"| {title} | " + " | ".join(field(key, name, digits, ratio) for key in keys) + " |"
        )
    return lines


def _e2e(section: dict[str, Any]) -> list[str]:
    config = section["config"]
    level = section["memory"]
    keys = _keys(level["cells"])
    header = "| | " + " | ".join(_LABELS[key] for key in keys) + " |"
    rule = "|---|" + "---:|" * len(keys)
    lines = [
        "### Fan-out end to end (uvicorn, 1 worker)",
        "",
        f"{config['subscribers']} subscribers, a publisher at {config['rate']:g} messages per "
        f"second, {config['messages']} messages of {config['size']} bytes; median of "
        f"{config['runs']} run(s) (delivered: the worst run). Server sockets have a fixed "
        f"{config['sndbuf'] // 1024} KiB send buffer (see below). Ratios are to the "
        "hand-written fan-out.",
        "",
        header,
        rule,
        *_e2e_rows(level, keys, "healthy"),
        "",
        f"The same with {config['stalled']} of the {config['subscribers']} subscribers never "
        f"reading (a 4 KiB receive buffer), {config['stalled_size']}-byte messages:",
        "",
        header,
        rule,
        *_e2e_rows(level, keys, "stalled"),
    ]
    closed = []
    for key in keys:
        entry = level["cells"][key].get("stalled") if "error" not in level["cells"][key] else None
        closed.append(
            "failed" if entry is None else f"{entry['stalled_closed']} of {entry['stalled']}"
        )
    lines.append("| stalled subscribers closed by the server | " + " | ".join(closed) + " |")
    lines.append("")
    lines += _e2e_targets(level)
    for key, reason in level.get("errors", {}).items():
        lines.append(f"- {_LABELS.get(key, key)}: failed: {reason}")
    return lines


def _e2e_targets(level: dict[str, Any]) -> list[str]:
    lanner = level["cells"].get("lanner", {})
    if "healthy" not in lanner or "stalled" not in lanner:
        return []
    healthy, stalled = lanner["healthy"], lanner["stalled"]
    cpu = healthy.get("server_ratio", float("nan"))
    return [
        "| lanner target | measured | met |",
        "|---|---:|---|",
        f"| 100% delivered to the healthy subscribers, both runs | "
        f"{min(healthy['delivered_ratio'], stalled['delivered_ratio']):.2%} | "
        f"{_yes(min(healthy['delivered_ratio'], stalled['delivered_ratio']) >= 1.0)} |",
        f"| healthy p99 with stalled clients ≤ 2{_X} without | "
        f"{stalled.get('p99_vs_healthy', float('nan')):.2f}{_X} | "
        f"{_yes(stalled.get('p99_vs_healthy', 99) <= 2.0)} |",
        f"| every stalled subscriber closed | {stalled['stalled_closed']} of "
        f"{stalled['stalled']} | {_yes(stalled['stalled_closed'] >= stalled['stalled'])} |",
        f"| server RSS growth < 5 MB + the backlogs' worth | {stalled['rss_growth_mb']:.2f} MB "
        f"(limit {stalled.get('rss_allowance_mb', 0):.2f} MB) | "
        f"{_yes(stalled['rss_growth_mb'] < stalled.get('rss_allowance_mb', 0))} |",
        f"| server CPU per delivery ≤ 1.1{_X} the hand-written fan-out | {cpu:.2f}{_X} | "
        f"{_yes(cpu <= 1.1)} |",
        "",
    ]


def _redis(section: dict[str, Any]) -> list[str]:
    config = section["config"]
    level = section["redis"]
    keys = _keys(level["cells"])
    lines = [
        f"### Fan-out across {config['workers']} workers over Redis",
        "",
        f"The same healthy run ({config['subscribers']} subscribers spread over both workers, "
        f"{config['rate']:g} messages per second, {config['messages']} messages) with "
        f"`--workers {config['workers']}` and a private `redis-server`: lanner by `lanner serve "
        "--broadcast redis://...` (Redis Streams, so clients can resume on any worker), the "
        "hand-written floor on redis-py pub/sub, broadcaster's Redis pub/sub backend, "
        "Litestar's Redis pub/sub channels backend. Server CPU covers both workers; Redis's "
        "own CPU is shown apart.",
        "",
        "| | " + " | ".join(_LABELS[key] for key in keys) + " |",
        "|---|" + "---:|" * len(keys),
        *_e2e_rows(level, keys, "healthy"),
    ]
    redis_cpu = []
    for key in keys:
        entry = level["cells"][key].get("healthy") if "error" not in level["cells"][key] else None
        redis_cpu.append("failed" if entry is None else _num(entry["redis_cpu_us_per_message"]))
    lines.append("| redis-server CPU per message, µs | " + " | ".join(redis_cpu) + " |")
    lines.append("")
    lanner = level["cells"].get("lanner", {}).get("healthy")
    if lanner is not None:
        lines += [
            "| lanner target | measured | met |",
            "|---|---:|---|",
            f"| every message to every healthy subscriber | {lanner['delivered_ratio']:.2%} | "
            f"{_yes(lanner['delivered_ratio'] >= 1.0)} |",
            f"| p99 ≤ 1.2{_X} the pub/sub floor | "
            f"{lanner.get('p99_ratio', float('nan')):.2f}{_X} | "
            f"{_yes(lanner.get('p99_ratio', 99) <= 1.2)} |",
            f"| server CPU per delivery ≤ 1.2{_X} the pub/sub floor | "
            f"{lanner.get('server_ratio', float('nan')):.2f}{_X} | "
            f"{_yes(lanner.get('server_ratio', 99) <= 1.2)} |",
            "",
        ]
    for key, reason in level.get("errors", {}).items():
        lines.append(f"- {_LABELS.get(key, key)}: failed: {reason}")
    return lines


def fanout_tables(results: dict[str, Any]) -> list[str]:
    """Return the fan-out tables for whichever fan-out levels ``results`` holds."""
    lines: list[str] = []
    if "fanout_in_process" in results:
        lines += [*_in_process(results["fanout_in_process"]), ""]
    section = results.get("fanout_e2e")
    if section is not None and "memory" in section:
        lines += [*_e2e(section), ""]
    if section is not None and "redis" in section:
        lines += [*_redis(section), ""]
    return lines
