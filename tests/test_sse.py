"""Tests for SSEvent, SSEOptions, the event-stream driver and the test parser."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import AsyncIterator, Callable

import pytest

from lanner._sse_stream import stream_sse
from lanner._types import Message
from lanner.sse import PING, SSE_HEADERS, SSEOptions, SSEvent
from lanner.testing._sse_parser import ParsedEvent, SSEParser

# --- SSEvent serialization -------------------------------------------------------


def test_text_event() -> None:
    assert SSEvent(text="hello").serialize() == b"data: hello\n\n"


def test_every_field_in_wire_order() -> None:
    event = SSEvent(text="t", comment="c", retry=5000, event_id="42", event="tick")
    assert event.serialize() == b": c\nevent: tick\nid: 42\nretry: 5000\ndata: t\n\n"


def test_data_bytes_are_sent_as_given() -> None:
    assert SSEvent(data=b"\x00\xff raw").serialize() == b"data: \x00\xff raw\n\n"


@pytest.mark.parametrize(
    ("text", "wire"),
    [
        ("a\nb", b"data: a\ndata: b\n\n"),
        ("a\rb", b"data: a\ndata: b\n\n"),
        ("a\r\nb", b"data: a\ndata: b\n\n"),
        ("a\r\n\rb\n", b"data: a\ndata: \ndata: b\ndata: \n\n"),
        ("\n", b"data: \ndata: \n\n"),
        ("", b"data: \n\n"),
    ],
)
def test_line_breaks_in_text_and_data_become_data_lines(text: str, wire: bytes) -> None:
    assert SSEvent(text=text).serialize() == wire
    assert SSEvent(data=text.encode()).serialize() == wire


def test_text_reaches_the_client_with_lf_line_breaks() -> None:
    text = "one\r\ntwo\rthree\nfour\n"
    (parsed,) = SSEParser().feed(SSEvent(text=text).serialize())
    assert parsed.data == "one\ntwo\nthree\nfour\n"


def test_a_line_break_in_the_payload_cannot_forge_fields() -> None:
    forged = "x\n\nevent: evil\r\nid: 9\rretry: 1\n: hidden\ndata: y"
    (parsed,) = SSEParser().feed(SSEvent(text=forged).serialize())
    assert parsed == ParsedEvent(data="x\n\nevent: evil\nid: 9\nretry: 1\n: hidden\ndata: y")


@pytest.mark.parametrize("field", ["event", "event_id"])
@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\r\nb", "a\0b", "\n"])
def test_cr_lf_or_nul_in_event_or_id_is_refused_at_creation(field: str, bad: str) -> None:
    with pytest.raises(ValueError, match=f"SSEvent {field}= must not contain CR, LF or NUL"):
        SSEvent(text="x", **{field: bad})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("comment", "wire"),
    [
        ("keep", b": keep\n\n"),
        ("a\nb\r\nc\rd", b": a\n: b\n: c\n: d\n\n"),
        ("", b": \n\n"),
    ],
)
def test_comment_lines(comment: str, wire: bytes) -> None:
    assert SSEvent(comment=comment).serialize() == wire


def test_a_multi_line_comment_cannot_forge_data() -> None:
    (parsed,) = SSEParser().feed(SSEvent(comment="note\n\ndata: evil").serialize())
    assert parsed == ParsedEvent(data="", comments=("note", "", "data: evil"))


@pytest.mark.parametrize("retry", [-1, True, 1.5, "5"])
def test_retry_must_be_a_non_negative_int(retry: object) -> None:
    with pytest.raises(ValueError, match=r"non-negative int .* found"):
        SSEvent(retry=retry)  # type: ignore[arg-type]


def test_retry_zero_is_allowed() -> None:
    assert SSEvent(retry=0).serialize() == b"retry: 0\n\n"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"data": "text"}, r"data= expects bytes or None; found str"),
        ({"text": b"bytes"}, r"text= expects a str or None; found bytes"),
        ({"event": 5}, r"event= expects a str or None; found int"),
        ({"event_id": 5}, r"event_id= expects a str or None; found int"),
        ({"comment": 5}, r"comment= expects a str or None; found int"),
    ],
)
def test_wrong_types_are_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(TypeError, match=match):
        SSEvent(**kwargs)  # type: ignore[arg-type]


def test_data_wins_over_text_which_wins_over_json() -> None:
    assert SSEvent(data=b"d", text="t", json=1).serialize() == b"data: d\n\n"
    assert SSEvent(text="t", json=1).serialize() == b"data: t\n\n"
    assert SSEvent(json={"a": [1, 2]}).serialize() == b'data: {"a":[1,2]}\n\n'


def test_json_none_sends_null_and_no_json_sends_a_ping() -> None:
    assert SSEvent(json=None).serialize() == b"data: null\n\n"
    assert SSEvent().serialize() == PING == b": ping\n\n"


def test_fields_without_payload_are_sent_without_data() -> None:
    assert SSEvent(event_id="7").serialize() == b"id: 7\n\n"
    assert SSEvent(event="tick", retry=10).serialize() == b"event: tick\nretry: 10\n\n"


def test_unicode_is_utf8() -> None:
    event = SSEvent(text="héllo ✓ 🎉", event="ünï", event_id="ид", json="é")
    wire = event.serialize()
    assert wire == "event: ünï\nid: ид\ndata: héllo ✓ 🎉\n\n".encode()
    (parsed,) = SSEParser().feed(wire)
    assert (parsed.data, parsed.event, parsed.event_id) == ("héllo ✓ 🎉", "ünï", "ид")
    assert SSEvent(json="é").serialize() == 'data: "é"\n\n'.encode()


def test_json_uses_the_given_dumps() -> None:
    calls: list[object] = []

    def dumps(obj: object) -> str:
        calls.append(obj)
        return "custom"

    assert SSEvent(json={"b": 1}).serialize(dumps) == b"data: custom\n\n"
    assert calls == [{"b": 1}]
    assert SSEvent(text="t").serialize(dumps) == b"data: t\n\n"
    assert calls == [{"b": 1}]


def test_multi_line_json_round_trips() -> None:
    obj = {"a": [1, 2], "b": "x"}
    wire = SSEvent(json=obj).serialize(lambda o: json.dumps(o, indent=2))
    assert wire.count(b"data: ") == 7
    (parsed,) = SSEParser().feed(wire)
    assert parsed.json() == obj


def test_events_are_read_only_values() -> None:
    event = SSEvent(data=b"d", event="e", event_id="i", retry=1, comment="c")
    assert (event.data, event.text, event.json) == (b"d", None, None)
    assert (event.event, event.event_id, event.retry, event.comment) == ("e", "i", 1, "c")
    with pytest.raises(AttributeError):
        event.event = "x\ny"  # type: ignore[misc]
    assert repr(SSEvent(text="t", json=None)) == "SSEvent(text='t', json=None)"


def test_text_only_events_read_like_any_other() -> None:
    # A text-only event is stored in a shorter form; nothing outside may tell.
    event = SSEvent(text="t")
    assert (event.data, event.text, event.json) == (None, "t", None)
    assert (event.event, event.event_id, event.retry, event.comment) == (None,) * 4
    assert repr(event) == "SSEvent(text='t')"
    assert event.serialize() == b"data: t\n\n"
    assert SSEvent(text="a\r\nb\rc").serialize() == b"data: a\ndata: b\ndata: c\n\n"


def test_a_str_subclass_is_sent_as_its_text() -> None:
    class Label(str):
        pass

    event = SSEvent(text=Label("x\ny"))
    assert event.text == "x\ny"
    assert event.serialize() == b"data: x\ndata: y\n\n"


# --- SSEOptions and headers -------------------------------------------------------


def test_sse_options_ping_interval() -> None:
    options = SSEOptions()
    assert options.ping_interval == 15.0
    options.ping_interval = 2
    assert options.ping_interval == 2.0
    assert isinstance(options.ping_interval, float)
    options.ping_interval = None
    assert options.ping_interval is None


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (0, ValueError),
        (-1.0, ValueError),
        (math.nan, ValueError),
        (math.inf, ValueError),
        ("5", TypeError),
        (True, TypeError),
    ],
)
def test_sse_options_refuses_bad_ping_interval(value: object, error: type[Exception]) -> None:
    options = SSEOptions()
    with pytest.raises(error, match=r"ping_interval expects .* found"):
        options.ping_interval = value  # type: ignore[assignment]
    assert options.ping_interval == 15.0


def test_sse_headers() -> None:
    assert dict(SSE_HEADERS) == {
        b"content-type": b"text/event-stream; charset=utf-8",
        b"cache-control": b"no-cache",
        b"x-accel-buffering": b"no",
    }


# --- stream_sse -------------------------------------------------------------------


class Peer:
    """A hand-written ASGI server side for one response: a real receive and send."""

    def __init__(
        self,
        *,
        raise_after: int | None = None,
        send_delay: Callable[[bytes], float] = lambda body: 0.0,
        request_chunks: int = 1,
    ) -> None:
        self.messages: list[Message] = []
        self.disconnect = asyncio.Event()
        self.first_body = asyncio.Event()
        self.overlaps = 0
        self._raise_after = raise_after
        self._send_delay = send_delay
        self._request_chunks = request_chunks
        self._in_send = False

    async def receive(self) -> Message:
        if self._request_chunks:
            self._request_chunks -= 1
            return {"type": "http.request", "body": b"x", "more_body": self._request_chunks > 0}
        await self.disconnect.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if self._in_send:
            self.overlaps += 1
        if self._raise_after is not None and len(self.bodies) >= self._raise_after:
            raise OSError("client went away")  # what an ASGI 2.4 server does
        self._in_send = True
        try:
            delay = self._send_delay(message.get("body", b""))
            if delay:
                await asyncio.sleep(delay)
            self.messages.append(message)
        finally:
            self._in_send = False
        if message["type"] == "http.response.body":
            self.first_body.set()

    @property
    def bodies(self) -> list[bytes]:
        return [m["body"] for m in self.messages if m["type"] == "http.response.body"]

    @property
    def ended(self) -> bool:
        return any(m.get("more_body") is False for m in self.messages)


async def run(
    agen: AsyncIterator[SSEvent | None],
    peer: Peer,
    *,
    ping_interval: float | None = None,
    json_dumps: Callable[[object], str] = json.dumps,
) -> None:
    await stream_sse(
        agen,
        peer.receive,
        peer.send,
        ping_interval=ping_interval,
        json_dumps=json_dumps,
        headers=list(SSE_HEADERS),
    )


def other_tasks() -> set[asyncio.Task[object]]:
    return asyncio.all_tasks() - {asyncio.current_task()}


async def test_events_are_sent_in_order_then_the_body_ends() -> None:
    async def events() -> AsyncIterator[SSEvent | None]:
        yield SSEvent(text="one", event_id="1")
        yield None
        yield SSEvent(json={"n": 2})

    peer = Peer()
    await stream_sse(
        events(),
        peer.receive,
        peer.send,
        ping_interval=None,
        json_dumps=lambda obj: "<" + repr(obj) + ">",
        status=201,
        headers=[*SSE_HEADERS, (b"x-extra", b"1")],
    )
    start, *bodies = peer.messages
    assert start == {
        "type": "http.response.start",
        "status": 201,
        "headers": [*SSE_HEADERS, (b"x-extra", b"1")],
    }
    assert bodies == [
        {"type": "http.response.body", "body": b"id: 1\ndata: one\n\n", "more_body": True},
        {"type": "http.response.body", "body": b": ping\n\n", "more_body": True},
        {"type": "http.response.body", "body": b"data: <{'n': 2}>\n\n", "more_body": True},
        {"type": "http.response.body", "body": b"", "more_body": False},
    ]
    assert not other_tasks()


async def test_pings_while_the_generator_is_idle() -> None:
    async def events() -> AsyncIterator[SSEvent | None]:
        yield SSEvent(text="a")
        await asyncio.sleep(0.23)
        yield SSEvent(text="b")

    peer = Peer()
    await run(events(), peer, ping_interval=0.05)
    first, *middle, last, end = peer.bodies
    assert (first, last, end) == (b"data: a\n\n", b"data: b\n\n", b"")
    assert set(middle) == {PING}
    assert 2 <= len(middle) <= 5


async def test_no_pings_while_events_flow() -> None:
    async def events() -> AsyncIterator[SSEvent | None]:
        for i in range(40):
            await asyncio.sleep(0.005)
            yield SSEvent(text=str(i))

    peer = Peer()
    await run(events(), peer, ping_interval=0.1)
    assert PING not in peer.bodies
    assert len(peer.bodies) == 41


async def test_a_slow_send_is_not_idleness() -> None:
    async def events() -> AsyncIterator[SSEvent | None]:
        for i in range(3):
            yield SSEvent(text=str(i))

    peer = Peer(send_delay=lambda body: 0.08)
    await run(events(), peer, ping_interval=0.05)
    assert peer.bodies == [b"data: 0\n\n", b"data: 1\n\n", b"data: 2\n\n", b""]
    assert peer.overlaps == 0


async def test_an_event_waits_for_a_ping_on_the_wire() -> None:
    async def events() -> AsyncIterator[SSEvent | None]:
        yield SSEvent(text="a")
        await asyncio.sleep(0.07)  # the ping starts at 0.05 and is on the wire until 0.11
        yield SSEvent(text="b")

    peer = Peer(send_delay=lambda body: 0.06 if body == PING else 0.0)
    await run(events(), peer, ping_interval=0.05)
    assert peer.bodies[:3] == [b"data: a\n\n", PING, b"data: b\n\n"]
    assert peer.overlaps == 0


async def test_no_pings_when_turned_off() -> None:
    async def events() -> AsyncIterator[SSEvent | None]:
        await asyncio.sleep(0.15)
        yield SSEvent(text="a")

    peer = Peer()
    await run(events(), peer, ping_interval=None)
    assert peer.bodies == [b"data: a\n\n", b""]


async def test_disconnect_closes_a_blocked_generator_at_once() -> None:
    closed_at: list[float] = []

    async def events() -> AsyncIterator[SSEvent | None]:
        try:
            yield SSEvent(text="a")
            await asyncio.Event().wait()
            yield SSEvent(text="never")
        finally:
            closed_at.append(time.monotonic())

    peer = Peer(request_chunks=3)
    stream = asyncio.create_task(run(events(), peer, ping_interval=10.0))
    await peer.first_body.wait()
    await asyncio.sleep(0.02)
    left_at = time.monotonic()
    peer.disconnect.set()
    await asyncio.wait_for(stream, 1.0)
    assert len(closed_at) == 1
    assert closed_at[0] - left_at < 1.0
    assert peer.bodies == [b"data: a\n\n"]  # nothing after the client left
    assert not other_tasks()


async def test_disconnect_stops_a_fast_generator() -> None:
    closed: list[bool] = []

    async def events() -> AsyncIterator[SSEvent | None]:
        try:
            while True:
                await asyncio.sleep(0)
                yield SSEvent(text="x")
        finally:
            closed.append(True)

    peer = Peer()
    stream = asyncio.create_task(run(events(), peer, ping_interval=0.05))
    await asyncio.sleep(0.05)
    peer.disconnect.set()
    await asyncio.wait_for(stream, 1.0)
    assert closed == [True]
    assert not peer.ended
    assert not other_tasks()


async def test_a_generator_that_ignores_cancellation_is_still_stopped() -> None:
    closed: list[bool] = []

    async def events() -> AsyncIterator[SSEvent | None]:
        try:
            yield SSEvent(text="a")
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.Event().wait()
            yield SSEvent(text="after the client left")
        finally:
            closed.append(True)

    peer = Peer()
    stream = asyncio.create_task(run(events(), peer))
    await peer.first_body.wait()
    peer.disconnect.set()
    await asyncio.wait_for(stream, 1.0)
    assert closed == [True]
    assert peer.bodies == [b"data: a\n\n"]
    assert not other_tasks()


async def test_generator_error_propagates_after_the_body_ends() -> None:
    async def events() -> AsyncIterator[SSEvent | None]:
        yield SSEvent(text="a")
        raise RuntimeError("boom")

    peer = Peer()
    with pytest.raises(RuntimeError, match="boom"):
        await run(events(), peer)
    assert peer.bodies == [b"data: a\n\n", b""]
    assert peer.ended
    assert not other_tasks()


async def test_an_error_in_cleanup_after_a_disconnect_is_raised() -> None:
    async def events() -> AsyncIterator[SSEvent | None]:
        try:
            yield SSEvent(text="a")
            await asyncio.Event().wait()
        finally:
            raise ValueError("cleanup failed")

    peer = Peer()
    stream = asyncio.create_task(run(events(), peer))
    await peer.first_body.wait()
    peer.disconnect.set()
    with pytest.raises(ValueError, match="cleanup failed"):
        await asyncio.wait_for(stream, 1.0)
    assert not peer.ended
    assert not other_tasks()


async def test_yielding_something_else_is_a_clear_type_error() -> None:
    closed: list[bool] = []

    async def events() -> AsyncIterator[object]:
        try:
            yield "oops"
        finally:
            closed.append(True)

    peer = Peer()
    with pytest.raises(TypeError, match=r"must yield SSEvent .* it yielded str 'oops'"):
        await run(events(), peer)  # type: ignore[arg-type]
    assert peer.bodies == [b""]
    assert closed == [True]


async def test_json_errors_propagate_and_close_the_generator() -> None:
    closed: list[bool] = []

    async def events() -> AsyncIterator[SSEvent | None]:
        try:
            yield SSEvent(json={1, 2})
        finally:
            closed.append(True)

    peer = Peer()
    with pytest.raises(TypeError, match="set is not JSON serializable"):
        await run(events(), peer)
    assert peer.bodies == [b""]
    assert closed == [True]


async def test_send_raising_oserror_ends_the_stream_and_closes_the_generator() -> None:
    closed: list[bool] = []

    async def events() -> AsyncIterator[SSEvent | None]:
        try:
            while True:
                yield SSEvent(text="x")
        finally:
            closed.append(True)

    peer = Peer(raise_after=2)
    await asyncio.wait_for(run(events(), peer), 1.0)
    assert peer.bodies == [b"data: x\n\n", b"data: x\n\n"]
    assert closed == [True]
    assert not other_tasks()


async def test_a_ping_raising_oserror_ends_the_stream() -> None:
    closed: list[bool] = []

    async def events() -> AsyncIterator[SSEvent | None]:
        try:
            yield SSEvent(text="a")
            await asyncio.Event().wait()
        finally:
            closed.append(True)

    peer = Peer(raise_after=1)
    await asyncio.wait_for(run(events(), peer, ping_interval=0.02), 1.0)
    assert peer.bodies == [b"data: a\n\n"]
    assert closed == [True]
    assert not other_tasks()


async def test_a_client_gone_before_the_start_is_not_an_error() -> None:
    started: list[bool] = []

    async def events() -> AsyncIterator[SSEvent | None]:
        started.append(True)
        yield SSEvent(text="a")

    async def send(message: Message) -> None:
        raise OSError("gone")

    agen = events()
    await stream_sse(
        agen, Peer().receive, send, ping_interval=None, json_dumps=json.dumps, headers=[]
    )
    assert started == []
    with pytest.raises(StopAsyncIteration):
        await agen.__anext__()  # closed


async def test_receive_raising_oserror_counts_as_a_disconnect() -> None:
    closed: list[bool] = []

    async def events() -> AsyncIterator[SSEvent | None]:
        try:
            yield SSEvent(text="a")
            await asyncio.Event().wait()
        finally:
            closed.append(True)

    async def receive() -> Message:
        await asyncio.sleep(0.02)
        raise OSError("connection reset")

    peer = Peer()
    await asyncio.wait_for(
        stream_sse(
            events(), receive, peer.send, ping_interval=None, json_dumps=json.dumps, headers=[]
        ),
        1.0,
    )
    assert closed == [True]
    assert peer.bodies == [b"data: a\n\n"]


async def test_cancelling_the_caller_closes_the_generator() -> None:
    closed: list[bool] = []

    async def events() -> AsyncIterator[SSEvent | None]:
        try:
            yield SSEvent(text="a")
            await asyncio.Event().wait()
        finally:
            closed.append(True)

    peer = Peer()
    stream = asyncio.create_task(run(events(), peer, ping_interval=0.05))
    await peer.first_body.wait()
    stream.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stream
    assert closed == [True]
    assert not other_tasks()


async def test_an_async_iterator_without_aclose_works() -> None:
    class Countdown:
        def __init__(self) -> None:
            self.left = 2

        def __aiter__(self) -> Countdown:
            return self

        async def __anext__(self) -> SSEvent:
            if not self.left:
                raise StopAsyncIteration
            self.left -= 1
            return SSEvent(text=str(self.left))

    peer = Peer()
    await run(Countdown(), peer)
    assert peer.bodies == [b"data: 1\n\n", b"data: 0\n\n", b""]


# --- SSEParser --------------------------------------------------------------------

SAMPLE = [
    SSEvent(text="plain"),
    SSEvent(text="multi\nline\r\ntext", event="update", event_id="1", retry=3000),
    SSEvent(),
    SSEvent(json={"ü": [1, None]}, comment="two\nlines"),
    SSEvent(data="bytes ✓".encode(), event_id=""),
    SSEvent(text=""),
]
EXPECTED = [
    ParsedEvent(data="plain"),
    ParsedEvent(data="multi\nline\ntext", event="update", event_id="1", retry=3000),
    ParsedEvent(data="", comments=("ping",)),
    ParsedEvent(data='{"ü":[1,null]}', comments=("two", "lines")),
    ParsedEvent(data="bytes ✓", event_id=""),
    ParsedEvent(data=""),
]


def test_round_trip() -> None:
    wire = b"".join(event.serialize() for event in SAMPLE)
    assert SSEParser().feed(wire) == EXPECTED


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n", b"\r"])
def test_chunks_may_split_anywhere(line_end: bytes) -> None:
    wire = b"".join(event.serialize() for event in SAMPLE).replace(b"\n", line_end)
    parser = SSEParser()
    parsed = [event for i in range(len(wire)) for event in parser.feed(wire[i : i + 1])]
    assert parsed == EXPECTED


def test_crlf_split_across_chunks_is_one_line_break() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"") == []
    assert parser.feed(b"\ndata: b\n") == []
    assert parser.feed(b"\n") == [ParsedEvent(data="a\nb")]


def test_parser_follows_the_field_rules() -> None:
    wire = (
        b"\xef\xbb\xbfdata:no space\n"
        b"data:  two spaces\n"
        b"data\n"
        b"unknown: ignored\n"
        b"id: bad\x00id\n"
        b"retry: 12a\n"
        b"event\n"
        b":no-space comment\n"
        b"data: \xff\n"
        b"\n"
    )
    assert SSEParser().feed(wire) == [
        ParsedEvent(
            data="no space\n two spaces\n\n\ufffd",
            event="",
            event_id=None,
            retry=None,
            comments=("no-space comment",),
        )
    ]


def test_blank_lines_alone_and_unfinished_blocks_report_nothing() -> None:
    parser = SSEParser()
    assert parser.feed(b"\n\n\r\ndata: unfinished") == []
    assert parser.feed(b"\n") == []
    assert parser.feed(b"\n") == [ParsedEvent(data="unfinished")]


def test_parsed_event_json() -> None:
    (parsed,) = SSEParser().feed(SSEvent(json={"a": [1]}).serialize())
    assert parsed.json() == {"a": [1]}
    with pytest.raises(json.JSONDecodeError):
        ParsedEvent(data="not json").json()
