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

from bench import inprocess, paired, report
from bench._asgi import Receive, Scope, Send
from bench.driver import (
    CONNECT,
    HTTP_DISCONNECT,
    HTTP_REQUEST,
    WS_DISCONNECT,
    ClientLeaves,
    HTTPExchange,
    ws_text,
)
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
