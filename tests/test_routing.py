"""Tests for lanner.routing: templates, converters, precedence and conflicts."""

from __future__ import annotations

import sys
import uuid
from typing import Any

import pytest

from lanner.routing import CompiledRouter, RouteConflictError


def make_router(*templates: str) -> CompiledRouter[str]:
    """Return a router whose target for each template is the template itself."""
    router: CompiledRouter[str] = CompiledRouter()
    for template in templates:
        router.add(template, template)
    return router


def params_for(template: str, path: str) -> dict[str, Any] | None:
    """Return the field values ``path`` gets from a router holding only ``template``."""
    found = make_router(template).find(path)
    if found is None:
        return None
    target, params, matched = found
    assert target == matched == template
    return params


# -- static routes, root and trailing slashes ---------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", "/"),
        ("/items", "/items"),
        ("/items/", "/items/"),
        ("/items/new", "/items/new"),
        ("/Items", None),
        ("/items//", None),
        ("/item", None),
        ("", None),
        ("items", None),
    ],
)
def test_static_paths_match_exactly(path: str, expected: str | None) -> None:
    router = make_router("/", "/items", "/items/", "/items/new")
    found = router.find(path)
    assert (found[0] if found else None) == expected


def test_static_match_returns_template_and_no_params() -> None:
    assert make_router("/health").find("/health") == ("/health", {}, "/health")


def test_trailing_slash_is_significant_for_dynamic_routes() -> None:
    router = make_router("/items/{name}", "/items/{name}/")
    assert router.find("/items/a") == ("/items/{name}", {"name": "a"}, "/items/{name}")
    assert router.find("/items/a/") == ("/items/{name}/", {"name": "a"}, "/items/{name}/")
    assert make_router("/items/{name}").find("/items/a/") is None


def test_root_coexists_with_a_field_at_the_top() -> None:
    router = make_router("/", "/{page}")
    assert router.find("/") == ("/", {}, "/")
    assert router.find("/about") == ("/{page}", {"page": "about"}, "/{page}")


def test_target_is_returned_as_given() -> None:
    router: CompiledRouter[object] = CompiledRouter()
    target = object()
    router.add("/things/{id:int}", target)
    found = router.find("/things/3")
    assert found is not None
    assert found[0] is target


def test_each_find_returns_a_fresh_params_dict() -> None:
    router = make_router("/static", "/items/{id:int}")
    for path in ("/static", "/items/1"):
        first = router.find(path)
        assert first is not None
        first[1]["added"] = True
        second = router.find(path)
        assert second is not None
        assert "added" not in second[1]


def test_templates_lists_routes_in_order_added_as_a_copy() -> None:
    router = make_router("/b", "/a/{x}", "/c/{p:path}")
    assert router.templates == ["/b", "/a/{x}", "/c/{p:path}"]
    router.templates.append("/z")
    assert router.templates == ["/b", "/a/{x}", "/c/{p:path}"]


# -- plain fields ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/users/alice", {"name": "alice"}),
        ("/users/a b", {"name": "a b"}),
        ("/users/%41", {"name": "%41"}),  # paths are not decoded again
        ("/users/", None),  # a field never matches an empty segment
        ("/users", None),
        ("/users/a/b", None),
    ],
)
def test_plain_field(path: str, expected: dict[str, Any] | None) -> None:
    assert params_for("/users/{name}", path) == expected


def test_several_fields_are_all_returned() -> None:
    assert params_for("/o/{org}/r/{repo}/i/{num:int}", "/o/py/r/lanner/i/7") == {
        "org": "py",
        "repo": "lanner",
        "num": 7,
    }


def test_four_or_more_fields_are_all_returned() -> None:
    assert params_for("/{a}/{b}/{c}/{d}", "/1/2/3/4") == {"a": "1", "b": "2", "c": "3", "d": "4"}


