"""Command line: ``python -m bench --quick | --full [options]``.

``--full`` (``make bench``) runs every level (in process, end to end, and the
fan-out levels: in process, end to end on one worker, across two workers over
a private ``redis-server``) at full size and rewrites
``bench/results/latest.json``, the tables in ``docs/benchmarks.md`` and
``docs/bench_ratios.png``. ``--quick`` (``make bench-quick``) runs tiny sizes
and one short end-to-end smoke of each level (the Redis one starts its own
``redis-server`` and fails, saying how to install it, when there is none),
writing into a temporary directory. Either
exits non-zero only when the harness itself breaks, never on a timing.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

from bench import _meta, chart, e2e, fanout, fanout_e2e, inprocess, paired, report
from bench._redis import RedisMissing
from bench.fanout_frameworks import FANOUT_FLOOR, fanout_by_key
from bench.frameworks import BARE
from bench.frameworks import by_key as frameworks_by_key
from bench.scenarios import by_key as scenarios_by_key

_ROOT: Final = Path(__file__).resolve().parent.parent
_DOC: Final = _ROOT / "docs" / "benchmarks.md"
_JSON: Final = _ROOT / "bench" / "results" / "latest.json"
_PNG: Final = _ROOT / "docs" / "bench_ratios.png"

_FULL_SIZES: Final = inprocess.Sizes(
    messages=20_000, connections=5_000, requests=5_000, repetitions=7
)
_QUICK_SIZES: Final = inprocess.Sizes(messages=300, connections=100, requests=100, repetitions=3)

_FULL_FANOUT: Final = fanout.FanoutSizes(subscribers=1000, messages=64, repetitions=7)
_QUICK_FANOUT: Final = fanout.FanoutSizes(subscribers=20, messages=16, repetitions=2)

FANOUT: Final = "fanout"
"""The name ``--only`` takes for the fan-out levels (in process, end to end, Redis)."""

_PAIRED_ROUNDS: Final = 6
"""Pairs of windows per framework in the paired CPU check (see :mod:`bench.paired`)."""

_E2E_FOR_SCENARIO: Final = {
    "ws_echo": ("echo_1", "echo_50"),
    "ws_lifecycle": ("handshake",),
    "ws_lifecycle_leave": (),
    "ws_push": ("push",),
    "sse": ("sse",),
    "http_get": ("http_get",),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Measure lanner against a bare ASGI app, Falcon and Starlette.",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="tiny sizes, output to a temp dir")
    mode.add_argument(
        "--full", action="store_true", help="full sizes, rewrite the committed results and docs"
    )
    parser.add_argument(
        "--only", nargs="+", metavar="SCENARIO", help="scenarios to run (default: all)"
    )
    parser.add_argument(
        "--frameworks", nargs="+", metavar="KEY", help="frameworks besides the bare app"
    )
    parser.add_argument(
        "--e2e",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run the end-to-end level (default: on)",
    )
    parser.add_argument(
        "--redis",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run the fan-out across workers over a private redis-server (default: on)",
    )
    parser.add_argument(
        "--subscribers", type=int, help="subscribers in the end-to-end fan-out (full: 250)"
    )
    parser.add_argument("--out", type=Path, help="write results here instead")
    parser.add_argument("--repetitions", type=int, help="in-process repetitions")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--e2e-runs", type=int, help="servers started per framework")
    parser.add_argument("--e2e-seconds", type=float, help="window per end-to-end metric")
    parser.add_argument(
        "--impls", nargs="+", metavar="WS", help="uvicorn --ws implementations to use"
    )
    parser.add_argument(
        "--profile",
        metavar="KEY",
        help="instead of measuring, cProfile one run of each selected scenario on KEY",
    )
    return parser


def _log(line: str) -> None:
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the suite as the arguments say; return the exit status."""
    args = _parser().parse_args(argv)
    full = bool(args.full)
    with_fanout = args.only is None or FANOUT in args.only
    only = None if args.only is None else [key for key in args.only if key != FANOUT]
    try:
        scenarios = scenarios_by_key(only) if only != [] else []
        frameworks = frameworks_by_key(args.frameworks)
    except ValueError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    sizes = _FULL_SIZES if full else _QUICK_SIZES
    if args.repetitions:
        sizes = inprocess.Sizes(sizes.messages, sizes.connections, sizes.requests, args.repetitions)

    if args.profile:
        try:
            (target,) = frameworks_by_key([args.profile])[-1:]
        except ValueError as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 2
        for scenario in scenarios:
            print(inprocess.profile(target, scenario, sizes, loop=args.loop))
        return 0

    started = time.monotonic()
    results: dict[str, Any] = {"meta": _meta.collect("--full" if full else "--quick")}
    try:
        if scenarios:
            _log(f"in process ({'full' if full else 'quick'} sizes)")
            results["in_process"] = inprocess.run(
                scenarios, frameworks, sizes, loop=args.loop, log=_log
            )
        if args.e2e:
            config = _e2e_config(args, full, scenarios)
            e2e_frameworks = frameworks if full else [BARE]
            if config.metrics or (full and scenarios):
                _log(f"end to end ({'full' if full else 'smoke'}: {len(e2e_frameworks)} apps)")
                results["e2e"] = e2e.run(e2e_frameworks, config, log=_log)
                _check_e2e_floor(results["e2e"])
                if "echo_50" in config.metrics:
                    # The smoke run pairs lanner alone, for one short round, so CI
                    # keeps the paired check working without timing anything.
                    pairs = e2e_frameworks if full else frameworks_by_key(["lanner"])
                    _log(f"paired CPU check (--ws {config.impls[0]})")
                    results["e2e"]["paired_echo_cpu"] = paired.run(
                        pairs,
                        paired.PairedConfig(
                            impl=config.impls[0],
                            rounds=_PAIRED_ROUNDS if full else 1,
                            seconds=config.seconds,
                            connections=50 if full else 4,
                        ),
                        log=_log,
                    )
        if with_fanout:
            _fanout(args, full, results)
    except inprocess.HarnessError as exc:
        print(f"bench: harness broken: {exc}", file=sys.stderr)
        return 1
    except RedisMissing as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    results["meta"]["elapsed_s"] = round(time.monotonic() - started, 1)

    complete = full and args.only is None and args.frameworks is None and args.e2e and args.redis
    _write(results, args.out, committed=complete and args.out is None)
    return 0


