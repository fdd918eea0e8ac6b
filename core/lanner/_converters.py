"""Field converters for URI templates: turn the text of a field into a typed value.

A converter is built once, when a route is added, from the text after the colon
in a field such as ``{id:int(min=1)}``. Per request the router calls its
:meth:`~Converter.convert` method with the matched text; ``None`` means "this
text is not acceptable", and the router treats that as "this route does not
match" rather than as an error, so a path that no converter accepts becomes a
404 and never a 500.

Every method here takes time linear in the length of the text it is given,
whatever that text is: paths come from outsiders, and a converter that
backtracks would let one request freeze the event loop. The syntax patterns are
therefore unambiguous (a regular expression engine that backtracks never has
two ways to match the same text).
"""

from __future__ import annotations

import ast
import inspect
import math
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Final, Protocol

__all__ = [
    "CONVERTERS",
    "PATH",
    "Converter",
    "FloatConverter",
    "IntConverter",
    "UUIDConverter",
    "build_converter",
]

PATH: Final = "path"
"""Name of the converter that takes the rest of the path; the router handles it itself."""


class Converter(Protocol):
    """What the router needs from a converter.

    Attributes:
        pattern: A regular expression (no capturing groups) for the field's
            syntax: it matches every text the converter might accept. It is used
            only where the field shares a segment with literal text
            (``/v{major:int}.{minor:int}``), so that the segment is split where
            the converter can succeed. It must be unambiguous, and among the
            texts it matches from one position, a backtracking engine must try
            the longer first.
        key: A canonical spelling of the converter and its arguments, such as
            ``int(max=99,min=1)``; two fields with equal keys convert alike.
    """

    pattern: ClassVar[str]

    @property
    def key(self) -> str:
        """The canonical spelling of this converter and its arguments."""
        ...

    def convert(self, value: str) -> Any | None:
        """Return ``value`` converted, or ``None`` if it is not acceptable.

        It accepts only text that :attr:`pattern` matches, so the router may
        take an accepted value as proof that the syntax held.
        """
        ...

    def starts(self, text: str, ends: bytearray) -> bytearray:
        """Mark where a field with this syntax may start, given where it may end.

        Returns a ``bytearray`` of ``len(text) + 1`` flags in which position
        ``p`` is set when ``text[p:q]`` matches :attr:`pattern` for some ``q``
        set in ``ends`` (also ``len(text) + 1`` flags). The router uses it to
        split a segment mixing literal text and fields in linear time.
        """
        ...


def _check_number(converter: str, name: str, value: object, kinds: tuple[type, ...]) -> None:
    # bool is an int subclass; int(min=True) is surely a mistake.
    if isinstance(value, bool) or not isinstance(value, kinds):
        expected = " or ".join(kind.__name__ for kind in kinds)
        raise ValueError(
            f"argument {name}={value!r} of {converter} must be {expected}, "
            f"found {type(value).__name__}"
        )


def _check_bounds(converter: str, low: float | None, high: float | None) -> None:
    if low is not None and high is not None and low > high:
        raise ValueError(
            f"{converter} has min={low!r} greater than max={high!r}; "
            "swap them or widen the range so that min <= max"
        )


def _spell(name: str, args: Mapping[str, object]) -> str:
    inner = ",".join(f"{key}={value!r}" for key, value in sorted(args.items()) if value is not None)
    return f"{name}({inner})" if inner else name


# NOTE: `[0-9]+\.?[0-9]*` would describe the same numbers, but it can split a
# run of digits between its two loops in n ways, so a backtracking engine takes
# quadratic time to refuse '1111...1x' (16,000 digits took 9 s).
_FLOAT_PATTERN: Final = r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_float_syntax: Final = re.compile(_FLOAT_PATTERN).fullmatch
_UUID_PATTERN: Final = (
    r"(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[0-9a-fA-F]{32})"
)
_uuid_syntax: Final = re.compile(_UUID_PATTERN).fullmatch
_digit_runs: Final = re.compile(r"[0-9]+").finditer
_DIGITS: Final = frozenset("0123456789")

MAX_INT_DIGITS: Final = 4300
"""The most digits ``int`` accepts: Python's default ``sys.get_int_max_str_digits()``.

It is fixed here rather than read from the interpreter, because turning a decimal
string into an ``int`` takes more than linear time, and an app that lifts
Python's limit for its own reasons should not open its router to slow paths.
"""