# -- int ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "text", "expected"),
    [
        ("/n/{v:int}", "5", 5),
        ("/n/{v:int}", "0", 0),
        ("/n/{v:int}", "-12", -12),
        ("/n/{v:int}", "007", 7),
        ("/n/{v:int}", "12345678901234567890", 12345678901234567890),
        ("/n/{v:int}", "+5", None),
        ("/n/{v:int}", " 5", None),
        ("/n/{v:int}", "5 ", None),
        ("/n/{v:int}", "5_000", None),
        ("/n/{v:int}", "1.0", None),
        ("/n/{v:int}", "-", None),
        ("/n/{v:int}", "--5", None),
        ("/n/{v:int}", "abc", None),
        ("/n/{v:int}", "\u0663", None),  # ARABIC-INDIC DIGIT THREE: int() takes it, we don't
        ("/n/{v:int}", "\u00b2", None),  # SUPERSCRIPT TWO: str.isdigit() is true
        ("/n/{v:int}", "9" * 5000, None),  # beyond int()'s digit limit: no match, no error
        ("/n/{v:int(min=1)}", "1", 1),
        ("/n/{v:int(min=1)}", "0", None),
        ("/n/{v:int(max=99)}", "99", 99),
        ("/n/{v:int(max=99)}", "100", None),
        ("/n/{v:int(min=1, max=99)}", "50", 50),
        ("/n/{v:int(min=1, max=99)}", "-50", None),
        ("/n/{v:int(min=-10)}", "-10", -10),
        ("/n/{v:int(min=-10)}", "-11", None),
        ("/n/{v:int(num_digits=4)}", "2024", 2024),
        ("/n/{v:int(num_digits=4)}", "0042", 42),
        ("/n/{v:int(num_digits=4)}", "-0042", -42),
        ("/n/{v:int(num_digits=4)}", "999", None),
        ("/n/{v:int(num_digits=4)}", "02024", None),
        ("/n/{v:int(num_digits=2, min=10)}", "09", None),
        ("/n/{v:int(num_digits=2, min=10)}", "10", 10),
    ],
)
def test_int_converter(template: str, text: str, expected: int | None) -> None:
    params = params_for(template, f"/n/{text}")
    assert params == (None if expected is None else {"v": expected})
    if params is not None:
        assert type(params["v"]) is int


# -- float --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "text", "expected"),
    [
        ("/f/{v:float}", "1.5", 1.5),
        ("/f/{v:float}", "2", 2.0),
        ("/f/{v:float}", "-0.25", -0.25),
        ("/f/{v:float}", ".5", 0.5),
        ("/f/{v:float}", "2.", 2.0),
        ("/f/{v:float}", "1e3", 1000.0),
        ("/f/{v:float}", "1E-3", 0.001),
        ("/f/{v:float}", "nan", None),
        ("/f/{v:float}", "inf", None),
        ("/f/{v:float}", "-Infinity", None),
        ("/f/{v:float}", "1e999", None),  # overflows to inf
        ("/f/{v:float}", "+1", None),
        ("/f/{v:float}", "1_0", None),
        ("/f/{v:float}", " 1", None),
        ("/f/{v:float}", ".", None),
        ("/f/{v:float}", "e5", None),
        ("/f/{v:float}", "1.2.3", None),
        ("/f/{v:float(min=0)}", "0", 0.0),
        ("/f/{v:float(min=0)}", "-0.001", None),
        ("/f/{v:float(max=1.5)}", "1.5", 1.5),
        ("/f/{v:float(max=1.5)}", "1.50001", None),
        ("/f/{v:float(min=-1, max=1)}", "0.5", 0.5),
        ("/f/{v:float(min=-1, max=1)}", "-2", None),
    ],
)
def test_float_converter(template: str, text: str, expected: float | None) -> None:
    params = params_for(template, f"/f/{text}")
    assert params == (None if expected is None else {"v": expected})
    if params is not None:
        assert type(params["v"]) is float


# -- uuid ---------------------------------------------------------------------

