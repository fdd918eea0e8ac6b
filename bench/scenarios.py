"""The seven in-process scenarios: what each drives, how it is timed, how it is checked.

A scenario's ``run`` drives one app through the in-memory driver and returns
the elapsed seconds for ``size`` operations; ``check`` runs the same traffic at
a small size through the recording drivers and raises :class:`WrongOutput` if
the app did not do what the endpoint promises, so no framework is timed doing
less work than the others.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from itertools import chain, repeat
from typing import Final

from bench._asgi import ASGIApp, Message
from bench.driver import (
    CONNECT,
    WS_DISCONNECT,
    ClientLeaves,
    HTTPExchange,
    RecordingClientLeaves,
    RecordingHTTPExchange,
    RecordingServerCloses,
    ServerCloses,
    http_scope,
    ws_scope,
    ws_text,
)
from bench.endpoints import (
    ECHO_PATH,
    ECHO_TEXT,
    JSON_BODY,
    JSON_PATH,
    LIFECYCLE_PATH,
    MEDIA_OBJECT,
    MEDIA_PATH,
    PUSH_PATH,
    PUSH_TEXT,
    SSE_PATH,
    SSE_TEXT,
)

__all__ = ["SCENARIOS", "Scenario", "WrongOutput", "by_key"]


class WrongOutput(Exception):
    """An app's output differs from what the endpoint promises; the message says how."""


@dataclass(frozen=True)
class Scenario:
    """One in-process scenario.

    Attributes:
        key: Short name (``ws_echo``) used on the command line and in results.
        title: The row title in tables (the issue's wording).
        unit: What one operation is (``message``, ``connection``, ...).
        size_name: Which :class:`bench.inprocess.Sizes` field sets the operation count.
        target: lanner's target, as a ratio to the bare app.
        run: Drives ``size`` operations through ``app``; returns elapsed seconds.
        check: Drives a few operations through recording drivers; raises
            :class:`WrongOutput` on a wrong answer.
    """

    key: str
    title: str
    unit: str
    size_name: str
    target: float
    run: Callable[[ASGIApp, int], Awaitable[float]]
    check: Callable[[ASGIApp, int], Awaitable[None]]


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise WrongOutput(what)


def _expect_sent(expected: int, found: int, what: str) -> None:
    _expect(found == expected, f"{what}: expected {expected} messages sent, found {found}")


_ECHO_MESSAGE: Final = ws_text(ECHO_TEXT)
_MEDIA_MESSAGE: Final = ws_text(json.dumps(MEDIA_OBJECT))
_JSON_SCOPE: Final = http_scope(JSON_PATH)


def _round_trips(message: Message, size: int) -> Iterator[Message]:
    """A client's script: connect, send ``message`` ``size`` times, then leave."""
    return chain((CONNECT,), repeat(message, size), (WS_DISCONNECT,))


async def _time_round_trips(
    app: ASGIApp, path: str, message: Message, size: int, label: str
) -> float:
    """Time one connection of ``size`` round trips on ``path``; check each got its reply."""
    conn = ClientLeaves(_round_trips(message, size))
    scope = ws_scope(path)
    start = time.perf_counter()
    await app(scope, conn.receive, conn.send)
    elapsed = time.perf_counter() - start
    _expect_sent(size + 1, conn.sent, label)
    return elapsed


async def _run_echo(app: ASGIApp, size: int) -> float:
    return await _time_round_trips(app, ECHO_PATH, _ECHO_MESSAGE, size, "echo")


async def _check_echo(app: ASGIApp, size: int) -> None:
    conn = RecordingClientLeaves(_round_trips(_ECHO_MESSAGE, size))
    await app(ws_scope(ECHO_PATH), conn.receive, conn.send)
    _check_ws_accept(conn.messages, "echo")
    texts = _ws_texts(conn.messages[1:], "echo")
    _expect(texts == [ECHO_TEXT] * size, f"echo: expected {size} x {ECHO_TEXT!r}, got {texts!r}")


async def _run_media(app: ASGIApp, size: int) -> float:
    return await _time_round_trips(app, MEDIA_PATH, _MEDIA_MESSAGE, size, "media echo")


async def _check_media(app: ASGIApp, size: int) -> None:
    conn = RecordingClientLeaves(_round_trips(_MEDIA_MESSAGE, size))
    await app(ws_scope(MEDIA_PATH), conn.receive, conn.send)
    _check_ws_accept(conn.messages, "media echo")
    objects = [json.loads(text) for text in _ws_texts(conn.messages[1:], "media echo")]
    _expect(
        objects == [MEDIA_OBJECT] * size,
        f"media echo: expected {size} x {MEDIA_OBJECT!r} as JSON text, got {objects!r}",
    )


