"""Smoke tests for the benchmark harness (bench/): it runs, it checks, it reports.

Timings are never asserted; what is asserted is that the harness measures the
floor and lanner, catches an app that does less work, and writes its outputs
where it says.
"""

from __future__ import annotations

import asyncio
from itertools import chain, repeat
from pathlib import Path

import pytest

from bench import fanout, fanout_e2e, inprocess, paired, report
from bench._asgi import Receive, Scope, Send
from bench._fanclient import FanoutLoad, FanoutOutcome, fan_out
from bench._fanserve import FanoutServer
from bench._redis import RedisMissing, RedisServer
from bench.driver import (
    CONNECT,
    HTTP_DISCONNECT,
    HTTP_REQUEST,
    WS_DISCONNECT,
    Audience,
    ClientLeaves,
    HTTPExchange,
    Subscriber,
    ws_text,
)
from bench.fanout_frameworks import fanout_by_key
from bench.frameworks import Framework, Unavailable, by_key
from bench.scenarios import SCENARIOS, WrongOutput
from bench.scenarios import by_key as scenarios_by_key

_TINY = inprocess.Sizes(messages=20, connections=5, requests=5, repetitions=2)


def test_in_process_level_measures_bare_and_lanner_in_every_scenario() -> None:
    results = inprocess.run(
        list(SCENARIOS), by_key(["lanner"]), _TINY, loop="asyncio", log=lambda line: None
    )
    assert results["frameworks"]["lanner"].get("unavailable") is None
    for scenario in SCENARIOS:
        cells = results["scenarios"][scenario.key]["frameworks"]
        assert cells["bare"]["median_us"] > 0
        assert len(cells["bare"]["per_op_us"]) == _TINY.repetitions
        assert cells["lanner"]["ratio"] > 0, cells["lanner"]


async def _shouting_echo(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    while (message := await receive())["type"] == "websocket.receive":
        await send({"type": "websocket.send", "text": message["text"].upper()})


async def test_a_wrong_echo_fails_the_check() -> None:
    (echo,) = scenarios_by_key(["ws_echo"])
    with pytest.raises(WrongOutput, match="echo: expected 2 x"):
        await echo.check(_shouting_echo, 2)


def test_a_missing_framework_is_unavailable_with_the_fix() -> None:
    ghost = Framework("ghost", "Ghost", "bench.adapters.no_such_module", None)
    with pytest.raises(Unavailable, match=r"constraints/bench\.txt"):
        ghost.build(push_count=1, sse_count=1)


def test_unknown_names_are_refused_with_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="expected some of bare, lanner"):
        by_key(["flask"])
    with pytest.raises(ValueError, match="ws_echo"):
        scenarios_by_key(["nope"])


async def test_the_client_sends_its_next_message_only_after_a_reply() -> None:
    conn = ClientLeaves(chain((CONNECT,), repeat(ws_text("hi"), 1)))
    assert await conn.receive() == CONNECT
    early = asyncio.ensure_future(conn.receive())
    await asyncio.sleep(0)
    assert not early.done()
    await conn.send({"type": "websocket.accept"})
    assert (await early)["text"] == "hi"
    await conn.send({"type": "websocket.send", "text": "hi"})
    assert await conn.receive() == WS_DISCONNECT
    assert await conn.receive() == WS_DISCONNECT


async def test_http_receive_reports_the_disconnect_after_the_response() -> None:
    conn = HTTPExchange()
    assert await conn.receive() == HTTP_REQUEST
    waiting = asyncio.ensure_future(conn.receive())
    await conn.send({"type": "http.response.start", "status": 200, "headers": []})
    await conn.send({"type": "http.response.body", "body": b"x", "more_body": True})
    await asyncio.sleep(0)
    assert not waiting.done()
    await conn.send({"type": "http.response.body", "body": b""})
    assert await waiting == HTTP_DISCONNECT


def test_update_doc_replaces_only_the_marked_part(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"intro\n{report.TABLE_START}\nold\n{report.TABLE_END}\noutro\n")
    report.update_doc(doc, "new table\n")
    assert doc.read_text() == (
        f"intro\n{report.TABLE_START}\nnew table\n{report.TABLE_END}\noutro\n"
    )