_UUID = uuid.UUID("12345678-9abc-def0-1234-56789abcdef0")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12345678-9abc-def0-1234-56789abcdef0", _UUID),
        ("12345678-9ABC-DEF0-1234-56789ABCDEF0", _UUID),
        ("123456789abcdef0123456789abcdef0", _UUID),
        ("{12345678-9abc-def0-1234-56789abcdef0}", None),
        ("urn:uuid:12345678-9abc-def0-1234-56789abcdef0", None),
        ("12345678-9abc-def0-1234-56789abcdef", None),
        ("12345678-9abc-def0-1234-56789abcdef00", None),
        ("1234567-89abc-def0-1234-56789abcdef0", None),  # hyphens in the wrong places
        ("12345678-9abc-def0-1234-56789abcdefg", None),
        ("not-a-uuid", None),
    ],
)
def test_uuid_converter(text: str, expected: uuid.UUID | None) -> None:
    params = params_for("/u/{v:uuid}", f"/u/{text}")
    assert params == (None if expected is None else {"v": expected})
    if params is not None:
        assert isinstance(params["v"], uuid.UUID)


# -- path ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/static/a.css", "a.css"),
        ("/static/css/site/a.css", "css/site/a.css"),
        ("/static/dir/", "dir/"),
        ("/static/a//b", "a//b"),
        ("/static/", None),  # never empty
        ("/static", None),
        ("/static//etc/passwd", None),  # never starts with '/'
        ("/other/a", None),
    ],
)
def test_path_converter_takes_the_rest_of_the_path(path: str, expected: str | None) -> None:
    assert params_for("/static/{file:path}", path) == (
        None if expected is None else {"file": expected}
    )


def test_path_converter_after_other_fields() -> None:
    assert params_for("/repos/{owner}/{name}/blob/{file:path}", "/repos/o/n/blob/src/x.py") == {
        "owner": "o",
        "name": "n",
        "file": "src/x.py",
    }


def test_path_converter_at_the_root() -> None:
    router = make_router("/", "/{rest:path}")
    assert router.find("/") == ("/", {}, "/")
    assert router.find("/a/b") == ("/{rest:path}", {"rest": "a/b"}, "/{rest:path}")


def test_path_field_is_the_last_resort_at_its_position() -> None:
    router = make_router("/s/{p:path}", "/s/{name}", "/s/{id:int}/meta", "/s/index.html")
    assert router.find("/s/index.html") == ("/s/index.html", {}, "/s/index.html")
    assert router.find("/s/one") == ("/s/{name}", {"name": "one"}, "/s/{name}")
    assert router.find("/s/3/meta") == ("/s/{id:int}/meta", {"id": 3}, "/s/{id:int}/meta")
    assert router.find("/s/3/other") == ("/s/{p:path}", {"p": "3/other"}, "/s/{p:path}")


# -- segments mixing literal text and fields -----------------------------------


@pytest.mark.parametrize(
    ("template", "path", "expected"),
    [
        ("/files/{name}.{ext}", "/files/report.pdf", {"name": "report", "ext": "pdf"}),
        # The earlier field takes as much as it can.
        ("/files/{name}.{ext}", "/files/a.tar.gz", {"name": "a.tar", "ext": "gz"}),
        ("/files/{name}.{ext}", "/files/noext", None),
        ("/files/{name}.{ext}", "/files/.x", None),
        ("/files/{name}.{ext}", "/files/x.", None),
        ("/v{major:int}.{minor:int}/x", "/v1.2/x", {"major": 1, "minor": 2}),
        ("/v{major:int}.{minor:int}/x", "/v10.20/x", {"major": 10, "minor": 20}),
        ("/v{major:int}.{minor:int}/x", "/v1.a/x", None),
        ("/v{major:int}.{minor:int}/x", "/v1.2.3/x", None),
        # The int pattern guides the split: 'a' cannot be 1.2, so it is 1.
        ("/p/{a:int}.{b}", "/p/1.2.x", {"a": 1, "b": "2.x"}),
        ("/p/{a:int(max=5)}-{b}", "/p/9-x", None),
        (
            "/d/{day:int}-{month:int}-{year:int(num_digits=4)}",
            "/d/1-2-2024",
            {
                "day": 1,
                "month": 2,
                "year": 2024,
            },
        ),
        ("/f/x{v:float}y", "/f/x1.5y", {"v": 1.5}),
        ("/u/id-{v:uuid}", f"/u/id-{_UUID}", {"v": _UUID}),
        ("/a/{x}.json", "/a/b.json", {"x": "b"}),
        ("/a/{x}.json", "/a/.json", None),
        ("/a/pre-{x}", "/a/pre-", None),
    ],
)
def test_mixed_segments(template: str, path: str, expected: dict[str, Any] | None) -> None:
    assert params_for(template, path) == expected


