"""Turn results into ``latest.json`` and the generated tables of ``docs/benchmarks.md``.

The document's hand-written text stays; only the part between
:data:`TABLE_START` and :data:`TABLE_END` is regenerated.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from bench.e2e import METRICS
from bench.frameworks import BARE, FRAMEWORKS
from bench.report_fanout import fanout_tables
from bench.scenarios import SCENARIOS

__all__ = [
    "E2E_CPU_TARGET",
    "E2E_MEMORY_TARGET_KIB",
    "TABLE_END",
    "TABLE_START",
    "markdown",
    "update_doc",
    "write_json",
]

TABLE_START: Final = "<!-- bench:table:start -->"
TABLE_END: Final = "<!-- bench:table:end -->"

E2E_CPU_TARGET: Final = 1.05
"""lanner's server CPU per echo round trip, as a ratio to the bare app's (end to end)."""

E2E_MEMORY_TARGET_KIB: Final = 23.0
"""lanner's memory per idle WebSocket under uvicorn's default implementation."""

_LABELS: Final = {fw.key: fw.label for fw in FRAMEWORKS}
_X: Final = "\u00d7"  # multiplication sign, as in "1.5x"
_DASH: Final = "\u2013"  # en dash, for ranges


def write_json(results: dict[str, Any], path: Path) -> None:
    """Write ``results`` as indented JSON to ``path``, creating its directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")


def _num(value: float, digits: int = 2) -> str:
    return f"{value:,.{digits}f}"


def _ratio_cell(entry: dict[str, Any]) -> str:
    if "unavailable" in entry:
        return "unavailable"
    if "error" in entry:
        return "failed"
    if "ratio" not in entry:
        return "—"
    return f"{entry['ratio']:.2f}{_X} ({entry['ratio_min']:.2f}{_DASH}{entry['ratio_max']:.2f})"


def _ordered(present: dict[str, Any]) -> list[str]:
    return [fw.key for fw in FRAMEWORKS if fw.key in present]


def _in_process_table(results: dict[str, Any]) -> list[str]:
    section = results["in_process"]
    keys = _ordered(section["frameworks"])
    peers = [key for key in keys if key != BARE.key]
    lines = [
        "### In process: cost per operation as a ratio to the bare ASGI app",
        "",
        "Median of the repetitions, with the range of the per-repetition ratios in brackets.",
        "",
        "| scenario | bare ASGI (µs/op) | "
        + " | ".join(_LABELS[key] for key in peers)
        + " | lanner target | lanner meets it |",
        "|---|---:|" + "---:|" * len(peers) + "---:|---|",
    ]
    for scenario in SCENARIOS:
        row = section["scenarios"].get(scenario.key)
        if row is None:
            continue
        cells = row["frameworks"]
        bare = cells.get(BARE.key, {})
        floor = (
            f"{bare['median_us']:.3f} ({bare['min_us']:.3f}{_DASH}{bare['max_us']:.3f})"
            if "median_us" in bare
            else "failed"
        )
        lanner = cells.get("lanner", {})
        if "ratio" in lanner:
            met = "yes" if lanner["ratio"] <= scenario.target else "no"
        else:
            met = "not measured"
        lines.append(
            f"| {scenario.title} | {floor} | "
            + " | ".join(_ratio_cell(cells.get(key, {})) for key in peers)
            + f" | ≤ {scenario.target}{_X} | {met} |"
        )
    unavailable = {
        key: info["unavailable"]
        for key, info in section.get("frameworks", {}).items()
        if "unavailable" in info
    }
    errors = {
        f"{key} / {name}": cell["error"]
        for name, row in section["scenarios"].items()
        for key, cell in row["frameworks"].items()
        if "error" in cell
    }
    lines.append("")
    for key, reason in unavailable.items():
        lines.append(f"- {_LABELS.get(key, key)}: unavailable: {reason}")
    for where, reason in errors.items():
        lines.append(f"- {where}: failed: {reason}")
    if unavailable or errors:
        lines.append("")
    return lines


def _e2e_cell(entry: dict[str, Any], is_floor: bool) -> str:
    if "error" in entry:
        return "failed"
    rate = entry["rate_per_s"]
    cpu = entry["cpu_us_per_op"]
    text = (
        f"{_num(rate['median'], 0)}/s ({_num(rate['min'], 0)}{_DASH}{_num(rate['max'], 0)}); "
        f"{cpu['median']:.1f} µs"
    )
    if not is_floor and "cpu_ratio" in entry:
        text += f" ({entry['cpu_ratio']:.2f}{_X})"
    return text


def _e2e_tables(results: dict[str, Any]) -> list[str]:
    section = results["e2e"]
    config = section["config"]
    lines: list[str] = []
    for impl, data in section["impls"].items():
        keys = _ordered(data["memory_kib_per_idle_ws"])
        lines += [
            f"### End to end, uvicorn `--ws {impl}`",
            "",
            "Each cell: operations per second, median of "
            f"{config['runs']} run(s) (range in brackets); then the server's CPU time per "
            "operation and, for the peers, its ratio to the bare app's.",
            "",
            "| metric | " + " | ".join(_LABELS[key] for key in keys) + " |",
            "|---|" + "---:|" * len(keys),
        ]
        for name, cells in data["metrics"].items():
            lines.append(
                f"| {METRICS[name]} | "
                + " | ".join(
                    _e2e_cell(cells.get(key, {"error": ""}), key == BARE.key) for key in keys
                )
                + " |"
            )
        memory = data["memory_kib_per_idle_ws"]
        lines.append(
            f"| memory per idle WebSocket, KiB ({config['idle_connections']} connections) | "
            + " | ".join(_memory_cell(memory.get(key, {})) for key in keys)
            + " |"
        )
        lines.append("")
        for key, reason in data.get("errors", {}).items():
            lines.append(f"- {_LABELS.get(key, key)}: failed: {reason}")
        if data.get("errors"):
            lines.append("")
    return lines


