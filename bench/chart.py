"""Draw the in-process ratios as a PNG bar chart (matplotlib, Agg backend)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from bench.frameworks import BARE, FRAMEWORKS
from bench.scenarios import SCENARIOS

__all__ = ["draw"]


def draw(results: dict[str, Any], path: Path) -> bool:
    """Draw each framework's in-process ratio to the bare app, per scenario, into ``path``.

    Bars use a log scale (ratios span 1x to 30x); a dashed line marks the bare
    app and a black tick over lanner's bar marks its target.

    Returns:
        ``False`` when there is nothing to draw (no in-process results).
    """
    section = results.get("in_process")
    if not section:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = [s for s in SCENARIOS if s.key in section["scenarios"]]
    peers = [fw for fw in FRAMEWORKS if fw.key != BARE.key and fw.key in section["frameworks"]]
    width = 0.8 / max(len(peers), 1)
    fig, ax = plt.subplots(figsize=(11, 5.5))
    for index, framework in enumerate(peers):
        xs: list[float] = []
        ys: list[float] = []
        for position, scenario in enumerate(scenarios):
            entry = section["scenarios"][scenario.key]["frameworks"].get(framework.key, {})
            if "ratio" in entry:
                xs.append(position - 0.4 + width * (index + 0.5))
                ys.append(entry["ratio"])
        bars = ax.bar(xs, ys, width * 0.95, label=framework.label)
        ax.bar_label(bars, fmt="%.1f", fontsize=7, padding=1)
        if framework.key == "lanner":
            for position, scenario in enumerate(scenarios):
                x = position - 0.4 + width * (index + 0.5)
                ax.plot([x - width / 2, x + width / 2], [scenario.target] * 2, color="black", lw=2)
    ax.axhline(1.0, color="grey", ls="--", lw=1, label="bare ASGI app (1\u00d7)")
    ax.set_yscale("log")
    ticks = [t for t in (0.5, 1, 1.5, 2, 3, 5, 10, 20, 30, 50, 100) if t <= ax.get_ylim()[1]]
    ax.set_yticks(ticks, [f"{t:g}\u00d7" for t in ticks])
    ax.minorticks_off()
    ax.set_ylabel("cost per operation ÷ bare ASGI app (log scale)")
    ax.set_xticks(range(len(scenarios)))
    ax.set_xticklabels([textwrap.fill(s.title, 22) for s in scenarios], fontsize=8)
    ax.set_title("In-process cost per operation relative to a bare ASGI app (black: lanner target)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