@pytest.mark.parametrize(
    ("template", "path", "expected"),
    [
        # A literal that occurs several times: the earlier field ends at its last
        # occurrence that leaves the rest a valid split.
        (
            "/a/{year}-{month}-{day}.json",
            "/a/2024-05-06-x.json",
            {"year": "2024-05", "month": "06", "day": "x"},
        ),
        ("/a/{year}-{month}-{day}.json", "/a/--.json", None),
        (
            "/a/{year}-{month}-{day}.json",
            "/a/------.json",
            {"year": "--", "month": "-", "day": "-"},
        ),
        ("/b/{name}.{ext}.bak", "/b/a.b.c.bak", {"name": "a.b", "ext": "c"}),
        # Overlapping literal text.
        ("/c/ab{x}abab{y}aba", "/c/ababababababa", {"x": "ab", "y": "ab"}),
        ("/c/ab{x}abab{y}aba", "/c/abababab", None),
        # A typed field's syntax rules out the rightmost split, so an earlier one wins.
        ("/z/{x:float}.json", "/z/2.json", {"x": 2.0}),
        ("/z/{x:float}.json", "/z/2..json", {"x": 2.0}),
        ("/z/{a:float}.{b:float}", "/z/1.5.2.5", {"a": 1.5, "b": 2.5}),
        ("/z/{a:float}e{b:int}", "/z/1e5e7", {"a": 1e5, "b": 7}),
        ("/z/{a:float}e{b:int}", "/z/1e5e", None),
        ("/z/{a:float}x", "/z/" + "1" * 50 + "yx", None),
        # The longest float, 11e1, is followed by x, not 1; 11e is no float; 1 is.
        ("/z/{a:float}1{b}", "/z/11e1x", {"a": 1.0, "b": "e1x"}),
        ("/p/{a:int(max=5)}.{b}", "/p/1.2.x", {"a": 1, "b": "2.x"}),
        # The syntax split stands even when its converter then refuses it.
        ("/p/{a:int(max=5)}.{b}", "/p/9.2.x", None),
        ("/p/{a:int}-{b:int}", "/p/-1--2", {"a": -1, "b": -2}),
        ("/p/x{a:int}1{b}", "/p/x12311z", {"a": 1231, "b": "z"}),
        ("/u/{a:uuid}-{b:uuid}", f"/u/{_UUID}-{_UUID.hex}", {"a": _UUID, "b": _UUID}),
        ("/u/{a:uuid}-{b}", f"/u/{_UUID}-{_UUID}", {"a": _UUID, "b": str(_UUID)}),
        ("/u/{a:uuid}-{b}", f"/u/{_UUID.hex}-x-y", {"a": _UUID, "b": "x-y"}),
    ],
)
def test_mixed_segment_split_rule(
    template: str, path: str, expected: dict[str, Any] | None
) -> None:
    assert params_for(template, path) == expected


def test_int_refuses_more_than_4300_digits_whatever_the_interpreter_allows() -> None:
    router = make_router("/i/{n:int}", "/j/{n:int}.x")
    assert router.find("/i/" + "9" * 4300) is not None
    previous = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)  # no limit in the interpreter
    try:
        assert router.find("/i/" + "9" * 4301) is None
        assert router.find("/j/" + "9" * 4301 + ".x") is None
        assert router.find("/i/-" + "1" * 4300) == (
            "/i/{n:int}",
            {"n": -int("1" * 4300)},
            "/i/{n:int}",
        )
        sys.set_int_max_str_digits(640)  # the app chose a lower limit: it applies too
        assert router.find("/i/" + "9" * 641) is None
    finally:
        sys.set_int_max_str_digits(previous)