def _fanout(args: argparse.Namespace, full: bool, results: dict[str, Any]) -> None:
    """Run the fan-out levels: in process, then end to end (one worker, then Redis)."""
    implementations = fanout_by_key(None)
    _log(f"fan-out in process ({'full' if full else 'quick'} sizes)")
    results["fanout_in_process"] = fanout.run(
        implementations, _FULL_FANOUT if full else _QUICK_FANOUT, loop=args.loop, log=_log
    )
    if not args.e2e:
        return
    if full:
        config = fanout_e2e.FanoutE2EConfig(
            runs=args.e2e_runs or 3,
            subscribers=args.subscribers or 250,
            rate=100.0,
            messages=600,
            redis=args.redis,
        )
        served = implementations
    else:
        # The smoke run serves the floor and lanner only, briefly: it keeps the
        # harness working (CI), it judges nothing.
        config = fanout_e2e.FanoutE2EConfig(
            runs=1,
            subscribers=args.subscribers or 8,
            rate=200.0,
            messages=40,
            redis=args.redis,
            stalled_drain=0.5,
        )
        served = fanout_by_key(["lanner"])
    section = fanout_e2e.run(served, config, log=_log)
    for level in ("memory", "redis"):
        errors = section.get(level, {}).get("errors", {})
        if FANOUT_FLOOR.key in errors:
            raise inprocess.HarnessError(
                f"the hand-written fan-out failed end to end ({level}): {errors[FANOUT_FLOOR.key]}"
            )
    results["fanout_e2e"] = section


def _e2e_config(args: argparse.Namespace, full: bool, scenarios: list[Any]) -> e2e.E2EConfig:
    chosen = {scenario.key for scenario in scenarios}
    metrics = tuple(
        metric for key, names in _E2E_FOR_SCENARIO.items() if key in chosen for metric in names
    )
    if full:
        return e2e.E2EConfig(
            runs=args.e2e_runs or 5,
            seconds=args.e2e_seconds or 1.0,
            impls=tuple(args.impls or e2e.DEFAULT_IMPLS),
            idle_connections=1000,
            push_count=2000,
            sse_count=2000,
            metrics=metrics,
        )
    return e2e.E2EConfig(
        runs=args.e2e_runs or 1,
        seconds=args.e2e_seconds or 0.2,
        impls=tuple(args.impls or e2e.DEFAULT_IMPLS[:1]),
        idle_connections=50,
        push_count=200,
        sse_count=200,
        metrics=metrics,
    )


def _check_e2e_floor(section: dict[str, Any]) -> None:
    for impl, data in section["impls"].items():
        if BARE.key in data.get("errors", {}):
            raise inprocess.HarnessError(
                f"the bare app failed end to end under --ws {impl}: {data['errors'][BARE.key]}"
            )


def _write(results: dict[str, Any], out: Path | None, *, committed: bool) -> None:
    if committed:
        json_path, doc_path, png_path = _JSON, _DOC, _PNG
    else:
        directory = out or Path(tempfile.mkdtemp(prefix="lanner-bench-"))
        directory.mkdir(parents=True, exist_ok=True)
        json_path = directory / "latest.json"
        doc_path = directory / "benchmarks.md"
        png_path = directory / "bench_ratios.png"
        if _DOC.exists():
            shutil.copyfile(_DOC, doc_path)
        else:
            doc_path.write_text(f"# Benchmarks\n\n{report.TABLE_START}\n{report.TABLE_END}\n")
    report.write_json(results, json_path)
    report.update_doc(doc_path, report.markdown(results))
    drawn = chart.draw(results, png_path)
    _log(f"results: {json_path}")
    _log(f"tables:  {doc_path}")
    if drawn:
        _log(f"chart:   {png_path}")
    _log(f"elapsed: {results['meta']['elapsed_s']} s")


if __name__ == "__main__":
    sys.exit(main())