class IntConverter:
    """Accepts a decimal integer, optionally bounded: ``{id:int}``, ``{id:int(min=1)}``.

    Only ASCII digits with an optional leading ``-`` are accepted, so ``+5``,
    `` 5``, ``5_000`` and non-ASCII digits do not match even though ``int()``
    would take them. Leading zeros are allowed (``007`` is 7) unless
    ``num_digits`` pins the length. More than :data:`MAX_INT_DIGITS` digits
    never match.

    Args:
        num_digits: Exact number of digits (the sign does not count), so that
            ``{year:int(num_digits=4)}`` rejects ``99`` and ``02024``.
        min: Smallest accepted value, inclusive.
        max: Largest accepted value, inclusive.

    Raises:
        ValueError: An argument has the wrong type, ``num_digits`` is not
            positive, or ``min`` is greater than ``max``.
    """

    __slots__ = ("_checked", "_key", "_max", "_min", "_num_digits")

    pattern: ClassVar[str] = r"-?[0-9]+"

    def __init__(
        self,
        *,
        num_digits: int | None = None,
        min: int | None = None,
        max: int | None = None,
    ) -> None:
        for name, value in (("num_digits", num_digits), ("min", min), ("max", max)):
            if value is not None:
                _check_number("int", name, value, (int,))
        if num_digits is not None and num_digits < 1:
            raise ValueError(f"int has num_digits={num_digits}; it must be 1 or more")
        _check_bounds("int", min, max)
        self._num_digits = num_digits
        self._min = min
        self._max = max
        self._checked = not (num_digits is None and min is None and max is None)
        self._key = _spell("int", {"num_digits": num_digits, "min": min, "max": max})

    @property
    def key(self) -> str:
        """The canonical spelling, such as ``int(max=99,min=1)``."""
        return self._key

    def convert(self, value: str) -> int | None:
        """Return ``value`` as an ``int`` within the bounds, or ``None``."""
        if value.isdigit() and value.isascii():
            digits = len(value)
        elif value[:1] == "-" and value[1:].isdigit() and value[1:].isascii():
            digits = len(value) - 1
        else:
            return None
        if digits > MAX_INT_DIGITS or (
            self._checked and self._num_digits is not None and digits != self._num_digits
        ):
            return None
        try:
            number = int(value)
        except ValueError:  # the app set sys.set_int_max_str_digits() lower still
            return None
        if self._checked and (
            (self._min is not None and number < self._min)
            or (self._max is not None and number > self._max)
        ):
            return None
        return number

    def starts(self, text: str, ends: bytearray) -> bytearray:
        """Mark where an ``int`` field may start, given where it may end; see :class:`Converter`."""
        marks = bytearray(len(text) + 1)
        for run in _digit_runs(text):
            first, stop = run.span()
            # Every digit before the last allowed end within the run may start it.
            end = ends.rfind(1, first + 1, stop + 1)
            if end != -1:
                marks[first:end] = b"\x01" * (end - first)
                if first and text[first - 1] == "-":
                    marks[first - 1] = 1
        return marks


class FloatConverter:
    """Accepts a finite decimal number, optionally bounded: ``{x:float(min=0)}``.

    Accepted forms are ``1``, ``-1.5``, ``.5``, ``2.`` and ``1e-3``; ``nan``,
    ``inf``, ``+1``, underscores, spaces, and numbers too large for a float
    do not match.

    Args:
        min: Smallest accepted value, inclusive.
        max: Largest accepted value, inclusive.

    Raises:
        ValueError: A bound is not a finite number, or ``min`` is greater than ``max``.
    """

    __slots__ = ("_key", "_max", "_min")

    pattern: ClassVar[str] = _FLOAT_PATTERN

    def __init__(self, *, min: float | None = None, max: float | None = None) -> None:
        for name, value in (("min", min), ("max", max)):
            if value is not None:
                _check_number("float", name, value, (int, float))
                if not math.isfinite(value):
                    raise ValueError(f"float has {name}={value!r}; bounds must be finite numbers")
        _check_bounds("float", min, max)
        self._min = min
        self._max = max
        self._key = _spell("float", {"min": min, "max": max})

    @property
    def key(self) -> str:
        """The canonical spelling, such as ``float(min=0)``."""
        return self._key

    def convert(self, value: str) -> float | None:
        """Return ``value`` as a finite ``float`` within the bounds, or ``None``."""
        if _float_syntax(value) is None:
            return None
        number = float(value)
        if not math.isfinite(number):
            return None
        if (self._min is not None and number < self._min) or (
            self._max is not None and number > self._max
        ):
            return None
        return number

    def starts(self, text: str, ends: bytearray) -> bytearray:
        """Mark where a ``float`` field may start, given its ends; see :class:`Converter`."""
        return _float_starts(text, ends)


class UUIDConverter:
    """Accepts a UUID as 32 hex digits, with or without the four usual hyphens: ``{u:uuid}``.

    The value becomes a :class:`uuid.UUID`. Hex digits may be upper or lower
    case; braces and the ``urn:uuid:`` prefix, which :class:`uuid.UUID`
    would take, do not match.
    """

    __slots__ = ()

    pattern: ClassVar[str] = _UUID_PATTERN

    @property
    def key(self) -> str:
        """The canonical spelling: ``uuid``."""
        return "uuid"

    def convert(self, value: str) -> uuid.UUID | None:
        """Return ``value`` as a :class:`uuid.UUID`, or ``None``."""
        if _uuid_syntax(value) is None:
            return None
        return uuid.UUID(value)

    def starts(self, text: str, ends: bytearray) -> bytearray:
        """Mark where a ``uuid`` field may start, given its ends; see :class:`Converter`."""
        marks = bytearray(len(text) + 1)
        end = ends.find(1, 32)
        while end != -1:
            # The syntax has two lengths only, so each end has two candidate starts.
            for start in (end - 36, end - 32):
                if start >= 0 and _uuid_syntax(text, start, end) is not None:
                    marks[start] = 1
            end = ends.find(1, end + 1)
        return marks


