"""Property tests: any ``SSEvent`` is refused when created, or reads back as itself.

Random ``event``, ``event_id``, ``data``, ``text``, ``json``, ``retry`` and
``comment`` (line breaks, NUL, colons, BOMs and lone surrogates included) either
raise ``ValueError`` from ``SSEvent(...)``, or serialize to a wire form that
``lanner.testing``'s event-stream parser reads back to the same fields. No
field can forge another or end the event early.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import lanner
from lanner.testing import ParsedEvent, SSEParser

_LINE_END = re.compile(rb"\r\n|\r|\n")

_TRICKY = st.sampled_from(["\r", "\n", "\r\n", "\0", ":", " ", "\ufeff", "\ud800", "data: x"])
_TEXT = st.one_of(
    st.none(),
    st.lists(st.one_of(st.text(max_size=6), _TRICKY), max_size=5).map("".join),
)
_BYTES = st.one_of(
    st.none(),
    st.lists(
        st.one_of(st.binary(max_size=6), st.sampled_from([b"\r", b"\n", b"\r\n", b"\xff"])),
        max_size=5,
    ).map(b"".join),
)
_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.lists(_TRICKY, max_size=3).map("".join)),
    lambda children: st.lists(children, max_size=3),
    max_leaves=6,
)
_NO_JSON: Any = object()


def _parse(wire: bytes) -> ParsedEvent:
    parser = SSEParser()
    (parsed,) = parser.feed(wire)
    return parsed


def _lines(payload: bytes) -> list[str]:
    """The lines a reader sees in a payload: split at CR, LF and CRLF, decoded leniently."""
    return [line.decode("utf-8", "replace") for line in _LINE_END.split(payload)]


@given(
    data=_BYTES,
    text=_TEXT,
    json=st.one_of(st.just(_NO_JSON), _JSON),
    event=_TEXT,
    event_id=_TEXT,
    retry=st.one_of(st.none(), st.integers(-3, 2**40)),
    comment=_TEXT,
)
def test_an_event_is_refused_or_reads_back_as_itself(
    data: bytes | None,
    text: str | None,
    json: Any,
    event: str | None,
    event_id: str | None,
    retry: int | None,
    comment: str | None,
) -> None:
    fields: dict[str, Any] = {
        "data": data,
        "text": text,
        "event": event,
        "event_id": event_id,
        "retry": retry,
        "comment": comment,
    }
    if json is not _NO_JSON:
        fields["json"] = json
    try:
        sse_event = lanner.SSEvent(**fields)
    except ValueError:
        # Only what cannot be sent is refused: a line break or NUL in a
        # one-line field, a negative retry, or text UTF-8 cannot encode.
        assert _unsendable(fields)
        return
    try:
        wire = sse_event.serialize()
    except ValueError:
        # A json= payload alone is encoded late, by the app's JSON handler, so a
        # lone surrogate in it can only be found then.
        assert data is None
        assert text is None
        assert json is not _NO_JSON
        assert _unsendable(fields)
        return
    assert not _unsendable(fields)
    parsed = _parse(wire)

    if data is not None:
        expected_data: str | None = "\n".join(_lines(data))
    elif text is not None:
        expected_data = "\n".join(_lines(text.encode()))
    elif json is not _NO_JSON:
        expected_data = None
        assert parsed.json() == json
    elif event is None and event_id is None and retry is None and comment is None:
        assert parsed == ParsedEvent(data="", comments=("ping",))  # SSEvent(): a keep-alive
        return
    else:
        expected_data = ""
    if expected_data is not None:
        assert parsed.data == expected_data
    assert parsed.event == event
    assert parsed.event_id == event_id
    assert parsed.retry == retry
    expected_comments = tuple(_lines(comment.encode())) if comment is not None else ()
    assert parsed.comments == expected_comments


def _unsendable(fields: dict[str, Any]) -> bool:
    for name in ("event", "event_id"):
        value = fields[name]
        if value is not None and ("\r" in value or "\n" in value or "\0" in value):
            return True
    if fields["retry"] is not None and fields["retry"] < 0:
        return True
    texts = [fields[name] for name in ("event", "event_id", "comment") if fields[name]]
    if fields["data"] is None and fields["text"] is not None:
        texts.append(fields["text"])
    if fields["data"] is None and fields["text"] is None and "json" in fields:
        texts.extend(_strings_in(fields["json"]))
    return any(_has_lone_surrogate(text) for text in texts)


def _strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for item in value for s in _strings_in(item)]
    return []


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return True
    return False


@given(texts=st.lists(_TEXT, max_size=4), split=st.data())
def test_a_stream_of_events_reads_back_in_order_however_it_is_split(
    texts: list[str | None], split: st.DataObject
) -> None:
    sendable = [t for t in texts if t is None or not _has_lone_surrogate(t)]
    stream = b"".join(lanner.SSEvent(text=t).serialize() for t in sendable)
    cuts = sorted(split.draw(st.lists(st.integers(0, len(stream)), max_size=4)))
    parser = SSEParser()
    parsed: list[ParsedEvent] = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        parsed.extend(parser.feed(stream[start:end]))
    assert [p.data for p in parsed] == [
        "" if t is None else "\n".join(_lines(t.encode())) for t in sendable
    ]
