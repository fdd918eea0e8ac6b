"""Tests for lanner.plugins.hookspecs: the hook contract plugin authors code against."""

from __future__ import annotations

import inspect

import pluggy
import pytest

import lanner
from lanner.plugins import hookspecs

SPECS = {
    name: getattr(hookspecs, name)
    for name in dir(hookspecs)
    if getattr(getattr(hookspecs, name), "lanner_spec", None) is not None
}


def test_hook_names_lists_every_spec_in_call_order_with_configure_first() -> None:
    assert set(hookspecs.HOOK_NAMES) == set(SPECS)
    assert hookspecs.HOOK_NAMES[0] == "lanner_configure"
    assert all(name.startswith("lanner_") for name in hookspecs.HOOK_NAMES)


@pytest.mark.parametrize("name", hookspecs.HOOK_NAMES)
def test_each_spec_takes_app_is_typed_and_documented(name: str) -> None:
    spec = SPECS[name]
    signature = inspect.signature(spec)
    assert list(signature.parameters) == ["app"]
    assert signature.parameters["app"].annotation == "App"
    assert signature.return_annotation != inspect.Signature.empty
    doc = inspect.getdoc(spec) or ""
    assert "once" in doc  # when it runs
    assert "Args:" in doc


def test_only_configure_is_historic() -> None:
    historic = {name for name, spec in SPECS.items() if spec.lanner_spec.get("historic")}
    assert historic == {"lanner_configure"}


def test_the_public_marker_is_the_one_the_plugin_manager_reads() -> None:
    assert lanner.hookimpl is hookspecs.hookimpl
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)

    class Plugin:
        @lanner.hookimpl
        def lanner_sinks(self, app: object) -> None:
            return None

    pm.register(Plugin())
    assert len(pm.hook.lanner_sinks.get_hookimpls()) == 1