def test_update_doc_without_markers_says_what_to_add(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("no markers here\n")
    with pytest.raises(ValueError, match="bench:table:start"):
        report.update_doc(doc, "table\n")


def _meta(mode: str) -> dict[str, object]:
    """The run description the report heads its tables with, filled with placeholders."""
    return {
        "mode": mode,
        "date": "today",
        "cpu": "cpu",
        "cores": 2,
        "platform": "Linux",
        "python": "3.11",
        "versions": {},
    }


def test_markdown_shows_lanner_against_each_target() -> None:
    results = {
        "meta": _meta("--quick"),
        "in_process": inprocess.run(
            scenarios_by_key(["http_get"]),
            by_key(["lanner"]),
            _TINY,
            loop="asyncio",
            log=lambda line: None,
        ),
    }
    text = report.markdown(results)
    row = next(line for line in text.splitlines() if line.startswith("| HTTP GET"))
    assert "\u2264 1.35\u00d7" in row
    assert row.rstrip(" |").endswith(("yes", "no"))


def test_the_report_judges_the_cpu_target_by_the_paired_check() -> None:
    # bench --quick runs the paired check itself (CI); here only the report's use of it.
    section = {
        "config": {"impl": "websockets-sansio", "rounds": 3, "seconds": 1.0, "connections": 50},
        "ratios": {
            "lanner": {"ratios": [1.02, 1.04, 1.09], "median": 1.04, "min": 1.02, "max": 1.09}
        },
    }
    results = {
        "meta": _meta("--full"),
        "e2e": {
            "config": {"runs": 1, "idle_connections": 1},
            "impls": {
                "websockets-sansio": {
                    "metrics": {"echo_50": {"lanner": {"cpu_ratio": 1.5}}},
                    "memory_kib_per_idle_ws": {},
                }
            },
            "paired_echo_cpu": section,
        },
    }
    lines = report.markdown(results).splitlines()
    row = next(line for line in lines if "paired windows" in line)
    assert "median of 3 rounds" in row
    assert row.endswith("| 1.04\u00d7 (1.02\u20131.09) | yes |")
    # The peers measured the same way are shown for comparison.
    section["ratios"]["starlette"] = {"ratios": [1.2], "median": 1.2, "min": 1.2, "max": 1.2}
    peers = next(line for line in report.markdown(results).splitlines() if "for the peers" in line)
    assert "Starlette 1.20\u00d7" in peers
    # The unpaired ratio is shown, but no longer judges the target.
    apart = next(line for line in lines if "measured apart in time" in line)
    assert "1.50\u00d7" in apart
    assert "| no |" not in apart


def test_the_paired_check_needs_a_framework_besides_bare() -> None:
    section = paired.run([], paired.PairedConfig(impl="websockets-sansio", rounds=1, seconds=0.1))
    assert section["ratios"] == {}


# -- fan-out -------------------------------------------------------------------------

_TINY_FANOUT = fanout.FanoutSizes(subscribers=6, messages=20, repetitions=2)


def test_in_process_fan_out_measures_the_floor_lanner_and_the_peers() -> None:
    results = fanout.run(fanout_by_key(None), _TINY_FANOUT, loop="asyncio", log=lambda line: None)
    cells = results["cells"]
    assert cells["bare"]["median_us"] > 0
    assert len(cells["bare"]["per_delivery_us"]) == _TINY_FANOUT.repetitions
    assert cells["lanner"]["ratio"] > 0, cells["lanner"]
    # The peers are pinned in constraints/dev.txt and installed by make bench-quick.
    for peer in ("starlette_broadcaster", "litestar"):
        assert cells[peer].get("ratio", 0) > 0 or "unavailable" in cells[peer], cells[peer]
    assert results["sizes"]["subscribers"] == _TINY_FANOUT.subscribers


async def test_a_subscriber_counts_deliveries_and_leaves_when_the_audience_does() -> None:
    audience = Audience()
    first, second = Subscriber(audience), Subscriber(audience)
    assert await first.receive() == CONNECT
    await first.send({"type": "websocket.accept"})
    await first.send({"type": "websocket.send", "text": "a"})
    await second.send({"type": "websocket.accept"})
    await second.send({"type": "websocket.send", "text": "a"})
    await asyncio.wait_for(audience.wait_for(2), 5)
    assert (audience.delivered, first.received, second.received) == (2, 1, 1)
    waiting = asyncio.ensure_future(first.receive())
    await asyncio.sleep(0)
    assert not waiting.done()
    audience.leave()
    assert await asyncio.wait_for(waiting, 5) == WS_DISCONNECT


async def test_a_subscriber_the_app_closes_reports_the_disconnect_and_the_code() -> None:
    sub = Subscriber(Audience())
    await sub.receive()
    await sub.send({"type": "websocket.accept"})
    waiting = asyncio.ensure_future(sub.receive())
    await asyncio.sleep(0)
    await sub.send({"type": "websocket.close", "code": 1013})
    assert await asyncio.wait_for(waiting, 5) == WS_DISCONNECT
    assert sub.close_code == 1013


def test_unknown_fan_out_names_are_refused_with_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="expected some of bare, lanner"):
        fanout_by_key(["flask"])


