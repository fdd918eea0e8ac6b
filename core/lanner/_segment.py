"""Split a path segment that mixes literal text and fields, in time linear in its length.

A template segment such as ``{year}-{month}-{day}.json`` used to be a regular
expression with one group per field. Python's engine backtracks, so a segment of
1,600 dashes took seconds to refuse, and held the event loop meanwhile. This
splitter keeps the same rule, each field from left to right takes the longest
text that still lets the rest of the segment match, with work that grows
linearly with the segment:

* The fast path places each literal at its rightmost possible position with
  ``str.rfind``, right to left. No valid split can put a literal further right,
  so when every field's text then has its converter's syntax, this is the split
  the rule asks for. Segments whose fields are all plain always end here.
* Otherwise (a typed field's syntax failed, as for ``{page:int}.{rest}`` and
  ``1.2.x``), a slow path marks, right to left, where each part may start so
  that the rest can still match, then walks left to right taking the longest
  allowed text for each field. Each part costs one pass over the segment.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Final

from lanner._converters import Converter

__all__ = ["SegmentSplitter"]

_FullMatch = Callable[[str, int, int], "re.Match[str] | None"]
_Match = Callable[[str, int], "re.Match[str] | None"]


class SegmentSplitter:
    """Splits one segment by literal text around fields, and converts the fields' texts.

    Args:
        literals: The literal text before the first field, between each two
            fields and after the last: one more than there are fields. Only the
            first and the last may be empty.
        converters: Per field, its converter, or ``None`` for a plain field
            (any non-empty text).
    """

    __slots__ = (
        "_converters",
        "_converts",
        "_head",
        "_inner",
        "_low",
        "_minimum",
        "_syntax",
        "_tail",
        "_tail_size",
        "literals",
    )

    def __init__(self, literals: Sequence[str], converters: Sequence[Converter | None]) -> None:
        # The template parser guarantees the shape: at least one field, and
        # non-empty literal text between each two.
        self.literals: Final = tuple(literals)
        self._converters: Final = tuple(converters)
        self._head: Final = literals[0]
        self._tail: Final = literals[-1]
        self._low: Final = len(self._head) + 1
        self._tail_size: Final = len(self._tail)
        # (field index, convert) for each typed field: plain fields keep their text.
        self._converts: Final = tuple(
            (index, converter.convert)
            for index, converter in enumerate(converters)
            if converter is not None
        )
        # Right to left: the literals between fields, each with its length.
        self._inner: Final = tuple((text, len(text)) for text in reversed(literals[1:-1]))
        self._minimum: Final = sum(map(len, literals)) + len(converters)
        self._syntax: Final = tuple(
            None if converter is None else re.compile(converter.pattern) for converter in converters
        )

    def matcher(self) -> Callable[[str], list[Any] | None]:
        """Return the per-request function: the field values for a segment, or ``None``.

        It places each literal as far right as it can go, right to left; no
        valid split puts a literal further right, so none fits if this fails.
        PERF: it runs per request for every segment-mixing candidate, so it is a
        closure over locals doing a handful of C-level string calls, with the
        usual two-field shape unrolled.
        """
        head, tail, minimum = self._head, self._tail, self._minimum
        low = self._low  # the first field is not empty
        tail_size, converts, fallback, inner = (
            self._tail_size,
            self._converts,
            self._fallback,
            self._inner,
        )
        pair = len(inner) == 1
        literal, size = inner[0] if pair else ("", 0)

        def split(segment: str) -> list[Any] | None:
            if len(segment) < minimum or not segment.startswith(head) or not segment.endswith(tail):
                return None
            stop = len(segment) - tail_size
            texts: list[Any]
            if pair:
                # Ends at least one character before `stop`: the next field is not empty.
                at = segment.rfind(literal, low, stop - 1)
                if at == -1:
                    return None
                texts = [segment[low - 1 : at], segment[at + size : stop]]
            else:
                texts = []
                for text, length in inner:
                    at = segment.rfind(text, low, stop - 1)
                    if at == -1:
                        return None
                    texts.append(segment[at + length : stop])
                    stop = at
                # The length check and `low` keep the first field non-empty here.
                texts.append(segment[low - 1 : stop])
                texts.reverse()
            for index, convert in converts:
                value = convert(texts[index])
                if value is None:
                    return fallback(segment, texts)
                texts[index] = value
            return texts

        return split

    def _fallback(self, segment: str, texts: list[Any]) -> list[Any] | None:
        """Decide after a converter refused a field of the rightmost split.

        ``texts`` holds values up to the refused field and texts after it.
        """
        if self._syntax_holds(texts):
            return None  # this is the split; a converter refused its text
        split = self._longest(segment)
        if split is None:
            return None
        for index, convert in self._converts:
            value = convert(split[index])
            if value is None:
                return None
            split[index] = value
        return split

    def _syntax_holds(self, texts: list[Any]) -> bool:
        # A converted value (not a str) passed its converter, hence its syntax.
        return all(
            syntax is None or not isinstance(text, str) or syntax.fullmatch(text) is not None
            for syntax, text in zip(self._syntax, texts)  # noqa: B905 (same length)
        )

    def _longest(self, segment: str) -> list[str] | None:
        """Split by the rule in one pass per part, respecting each field's syntax.

        Right to left, ``allowed[i]`` marks where field ``i`` may end so that the
        rest matches; then left to right, each field takes the longest text its
        syntax allows up to such an end.
        """
        size = len(segment)
        marks = bytearray(size + 1)
        marks[size] = 1
        marks = _literal_starts(segment, self._tail, marks)
        allowed: list[bytearray] = []
        for index in range(len(self._converters) - 1, -1, -1):
            allowed.append(marks)
            converter = self._converters[index]
            if converter is None:
                last = marks.rfind(1)
                marks = bytearray(size + 1)
                if last > 0:
                    marks[:last] = b"\x01" * last
            else:
                marks = converter.starts(segment, marks)
            marks = _literal_starts(segment, self.literals[index], marks)
        if not marks[0]:
            return None
        allowed.reverse()
        texts: list[str] = []
        position = len(self._head)
        for index, ends in enumerate(allowed):
            syntax = self._syntax[index]
            end = (
                ends.rfind(1, position + 1)
                if syntax is None
                else _longest_end(syntax.match, syntax.fullmatch, segment, position, ends)
            )
            if end == -1:  # pragma: no cover - the marks promised an end
                return None
            texts.append(segment[position:end])
            position = end + len(self.literals[index + 1])
        return texts


def _literal_starts(segment: str, literal: str, ends: bytearray) -> bytearray:
    """Mark each ``p`` where ``literal`` occurs and is followed by a position set in ``ends``."""
    if not literal:
        return ends
    size = len(literal)
    marks = bytearray(len(segment) + 1)
    at = segment.find(literal)
    while at != -1:
        if ends[at + size]:
            marks[at] = 1
        at = segment.find(literal, at + 1)
    return marks


def _longest_end(
    match: _Match, fullmatch: _FullMatch, segment: str, position: int, ends: bytearray
) -> int:
    """Return the largest end set in ``ends`` for a field with this syntax at ``position``.

    The syntax's own longest match bounds the search from above. Below it, the
    ends that fail the syntax are few (``int``: a lone '-'; ``float``: a lone
    sign, or an exponent without digits; ``uuid``: lengths other than 32 and
    36), so the loop stays linear.
    """
    found = match(segment, position)
    if found is None:  # pragma: no cover - the marks promised a match
        return -1
    end = ends.rfind(1, position + 1, found.end() + 1)
    while end != -1 and fullmatch(segment, position, end) is None:
        end = ends.rfind(1, position + 1, end)
    return end