async def _time_connections(
    app: ASGIApp, path: str, client: type[ClientLeaves], size: int
) -> tuple[float, int]:
    """Open ``size`` connections one after another, each echoing once; return (seconds, sent)."""
    template = ws_scope(path)
    script = (CONNECT, _ECHO_MESSAGE)
    sent = 0
    start = time.perf_counter()
    for _ in range(size):
        conn = client(iter(script))
        scope = dict(template)
        scope["state"] = {}
        await app(scope, conn.receive, conn.send)
        sent += conn.sent
    return time.perf_counter() - start, sent


async def _run_lifecycle(app: ASGIApp, size: int) -> float:
    elapsed, sent = await _time_connections(app, LIFECYCLE_PATH, ServerCloses, size)
    _expect_sent(3 * size, sent, "lifecycle")
    return elapsed


async def _check_lifecycle(app: ASGIApp, size: int) -> None:
    for _ in range(size):
        conn = RecordingServerCloses(iter((CONNECT, _ECHO_MESSAGE)))
        await app(ws_scope(LIFECYCLE_PATH), conn.receive, conn.send)
        _check_ws_accept(conn.messages, "lifecycle")
        _expect(len(conn.messages) == 3, f"lifecycle: expected 3 messages, got {conn.messages}")
        _expect(
            _ws_texts(conn.messages[1:2], "lifecycle") == [ECHO_TEXT],
            f"lifecycle: expected the echo of {ECHO_TEXT!r}, got {conn.messages[1]}",
        )
        _check_ws_close(conn.messages[2], "lifecycle")


async def _run_lifecycle_leave(app: ASGIApp, size: int) -> float:
    elapsed, sent = await _time_connections(app, ECHO_PATH, ClientLeaves, size)
    _expect_sent(2 * size, sent, "lifecycle, client leaves")
    return elapsed


async def _check_lifecycle_leave(app: ASGIApp, size: int) -> None:
    for _ in range(size):
        conn = RecordingClientLeaves(iter((CONNECT, _ECHO_MESSAGE)))
        await app(ws_scope(ECHO_PATH), conn.receive, conn.send)
        what = "lifecycle, client leaves"
        _check_ws_accept(conn.messages, what)
        _expect(len(conn.messages) == 2, f"{what}: expected 2 messages, got {conn.messages}")
        _expect(
            _ws_texts(conn.messages[1:], what) == [ECHO_TEXT],
            f"{what}: expected the echo of {ECHO_TEXT!r}, got {conn.messages[1]}",
        )


async def _run_push(app: ASGIApp, size: int) -> float:
    conn = ServerCloses(iter((CONNECT,)))
    scope = ws_scope(PUSH_PATH)
    start = time.perf_counter()
    await app(scope, conn.receive, conn.send)
    elapsed = time.perf_counter() - start
    _expect_sent(size + 2, conn.sent, "push")
    return elapsed


async def _check_push(app: ASGIApp, size: int) -> None:
    conn = RecordingServerCloses(iter((CONNECT,)))
    await app(ws_scope(PUSH_PATH), conn.receive, conn.send)
    _check_ws_accept(conn.messages, "push")
    texts = _ws_texts(conn.messages[1:-1], "push")
    _expect(texts == [PUSH_TEXT] * size, f"push: expected {size} x {PUSH_TEXT!r}, got {texts!r}")
    _check_ws_close(conn.messages[-1], "push")


async def _run_sse(app: ASGIApp, size: int) -> float:
    conn = HTTPExchange()
    scope = http_scope(SSE_PATH)
    start = time.perf_counter()
    await app(scope, conn.receive, conn.send)
    elapsed = time.perf_counter() - start
    # One start, one chunk per event, maybe a final empty chunk.
    _expect(
        conn.sent in (size + 1, size + 2),
        f"sse: expected {size + 1} or {size + 2} messages sent, found {conn.sent}",
    )
    return elapsed


async def _check_sse(app: ASGIApp, size: int) -> None:
    conn = RecordingHTTPExchange()
    await app(http_scope(SSE_PATH), conn.receive, conn.send)
    start, body = _http_response(conn.messages, "sse")
    _expect(start.get("status", 200) == 200, f"sse: expected status 200, got {start}")
    content_type = _header(start, b"content-type")
    _expect(
        content_type.startswith(b"text/event-stream"),
        f"sse: expected content-type text/event-stream, got {content_type!r}",
    )
    event = ("data: " + SSE_TEXT + "\n\n").encode()
    _expect(
        body == event * size,
        f"sse: expected {size} x {event!r} as the body, got {body[:200]!r}",
    )