def test_float_refuses_long_non_numbers_quickly() -> None:
    # The float syntax once backtracked quadratically: 16,000 digits and an 'x' took 9 s.
    router = make_router("/f/{x:float}")
    assert router.find("/f/" + "1" * 60_000 + "x") is None
    assert router.find("/f/" + "1" * 300) == (
        "/f/{x:float}",
        {"x": float("1" * 300)},
        "/f/{x:float}",
    )


def test_mixed_segment_beats_plain_field_and_falls_back_to_it() -> None:
    router = make_router("/a/{whole}", "/a/{x:int}.json")
    assert router.find("/a/5.json") == ("/a/{x:int}.json", {"x": 5}, "/a/{x:int}.json")
    assert router.find("/a/z.json") == ("/a/{whole}", {"whole": "z.json"}, "/a/{whole}")


# -- precedence and backtracking ----------------------------------------------


def test_literal_beats_field_at_the_same_position() -> None:
    router = make_router("/items/{id}", "/items/new")
    assert router.find("/items/new") == ("/items/new", {}, "/items/new")
    assert router.find("/items/old") == ("/items/{id}", {"id": "old"}, "/items/{id}")


def test_backtracks_from_a_literal_branch_to_a_field() -> None:
    router = make_router("/a/{x}/c", "/a/b/d")
    assert router.find("/a/b/c") == ("/a/{x}/c", {"x": "b"}, "/a/{x}/c")
    assert router.find("/a/b/d") == ("/a/b/d", {}, "/a/b/d")
    assert router.find("/a/z/d") is None


def test_backtracking_through_dynamic_literal_branch() -> None:
    router = make_router("/a/{x}/c/{y}", "/a/b/d/{z}")
    assert router.find("/a/b/c/1") == ("/a/{x}/c/{y}", {"x": "b", "y": "1"}, "/a/{x}/c/{y}")
    assert router.find("/a/b/d/1") == ("/a/b/d/{z}", {"z": "1"}, "/a/b/d/{z}")


def test_failed_branch_leaves_no_values_behind() -> None:
    router = make_router("/r/{a:int}/{b}/end", "/r/{c}/{d}/other")
    assert router.find("/r/5/x/end") == (
        "/r/{a:int}/{b}/end",
        {"a": 5, "b": "x"},
        "/r/{a:int}/{b}/end",
    )
    assert router.find("/r/5/x/other") == (
        "/r/{c}/{d}/other",
        {"c": "5", "d": "x"},
        "/r/{c}/{d}/other",
    )


def test_failed_literal_branch_leaves_no_values_behind() -> None:
    router = make_router("/a/b/{x}/c", "/a/{y}/{z}/d")
    assert router.find("/a/b/1/d") == ("/a/{y}/{z}/d", {"y": "b", "z": "1"}, "/a/{y}/{z}/d")


def test_failed_mixed_branch_leaves_no_values_behind() -> None:
    router = make_router("/m/{a}.{b}/end", "/m/{whole}/other")
    assert router.find("/m/x.y/other") == ("/m/{whole}/other", {"whole": "x.y"}, "/m/{whole}/other")


@pytest.mark.parametrize("typed_first", [True, False])
def test_typed_field_beats_plain_field_whatever_the_order_added(typed_first: bool) -> None:
    templates = ["/users/{id:int}", "/users/{username}"]
    router = make_router(*(templates if typed_first else templates[::-1]))
    assert router.find("/users/42") == ("/users/{id:int}", {"id": 42}, "/users/{id:int}")
    assert router.find("/users/bob") == (
        "/users/{username}",
        {"username": "bob"},
        "/users/{username}",
    )


def test_converter_refusal_falls_through_to_the_next_candidate() -> None:
    router = make_router("/n/{small:int(max=9)}/x", "/n/{other}/x")
    assert router.find("/n/5/x") == (
        "/n/{small:int(max=9)}/x",
        {"small": 5},
        "/n/{small:int(max=9)}/x",
    )
    assert router.find("/n/50/x") == ("/n/{other}/x", {"other": "50"}, "/n/{other}/x")