def _float_starts(text: str, ends: bytearray) -> bytearray:
    """Mark each ``p`` where ``text[p:q]`` is a float's syntax for some ``q`` set in ``ends``.

    One pass from right to left, with a flag per position for each state of the
    syntax ``-? (D+ (. D*)? | . D+) (e [+-]? D+)?``: each flag says that the
    text from there on can finish that part and reach an allowed end.
    """
    size = len(text)
    # Two spare cells, so that reading at x + 1 and x + 2 needs no bounds check.
    exp_digits = bytearray(size + 2)  # D+ of the exponent, then an end
    after = bytearray(ends) + b"\x00"  # the mantissa may stop here: an end or an exponent
    fraction = bytearray(after)  # D* after the point, then `after`
    whole = bytearray(size + 2)  # D+ (. D*)? then `after`
    digits_then = bytearray(size + 2)  # D+ then `after` (the '.D+' form)
    mantissa = bytearray(size + 2)
    marks = bytearray(size + 1)
    for x in range(size - 1, -1, -1):
        char = text[x]
        if char in _DIGITS:
            exp_digits[x] = ends[x + 1] or exp_digits[x + 1]
            whole[x] = (
                after[x + 1] or whole[x + 1] or (text[x + 1 : x + 2] == "." and fraction[x + 2])
            )
            digits_then[x] = after[x + 1] or digits_then[x + 1]
            fraction[x] = after[x] or fraction[x + 1]
            mantissa[x] = whole[x]
        elif char == ".":
            mantissa[x] = digits_then[x + 1]
        elif char in "eE" and (
            exp_digits[x + 1] or (text[x + 1 : x + 2] in ("+", "-") and exp_digits[x + 2])
        ):
            after[x] = fraction[x] = 1
        marks[x] = mantissa[x] or (char == "-" and mantissa[x + 1])
    return marks


CONVERTERS: Final[Mapping[str, Callable[..., Converter]]] = {
    "int": IntConverter,
    "float": FloatConverter,
    "uuid": UUIDConverter,
}
"""Converter factories by the name used in templates; ``path`` is handled by the router."""


def _parse_arguments(name: str, text: str) -> dict[str, Any]:
    example = f"{name}(min=1, max=99)" if name != "uuid" else "uuid"
    try:
        call = ast.parse(f"_({text})", mode="eval").body
    except SyntaxError:
        call = None
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
        raise ValueError(
            f"its arguments ({text}) could not be parsed; "
            f"write keyword arguments with literal values, such as {example}"
        )
    if call.args:
        raise ValueError(
            f"its arguments ({text}) include a positional one; "
            f"name every argument, such as {example}"
        )
    args: dict[str, Any] = {}
    for keyword in call.keywords:
        if keyword.arg is None:
            raise ValueError(f"its arguments ({text}) use '**'; name each argument instead")
        if keyword.arg in args:
            raise ValueError(f"its arguments ({text}) repeat {keyword.arg}=; give it once")
        try:
            args[keyword.arg] = ast.literal_eval(keyword.value)
        except ValueError:
            raise ValueError(
                f"argument {keyword.arg}= of {name} is not a literal value; "
                "use a plain number such as 1 or 2.5"
            ) from None
    return args


def build_converter(name: str, arguments: str | None) -> Converter:
    """Build the converter that a template field names, such as ``int`` with ``min=1``.

    Args:
        name: The converter name, the text between ``:`` and ``(``.
        arguments: The text between the parentheses, or ``None`` if there were none.

    Returns:
        A converter ready for the request path.

    Raises:
        ValueError: The name is unknown or the arguments are not acceptable;
            the message says what was found and how to fix it, and the caller
            adds the template.
    """
    factory = CONVERTERS.get(name)
    if factory is None:
        known = ", ".join(sorted([*CONVERTERS, PATH]))
        raise ValueError(f"there is no converter named {name!r}; the converters are {known}")
    args = _parse_arguments(name, arguments) if arguments is not None else {}
    try:
        return factory(**args)
    except TypeError:
        accepted = _accepted_arguments(factory)
        raise ValueError(
            f"{name} takes "
            + (f"only the arguments {accepted}" if accepted else "no arguments")
            + f", found ({arguments})"
        ) from None


def _accepted_arguments(factory: Callable[..., Converter]) -> str:
    return ", ".join(inspect.signature(factory).parameters)