async def _run_http(app: ASGIApp, size: int) -> float:
    sent = 0
    start = time.perf_counter()
    for _ in range(size):
        conn = HTTPExchange()
        scope = dict(_JSON_SCOPE)
        scope["state"] = {}
        await app(scope, conn.receive, conn.send)
        sent += conn.sent
    elapsed = time.perf_counter() - start
    _expect_sent(2 * size, sent, "http get")
    return elapsed


async def _check_http(app: ASGIApp, size: int) -> None:
    for _ in range(size):
        conn = RecordingHTTPExchange()
        await app(http_scope(JSON_PATH), conn.receive, conn.send)
        start, body = _http_response(conn.messages, "http get")
        _expect(start.get("status") == 200, f"http get: expected status 200, got {start}")
        content_type = _header(start, b"content-type")
        _expect(
            content_type.startswith(b"application/json"),
            f"http get: expected content-type application/json, got {content_type!r}",
        )
        _expect(
            json.loads(body) == JSON_BODY,
            f"http get: expected {JSON_BODY!r} as JSON, got {body!r}",
        )


def _check_ws_accept(messages: list[Message], what: str) -> None:
    _expect(
        bool(messages) and messages[0]["type"] == "websocket.accept",
        f"{what}: expected websocket.accept first, got {messages[:1]}",
    )


def _check_ws_close(message: Message, what: str) -> None:
    _expect(
        message["type"] == "websocket.close" and message.get("code", 1000) == 1000,
        f"{what}: expected websocket.close with code 1000, got {message}",
    )


def _ws_texts(messages: list[Message], what: str) -> list[str]:
    texts: list[str] = []
    for message in messages:
        _expect(
            message["type"] == "websocket.send" and message.get("bytes") is None,
            f"{what}: expected websocket.send with text, got {message}",
        )
        texts.append(message["text"])
    return texts


def _http_response(messages: list[Message], what: str) -> tuple[Message, bytes]:
    _expect(
        bool(messages) and messages[0]["type"] == "http.response.start",
        f"{what}: expected http.response.start first, got {messages[:1]}",
    )
    body = b""
    for message in messages[1:]:
        _expect(
            message["type"] == "http.response.body",
            f"{what}: expected only http.response.body after the start, got {message}",
        )
        body += bytes(message.get("body", b""))
    _expect(
        not messages[-1].get("more_body", False),
        f"{what}: expected the last body message to end the response, got {messages[-1]}",
    )
    return messages[0], body


def _header(start: Message, name: bytes) -> bytes:
    for key, value in start.get("headers", ()):
        if bytes(key).lower() == name:
            return bytes(value)
    return b""


SCENARIOS: Final[tuple[Scenario, ...]] = (
    Scenario(
        "ws_echo",
        "WebSocket text echo, one connection",
        "message",
        "messages",
        1.5,
        _run_echo,
        _check_echo,
    ),
    Scenario("ws_media", "JSON media echo", "message", "messages", 1.15, _run_media, _check_media),
    Scenario(
        "ws_lifecycle",
        "connection lifecycle (connect, accept, one message, close)",
        "connection",
        "connections",
        2.0,
        _run_lifecycle,
        _check_lifecycle,
    ),
    Scenario(
        "ws_lifecycle_leave",
        "connection lifecycle, the client leaves (connect, accept, one echo, disconnect)",
        "connection",
        "connections",
        2.0,
        _run_lifecycle_leave,
        _check_lifecycle_leave,
    ),
    Scenario(
        "ws_push",
        "server push, one connection",
        "message",
        "messages",
        1.5,
        _run_push,
        _check_push,
    ),
    Scenario("sse", "SSE event", "event", "messages", 2.0, _run_sse, _check_sse),
    Scenario(
        "http_get",
        "HTTP GET with a small JSON body",
        "request",
        "requests",
        1.35,
        _run_http,
        _check_http,
    ),
)
"""Every scenario, in the issue's order."""


def by_key(keys: list[str] | None) -> list[Scenario]:
    """Return the scenarios named by ``keys`` (all when ``None``).

    Raises:
        ValueError: A key names no scenario; the message lists the valid keys.
    """
    known = {scenario.key: scenario for scenario in SCENARIOS}
    if keys is None:
        return list(SCENARIOS)
    unknown = [key for key in keys if key not in known]
    if unknown:
        raise ValueError(
            f"unknown scenario(s) {', '.join(unknown)}; expected some of {', '.join(known)}"
        )
    return [scenario for scenario in SCENARIOS if scenario.key in keys]
