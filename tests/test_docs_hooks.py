"""docs/plugin_hooks.md documents every hook under its exact signature, and nothing else.

The signature is rendered from ``lanner.plugins.hookspecs`` with ``inspect.signature``
(annotations exactly as written in the source), so renaming a hook, adding a
parameter or changing a return type without updating the page fails here.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lanner.plugins import hookspecs
from lanner.plugins._hooks import HOOK_NAMES

PAGE = Path(__file__).resolve().parent.parent / "docs" / "plugin_hooks.md"

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
_FENCE = re.compile(r"^```.*?^```[ \t]*$", re.DOTALL | re.MULTILINE)
_HOOKISH = re.compile(r"\blanner_[a-z0-9_]+")


class _Source(str):
    """An annotation kept as its source text, so a signature prints it unquoted."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def _as_source(annotation: Any) -> Any:
    if annotation is inspect.Parameter.empty:
        return annotation
    if isinstance(annotation, str):
        return _Source(annotation)
    return _Source(inspect.formatannotation(annotation))


def render_signature(func: Callable[..., Any]) -> str:
    """Return ``name(params) -> return`` with annotations as written in the source."""
    signature = inspect.signature(func)
    parameters = [
        p.replace(annotation=_as_source(p.annotation)) for p in signature.parameters.values()
    ]
    shown = signature.replace(
        parameters=parameters, return_annotation=_as_source(signature.return_annotation)
    )
    return f"{func.__name__}{shown}"


def hook_specs() -> dict[str, Callable[..., Any]]:
    """Every function in ``lanner.plugins.hookspecs`` marked as a hook specification."""
    marker = f"{hookspecs.PROJECT_NAME}_spec"
    return {
        name: obj
        for name, obj in vars(hookspecs).items()
        if inspect.isfunction(obj) and getattr(obj, marker, None) is not None
    }


def headings(markdown: str) -> list[str]:
    """The text of every Markdown heading outside fenced code blocks."""
    return [m.group(2) for m in _HEADING.finditer(_FENCE.sub("", markdown))]


def _documented() -> dict[str, str]:
    """Hook name -> the signature in its heading (the heading is one code span)."""
    found: dict[str, str] = {}
    for text in headings(PAGE.read_text(encoding="utf-8")):
        match = re.fullmatch(r"`(lanner_[a-z0-9_]+)(\(.*)`", text)
        if match:
            found[match.group(1)] = match.group(1) + match.group(2)
    return found


def test_render_signature_shows_annotations_as_written() -> None:
    def lanner_example(app: Any, *, flag: bool = False) -> None:
        """An example."""

    assert render_signature(hookspecs.lanner_middleware) == (
        "lanner_middleware(app: App) -> Sequence[object] | None"
    )
    assert render_signature(lanner_example).startswith("lanner_example(app: ")


def test_headings_skip_code_blocks() -> None:
    text = "# Title\n```python\n# not a heading\n```\n## `lanner_x(app: App) -> None`\n"
    assert headings(text) == ["Title", "`lanner_x(app: App) -> None`"]


def test_hookspecs_module_has_a_spec_for_every_hook_in_the_table() -> None:
    assert sorted(hook_specs()) == sorted(HOOK_NAMES)


@pytest.mark.parametrize("name", HOOK_NAMES)
def test_each_hook_has_a_heading_with_its_exact_signature(name: str) -> None:
    documented = _documented()
    expected = render_signature(hook_specs()[name])
    assert name in documented, (
        f"docs/plugin_hooks.md has no heading for {name}; add a section headed "
        f"`{expected}` (in backticks)."
    )
    assert documented[name] == expected, (
        f"docs/plugin_hooks.md heads {name} with `{documented[name]}`, but the hook spec is "
        f"`{expected}`; update the heading (and the section) to match."
    )


def test_no_heading_names_a_hook_that_does_not_exist() -> None:
    specs = hook_specs()
    unknown = sorted(
        {
            word
            for text in headings(PAGE.read_text(encoding="utf-8"))
            for word in _HOOKISH.findall(text)
            if word not in specs
        }
    )
    assert not unknown, f"docs/plugin_hooks.md has headings naming unknown hooks: {unknown}"


def test_hooks_are_documented_in_call_order() -> None:
    assert list(_documented()) == list(HOOK_NAMES)