def test_among_typed_fields_the_first_added_wins() -> None:
    router = make_router("/t/{i:int}", "/t/{f:float}")
    assert router.find("/t/5") == ("/t/{i:int}", {"i": 5}, "/t/{i:int}")
    assert router.find("/t/5.5") == ("/t/{f:float}", {"f": 5.5}, "/t/{f:float}")


@pytest.mark.parametrize(
    "path",
    [
        "/items/abc",
        "/items/-",
        "/items/" + "1" * 10000,
        "/items/1/",
        "/items//1",
        "//",
        "/\x00",
        "x/items/1",
        "items/1",
    ],
)
def test_unconvertible_or_odd_paths_give_none_not_an_error(path: str) -> None:
    assert make_router("/items/{id:int}", "/").find(path) is None


def test_many_routes() -> None:
    router: CompiledRouter[int] = CompiledRouter()
    templates: list[str] = []
    for i in range(100):
        templates += [
            f"/r{i}",
            f"/r{i}/{{id:int}}",
            f"/r{i}/{{id:int}}/sub/{{name}}",
            f"/r{i}/search",
            f"/r{i}/{{slug}}/files/{{file:path}}",
        ]
    for number, template in enumerate(templates):
        router.add(template, number)
    assert len(router.templates) == 500
    for i in range(100):
        base = 5 * i
        assert router.find(f"/r{i}") == (base, {}, f"/r{i}")
        assert router.find(f"/r{i}/7") == (base + 1, {"id": 7}, templates[base + 1])
        assert router.find(f"/r{i}/7/sub/x") == (
            base + 2,
            {"id": 7, "name": "x"},
            templates[base + 2],
        )
        assert router.find(f"/r{i}/search") == (base + 3, {}, templates[base + 3])
        assert router.find(f"/r{i}/s/files/a/b") == (
            base + 4,
            {"slug": "s", "file": "a/b"},
            templates[base + 4],
        )
    assert router.find("/r100") is None
    assert router.find("/r5/7/sub") is None


# -- malformed templates -------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("items", "must start with '/'"),
        ("", "must start with '/'"),
        ("/a//b", "empty segment"),
        ("//", "empty segment"),
        ("/a?b=1", "'?' or '#'"),
        ("/a#top", "'?' or '#'"),
        ("/{x", "unbalanced"),
        ("/x}", "unbalanced"),
        ("/{a{b}}", "unbalanced"),
        ("/{a/b}", "unbalanced"),
        ("/{}", "not a valid Python identifier"),
        ("/{1x}", "not a valid Python identifier"),
        ("/{x-y}", "not a valid Python identifier"),
        ("/{ x }", "not a valid Python identifier"),
        ("/{class}", "not a valid Python identifier"),
        ("/{x}/{x}", "appears more than once"),
        ("/{x}.{x}", "appears more than once"),
        ("/{a}{b}", "touch"),
        ("/{x:}", "no converter name"),
        ("/{x:int(min=1}", "no closing ')'"),
        ("/{p:path}/more", "must be the last segment"),
        ("/v{p:path}", "must be a whole segment"),
        ("/{p:path}.txt", "must be a whole segment"),
        ("/{p:path()}", "path takes no arguments"),
    ],
)
def test_malformed_template_is_rejected(template: str, problem: str) -> None:
    router = make_router("/existing")
    with pytest.raises(ValueError, match="Invalid URI template") as info:
        router.add(template, template)
    assert not isinstance(info.value, RouteConflictError)
    assert repr(template) in str(info.value)
    assert problem in str(info.value)
    assert router.templates == ["/existing"]