def _memory_cell(entry: dict[str, Any]) -> str:
    if "median" not in entry:
        return "failed"
    return f"{entry['median']:.1f} ({entry['min']:.1f}{_DASH}{entry['max']:.1f})"


def _cpu_row(cells: dict[str, Any], what: str, *, unjudged_because: str | None) -> str:
    """One CPU row: judged against the target, or shown with why it is not."""
    entry = cells.get("lanner", {})
    if "cpu_ratio" not in entry:
        return f"| {what} | not measured | \u2014 |"
    ratio = entry["cpu_ratio"]
    if unjudged_because is None:
        met = "yes" if ratio <= E2E_CPU_TARGET else "no"
    else:
        met = f"for information ({unjudged_because})"
    return f"| {what} | {ratio:.2f}{_X} | {met} |"


def _paired_rows(section: dict[str, Any] | None, target: str) -> list[str]:
    """The judged CPU row, from the paired check (:mod:`bench.paired`), when it ran."""
    if section is None:
        return []
    entry = section["ratios"].get("lanner")
    config = section["config"]
    what = (
        f"server CPU per echo round trip, {config['connections']} connections, paired "
        f"windows (median of {config['rounds']} rounds, range in brackets), {target}"
    )
    if entry is None:
        return [f"| {what} | not measured | \u2014 |"]
    met = "yes" if entry["median"] <= E2E_CPU_TARGET else "no"
    rows = [
        f"| {what} | {entry['median']:.2f}{_X} ({entry['min']:.2f}{_DASH}{entry['max']:.2f}) "
        f"| {met} |"
    ]
    peers = [
        f"{_LABELS.get(key, key)} {value['median']:.2f}{_X}"
        for key, value in section["ratios"].items()
        if key != "lanner"
    ]
    if peers:
        rows.append(
            f"| the same paired check for the peers | {', '.join(peers)} | for comparison |"
        )
    return rows


def _e2e_targets(results: dict[str, Any]) -> list[str]:
    impls = results["e2e"]["impls"]
    default = impls.get("websockets-sansio") or next(iter(impls.values()), None)
    if default is None:
        return []
    metrics = default["metrics"]
    memory = default["memory_kib_per_idle_ws"].get("lanner", {})
    mem = f"{memory['median']:.1f} KiB" if "median" in memory else "not measured"
    mem_met = (
        ("yes" if memory["median"] <= E2E_MEMORY_TARGET_KIB else "no")
        if "median" in memory
        else "\u2014"
    )
    target = f"\u2264 {E2E_CPU_TARGET}{_X} the bare app's"
    return [
        "### End-to-end targets (uvicorn's default WebSocket implementation)",
        "",
        "| target | lanner | met |",
        "|---|---:|---|",
        *_paired_rows(results["e2e"].get("paired_echo_cpu"), target),
        _cpu_row(
            metrics.get("echo_50", {}),
            f"server CPU per echo round trip, 50 connections (server busy), {target}",
            unjudged_because=(
                "servers measured apart in time; see the paired row"
                if "paired_echo_cpu" in results["e2e"]
                else None
            ),
        ),
        _cpu_row(
            metrics.get("echo_1", {}),
            f"server CPU per echo round trip, 1 connection (server mostly idle), {target}",
            unjudged_because="latency-bound, noisy",
        ),
        f"| memory per idle WebSocket \u2264 {E2E_MEMORY_TARGET_KIB:.0f} KiB | {mem} | {mem_met} |",
        "",
    ]


def markdown(results: dict[str, Any]) -> str:
    """Return the generated part of ``docs/benchmarks.md`` for ``results``."""
    meta = results["meta"]
    versions = ", ".join(f"{name} {version}" for name, version in meta["versions"].items())
    lines = [
        f"_Generated by `python -m bench {meta['mode']}` on {meta['date']}: "
        f"{meta['cpu']}, {meta['cores']} cores, {meta['platform']}, Python {meta['python']}; "
        f"{versions}._",
        "",
    ]
    if "in_process" in results:
        sizes = results["in_process"]["sizes"]
        lines += [
            f"In-process sizes: {sizes['messages']:,} messages or events per run, "
            f"{sizes['connections']:,} connections per lifecycle run, {sizes['requests']:,} "
            f"requests per HTTP run; {sizes['repetitions']} repetitions, interleaved; event "
            f"loop {results['in_process']['loop']}.",
            "",
        ]
        lines += _in_process_table(results)
    if "e2e" in results:
        lines += _e2e_targets(results)
        lines += _e2e_tables(results)
    lines += fanout_tables(results)
    return "\n".join(lines).rstrip() + "\n"


def update_doc(path: Path, generated: str) -> None:
    """Replace the text between the table markers in ``path`` with ``generated``.

    Raises:
        ValueError: The document lacks the markers (or has them out of order);
            the message says which to add.
    """
    text = path.read_text()
    start = text.find(TABLE_START)
    end = text.find(TABLE_END)
    if start < 0 or end < start:
        raise ValueError(
            f"{path}: expected {TABLE_START!r} followed by {TABLE_END!r}, found "
            f"start at {start} and end at {end}; add both markers where the tables go"
        )
    head = text[: start + len(TABLE_START)]
    path.write_text(head + "\n" + generated + text[end:])
