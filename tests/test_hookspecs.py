"""Tests for lanner.plugins.hookspecs: the hook contract plugin authors code against."""

from __future__ import annotations

import inspect
import operator

import pluggy
import pytest

import lanner
from lanner.app import App
from lanner.plugins import PluginAssembly, hookspecs
from lanner.plugins._hooks import HOOK_NAMES, HOOKS, MappingHook, SequenceHook

SPECS = {
    name: getattr(hookspecs, name)
    for name in dir(hookspecs)
    if getattr(getattr(hookspecs, name), "lanner_spec", None) is not None
}


def test_the_hook_table_has_one_record_per_spec_with_configure_first() -> None:
    assert sorted(HOOK_NAMES) == sorted(SPECS)
    assert len(HOOK_NAMES) == len(set(HOOK_NAMES))
    assert HOOK_NAMES[0] == "lanner_configure"
    assert all(name.startswith("lanner_") for name in HOOK_NAMES)


def test_every_target_in_the_table_exists_on_an_app_and_its_assembly() -> None:
    app = App()
    for hook in HOOKS:
        if isinstance(hook, MappingHook):
            for path in hook.paths:
                owner, _, attr = path.rpartition(".")
                holder = getattr(app, owner) if owner else app
                assert isinstance(getattr(holder, attr).owners, dict), path
        elif isinstance(hook, SequenceHook):
            assert isinstance(getattr(PluginAssembly(), hook.target), list), hook.target


def test_every_mapping_the_table_fills_refuses_writes_once_the_app_has_started() -> None:
    app = App()
    app.freeze()
    paths = [path for hook in HOOKS if isinstance(hook, MappingHook) for path in hook.paths]
    # req and resp media, WebSocket media, error handlers, broadcast backends
    assert len(paths) == 5
    for path in paths:
        mapping = operator.attrgetter(path)(app)
        with pytest.raises(RuntimeError, match="after the app has started"):
            mapping.clear()


@pytest.mark.parametrize("name", HOOK_NAMES)
def test_each_spec_takes_app_is_typed_and_documented(name: str) -> None:
    spec = SPECS[name]
    signature = inspect.signature(spec)
    assert list(signature.parameters) == ["app"]
    assert signature.parameters["app"].annotation == "App"
    assert signature.return_annotation != inspect.Signature.empty
    assert inspect.getdoc(spec)


def test_no_hook_is_historic_so_every_hook_is_called_the_same_way() -> None:
    historic = {name for name, spec in SPECS.items() if spec.lanner_spec.get("historic")}
    assert historic == set()


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