def test_end_to_end_fan_out_delivers_every_message_and_closes_nothing_healthy() -> None:
    async def measure() -> FanoutOutcome:
        with FanoutServer("lanner", "memory://") as server:
            return await asyncio.wait_for(
                fan_out(
                    server.port,
                    FanoutLoad(subscribers=4, stalled=1, rate=200.0, messages=20, size=256),
                    server.cpu_seconds,
                    server.rss_bytes,
                    stalled_drain=0.2,
                ),
                60,
            )

    outcome = asyncio.run(measure())  # make bench runs it on uvloop; the test needs none
    assert outcome.healthy == 3 * 20
    assert outcome.delivered == outcome.healthy
    assert len(outcome.latencies) == outcome.healthy
    assert outcome.server_cpu_s > 0


def test_a_missing_redis_server_is_an_error_naming_the_install_script(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RedisMissing, match=r"\.ci/install-redis"), RedisServer():
        pass


def test_the_fan_out_tables_judge_lanner_against_the_targets() -> None:
    def run(**figures: float) -> dict[str, float]:
        base = {
            "delivered_ratio": 1.0,
            "p50_ms": 1.0,
            "p99_ms": 4.0,
            "server_cpu_ms_per_1000": 20.0,
            "client_cpu_s": 1.0,
            "client_cpu_ms_per_1000": 5.0,
            "rss_growth_mb": 1.0,
            "stalled_closed": 0,
            "stalled": 0,
            "redis_cpu_us_per_message": 0.0,
        }
        return {**base, **figures}

    samples = {
        "bare": {"healthy": [run()], "stalled": [run(stalled=2, stalled_closed=2)]},
        "lanner": {
            "healthy": [run(server_cpu_ms_per_1000=21.0)],
            "stalled": [run(p99_ms=12.0, stalled=2, stalled_closed=1)],
        },
    }
    config = fanout_e2e.FanoutE2EConfig(runs=1, subscribers=40, rate=100.0, messages=10)
    loads = {
        "healthy": FanoutLoad(40, 0, 100.0, 10, 64),
        "stalled": FanoutLoad(40, 2, 100.0, 10, 1024),
    }
    level = fanout_e2e._summarise(fanout_by_key(["lanner"]), samples, {}, config, loads)
    results = {
        "meta": _meta("--full"),
        "fanout_e2e": {
            "config": {**config.__dict__, "stalled": 2, "backlog": 256},
            "memory": level,
        },
    }
    lines = report.markdown(results).splitlines()
    assert any(
        line.startswith("| server CPU per delivery ≤ 1.1")
        and "1.05" in line
        and line.endswith("| yes |")
        for line in lines
    )
    assert "| every stalled subscriber closed | 1 of 2 | no |" in lines
    assert any(line.startswith("| healthy p99 with stalled") and "3.00" in line for line in lines)