@pytest.mark.parametrize(
    ("template", "field", "problem"),
    [
        ("/{x:nope}", "{x:nope}", "no converter named 'nope'; the converters are float, int, path"),
        ("/{x:Int}", "{x:Int}", "no converter named 'Int'"),
        ("/{x:int(foo=1)}", "{x:int(foo=1)}", "int takes only the arguments num_digits, min, max"),
        ("/{x:float(num_digits=2)}", "{x:float(num_digits=2)}", "float takes only the arguments"),
        ("/{x:uuid(version=4)}", "{x:uuid(version=4)}", "uuid takes no arguments"),
        ("/{x:int(1)}", "{x:int(1)}", "positional"),
        ("/{x:int(min=1, min=2)}", "{x:int(min=1, min=2)}", "repeat min="),
        ("/{x:int(**kw)}", "{x:int(**kw)}", "'**'"),
        ("/{x:int(min=a)}", "{x:int(min=a)}", "not a literal value"),
        ("/{x:int(min=1 2)}", "{x:int(min=1 2)}", "could not be parsed"),
        ("/{x:int(min=1.5)}", "{x:int(min=1.5)}", "min=1.5 of int must be int, found float"),
        ("/{x:int(min=True)}", "{x:int(min=True)}", "must be int, found bool"),
        ("/{x:int(max='9')}", "{x:int(max='9')}", "must be int, found str"),
        ("/{x:int(num_digits=0)}", "{x:int(num_digits=0)}", "num_digits=0; it must be 1 or more"),
        ("/{x:int(min=5, max=1)}", "{x:int(min=5, max=1)}", "min=5 greater than max=1"),
        ("/{x:float(min=1e999)}", "{x:float(min=1e999)}", "bounds must be finite"),
        ("/{x:float(min=2.5, max=1)}", "{x:float(min=2.5, max=1)}", "greater than max"),
        ("/{x:float(max='1')}", "{x:float(max='1')}", "must be int or float"),
    ],
)
def test_bad_converter_is_rejected_naming_template_and_converter(
    template: str, field: str, problem: str
) -> None:
    with pytest.raises(ValueError, match="Invalid URI template") as info:
        make_router(template)
    message = str(info.value)
    assert repr(template) in message
    assert field in message
    assert problem in message


def test_template_must_be_a_string() -> None:
    router: CompiledRouter[str] = CompiledRouter()
    with pytest.raises(TypeError, match="must be a str"):
        router.add(b"/items", "x")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "template",
    [
        "/items/{id:int(min=1, max=99)}",
        "/items/{id:int( min = 1 )}",
        "/items/{id:int(num_digits=4)}",
        "/items/{id:int(min=-5)}",
        "/items/{x:float(min=0.5, max=10)}",
        "/items/{_private}",
        "/items/{élan}",
        "/items/{x}/",
    ],
)
def test_well_formed_templates_are_accepted(template: str) -> None:
    assert make_router(template).templates == [template]


# -- conflicts ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("/items", "/items"),
        ("/", "/"),
        ("/a/{id}", "/a/{name}"),
        ("/a/{id}", "/a/{id}"),
        ("/a/{id:int}", "/a/{n:int(min=1)}"),
        ("/a/{x:float(max=1)}", "/a/{y:float(min=2)}"),
        ("/a/{id:uuid}/b", "/a/{other:uuid}/b"),
        ("/s/{p:path}", "/s/{q:path}"),
        ("/f/{a}.{b}", "/f/{c}.{d}"),
        ("/f/{a:int}.{b}", "/f/{c:int(max=3)}.{d}"),
        ("/{x}/{y}/", "/{a}/{b}/"),
    ],
)
def test_conflicting_templates_are_rejected_naming_both(first: str, second: str) -> None:
    router = make_router(first)
    with pytest.raises(RouteConflictError) as info:
        router.add(second, second)
    assert (info.value.template, info.value.existing) == (second, first)
    assert repr(first) in str(info.value)
    assert repr(second) in str(info.value)
    assert isinstance(info.value, ValueError)  # callers may catch ValueError for both kinds
    assert router.templates == [first]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("/a/{id:int}", "/a/{name}"),
        ("/a/{id:int}", "/a/{f:float}"),
        ("/a/{x}/c", "/a/{y}/d"),
        ("/a/{x}", "/a/{x}/"),
        ("/a/{x}", "/a/b"),
        ("/a/{p:path}", "/a/{x}"),
        ("/f/{a}.{b}", "/f/{a}-{b}"),
        ("/f/{a}.{b}", "/f/{a:int}.{b}"),
        ("/f/{name}.json", "/f/{name}"),
    ],
)
def test_templates_of_different_shapes_coexist(first: str, second: str) -> None:
    assert make_router(first, second).templates == [first, second]
