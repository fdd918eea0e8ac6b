"""Property-based tests for the router and its converters (hypothesis, derandomised).

What must hold for any input: a lookup returns a route whose fields reproduce
the path, or nothing; a segment mixing literal text and fields splits exactly as
the backtracking regular expression it replaced would have (on paths short
enough for that to be quick); a bad template raises only ``ValueError`` (of
which ``RouteConflictError`` is one); and a converter given any text returns a
value of its type within its bounds, or ``None``.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lanner._converters import (
    MAX_INT_DIGITS,
    Converter,
    FloatConverter,
    IntConverter,
    UUIDConverter,
    build_converter,
)
from lanner.routing import CompiledRouter, RouteConflictError

# -- segments mixing literal text and fields, against the regex they replaced --

_SPECS: dict[str, Converter | None] = {
    "": None,
    ":int": IntConverter(),
    ":int(min=0, max=50)": IntConverter(min=0, max=50),
    ":int(num_digits=2)": IntConverter(num_digits=2),
    ":float": FloatConverter(),
    ":float(min=-1, max=1)": FloatConverter(min=-1, max=1),
    ":uuid": UUIDConverter(),
}
# Literal text made of characters the converters' syntaxes use, so that splits
# are ambiguous as often as possible.
_LITERAL = st.text(alphabet="-.e1x0", min_size=1, max_size=3)
_SEGMENT_TEXT = "-.e1x05E+a"
_UUID_TEXT = str(uuid.UUID(int=0xABCDEF))


@st.composite
def _mixed_segments(draw: st.DrawFn) -> tuple[str, list[str], list[Converter | None]]:
    """A template segment with 1 to 3 fields: (segment, literals, converters)."""
    count = draw(st.integers(1, 3))
    converters = [
        _SPECS[spec]
        for spec in draw(st.lists(st.sampled_from(list(_SPECS)), min_size=count, max_size=count))
    ]
    literals = [draw(st.one_of(st.just(""), _LITERAL))]
    literals += [draw(_LITERAL) for _ in range(count - 1)]
    literals.append(draw(st.one_of(st.just(""), _LITERAL)))
    if count == 1 and not (literals[0] or literals[-1]):
        literals[-1] = draw(_LITERAL)  # otherwise it is a whole-segment field
    spec_of = {id(converter): spec for spec, converter in _SPECS.items()}
    segment = literals[0]
    for index, converter in enumerate(converters):
        segment += f"{{f{index}{spec_of[id(converter)]}}}" + literals[index + 1]
    return segment, literals, converters


def _regex_split(literals: list[str], converters: list[Converter | None], text: str) -> Any:
    """What the router did before: one backtracking regex, then the converters."""
    pattern = re.escape(literals[0])
    for index, converter in enumerate(converters):
        pattern += f"({'.+' if converter is None else converter.pattern})"
        pattern += re.escape(literals[index + 1])
    match = re.fullmatch(pattern, text, re.DOTALL)
    if match is None:
        return None
    values = {}
    for index, (converter, group) in enumerate(zip(converters, match.groups(), strict=True)):
        value = group if converter is None else converter.convert(group)
        if value is None:
            return None
        values[f"f{index}"] = value
    return values


def _field_text(converter: Converter | None) -> st.SearchStrategy[str]:
    if converter is None:
        return st.text(alphabet=_SEGMENT_TEXT, min_size=1, max_size=4)
    if isinstance(converter, IntConverter):
        return st.integers(-99, 999).map(str)
    if isinstance(converter, FloatConverter):
        return st.sampled_from(["1", "-1.5", ".5", "2.", "1e-3", "0.5e1", "1.", "-0"])
    return st.just(_UUID_TEXT)


@given(data=st.data(), mixed=_mixed_segments())
def test_mixed_segment_splits_like_the_backtracking_regex(
    data: st.DataObject, mixed: tuple[str, list[str], list[Converter | None]]
) -> None:
    segment, literals, converters = mixed
    built = literals[0] + "".join(
        data.draw(_field_text(converter)) + literal
        for converter, literal in zip(converters, literals[1:], strict=True)
    )
    text = data.draw(
        st.one_of(st.just(built), st.text(alphabet=_SEGMENT_TEXT, max_size=14)), label="text"
    )
    router: CompiledRouter[str] = CompiledRouter()
    router.add("/s/" + segment, segment)
    found = router.find("/s/" + text)
    assert (None if found is None else found[1]) == _regex_split(literals, converters, text)


# -- round trip: format a template, find it, format the result again ----------

_WORD = st.text(alphabet="ghjkmnpqrstvwyzé", min_size=1, max_size=5)
_SEPARATOR = st.sampled_from(["_", "~", "!", "_~"])
_TYPED: dict[str, st.SearchStrategy[str]] = {
    "": _WORD,
    ":int": st.integers(-(10**6), 10**6).map(str),
    ":float": st.floats(allow_nan=False, allow_infinity=False).map(repr),
    ":uuid": st.uuids().map(str),
}


@st.composite
def _template_and_path(draw: st.DrawFn) -> tuple[str, str]:
    """A valid template and a path formatted from it with canonical field texts."""
    template, path = "", ""
    names = iter(f"f{index}" for index in range(100))
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["literal", "field", "mixed"]))
        if kind == "literal":
            word = draw(_WORD)
            template, path = f"{template}/{word}", f"{path}/{word}"
        elif kind == "field":
            spec = draw(st.sampled_from(list(_TYPED)))
            template += f"/{{{next(names)}{spec}}}"
            path += "/" + draw(_TYPED[spec])
        else:
            head, tail = draw(st.sampled_from([("", "_"), ("x", ""), ("x", "~")]))
            template, path = f"{template}/{head}", f"{path}/{head}"
            for index in range(draw(st.integers(1, 3))):
                if index:
                    separator = draw(_SEPARATOR)
                    template, path = template + separator, path + separator
                spec = draw(st.sampled_from(list(_TYPED)))
                template += f"{{{next(names)}{spec}}}"
                path += draw(_TYPED[spec])
            template, path = template + tail, path + tail
    if draw(st.booleans()):
        template += f"/{{{next(names)}:path}}"
        path += "/" + "/".join(draw(st.lists(_WORD, min_size=1, max_size=3)))
    elif draw(st.booleans()) or not template:
        template, path = template + "/", path + "/"
    return template, path


def _format(template: str, values: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+)[^}]*\}", lambda field: str(values[field.group(1)]), template)


@given(_template_and_path())
def test_formatted_template_is_found_and_reformats_to_the_same_path(
    template_and_path: tuple[str, str],
) -> None:
    template, path = template_and_path
    router: CompiledRouter[str] = CompiledRouter()
    router.add(template, template)
    found = router.find(path)
    assert found is not None, (template, path)
    assert found[2] == template
    assert _format(template, found[1]) == path


# -- random paths against random templates ------------------------------------


def _template_regex(template: str) -> str:
    """The paths ``template`` can match, as a regex (for checking short paths only)."""
    pattern = ""
    position = 0
    for field in re.finditer(r"\{\w+(?::(\w+)[^}]*)?\}", template):
        pattern += re.escape(template[position : field.start()])
        spec = field.group(1)
        if spec == "path":
            pattern += "[^/].*"
        elif spec:
            pattern += f"(?:{build_converter(spec, None).pattern})"
        else:
            pattern += "[^/]+"
        position = field.end()
    return pattern + re.escape(template[position:])


@settings(max_examples=100)
@given(
    templates=st.lists(_template_and_path().map(lambda pair: pair[0]), min_size=1, max_size=4),
    paths=st.lists(
        st.text(alphabet="/_~x1.-egé", max_size=16).map(lambda text: "/" + text), max_size=8
    ),
)
def test_any_path_gets_a_route_that_matches_it_or_none(
    templates: list[str], paths: list[str]
) -> None:
    router: CompiledRouter[str] = CompiledRouter()
    for template in templates:
        with contextlib.suppress(RouteConflictError):
            router.add(template, template)
    for path in paths:
        found = router.find(path)
        if found is None:
            continue
        target, values, matched = found
        assert target == matched
        assert matched in router.templates
        assert re.fullmatch(_template_regex(matched), path, re.DOTALL)
        for value in values.values():
            assert not isinstance(value, str) or value in path


# -- junk templates raise only the documented errors --------------------------


@given(
    st.lists(
        st.one_of(
            st.text(max_size=20),
            st.text(alphabet="/{}:()=,.-_aiz019 *'\"", max_size=24).map(lambda text: "/" + text),
        ),
        max_size=6,
    )
)
def test_bad_templates_raise_only_value_errors(templates: list[str]) -> None:
    router: CompiledRouter[str] = CompiledRouter()
    refusals: list[tuple[str, ValueError]] = []
    for template in templates:
        try:
            router.add(template, template)
        except ValueError as exc:  # RouteConflictError is a ValueError
            refusals.append((template, exc))
    for template, exc in refusals:
        # The message quotes the template it refuses (only str templates reach here).
        assert repr(template) in str(exc)
    for template in router.templates:
        router.find(template)  # never raises, whatever it returns


# -- converters on any text -----------------------------------------------------


_NUMBERISH = st.one_of(st.text(max_size=12), st.text(alphabet="-+.eE0123456789_ ", max_size=12))


@given(
    text=st.one_of(_NUMBERISH, st.integers().map(str)),
    low=st.one_of(st.none(), st.integers(-1000, 1000)),
    span=st.one_of(st.none(), st.integers(0, 2000)),
    digits=st.one_of(st.none(), st.integers(1, 5)),
)
def test_int_converter_returns_an_int_within_its_bounds_or_none(
    text: str, low: int | None, span: int | None, digits: int | None
) -> None:
    high = None if span is None else (0 if low is None else low) + span
    value = IntConverter(min=low, max=high, num_digits=digits).convert(text)
    syntax = re.fullmatch(r"-?([0-9]+)", text)
    if syntax is None or len(syntax.group(1)) > MAX_INT_DIGITS:
        assert value is None
        return
    number = int(text)
    acceptable = (
        (low is None or number >= low)
        and (high is None or number <= high)
        and (digits is None or len(syntax.group(1)) == digits)
    )
    assert value == (number if acceptable else None)


@given(
    text=st.one_of(_NUMBERISH, st.floats().map(repr)),
    low=st.one_of(st.none(), st.floats(-10, 10)),
)
def test_float_converter_returns_a_finite_float_within_its_bounds_or_none(
    text: str, low: float | None
) -> None:
    value = FloatConverter(min=low).convert(text)
    if value is not None:
        assert isinstance(value, float)
        assert value == float(text)
        assert value - value == 0  # finite
        assert low is None or value >= low
        assert re.fullmatch(FloatConverter.pattern, text)


@given(st.one_of(st.uuids().map(str), st.uuids().map(lambda u: u.hex.upper()), st.text()))
def test_uuid_converter_returns_a_uuid_or_none(text: str) -> None:
    value = UUIDConverter().convert(text)
    if value is not None:
        assert value == uuid.UUID(text)
        assert re.fullmatch(UUIDConverter.pattern, text)


@given(name=st.sampled_from(["int", "float", "uuid", "path", "x"]), arguments=st.text(max_size=20))
def test_build_converter_raises_only_value_error(name: str, arguments: str) -> None:
    try:
        converter: Converter | None = build_converter(name, arguments)
    except ValueError as exc:
        converter, message = None, str(exc)
    if converter is None:
        assert message
    else:
        assert converter.key.startswith(name)


@given(
    converter=st.sampled_from([IntConverter(), FloatConverter(), UUIDConverter()]),
    text=st.one_of(
        st.text(alphabet="-+.eE0123456789aF", max_size=24),
        st.just(_UUID_TEXT + "-" + _UUID_TEXT[:20]),
    ),
    ends=st.integers(0, 2**60),
)
def test_converter_starts_agree_with_its_pattern(
    converter: Converter, text: str, ends: int
) -> None:
    allowed = bytearray((ends >> bit) & 1 for bit in range(len(text) + 1))
    syntax = re.compile(converter.pattern)
    expected = bytearray(
        any(
            allowed[end] and syntax.fullmatch(text, start, end)
            for end in range(start + 1, len(text) + 1)
        )
        for start in range(len(text) + 1)
    )
    assert converter.starts(text, allowed) == expected
