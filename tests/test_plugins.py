"""Tests for lanner.plugins: discovery, order, turning plugins off, load failures.

Installed plugins are faked without installing anything, through the ``fake``
fixture (``plugins_support.FakeDists``).
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plugins_support import MIDDLEWARE_PLUGIN, FakeDists

from lanner import PluginLoadError, WebSocketPayloadType, hookimpl
from lanner.app import App
from lanner.media import JSONHandler, JSONHandlerWS
from lanner.plugins import UnknownPluginWarning, _entry_points
from lanner.testing.plugin_app import plugin_app

TEXT = WebSocketPayloadType.TEXT
BINARY = WebSocketPayloadType.BINARY


BOMB = "raise RuntimeError('this plugin must never be imported')\n"


class InProcess:
    """An in-process plugin contributing one tagged middleware."""

    def __init__(self, name: str) -> None:
        self.name = name

    @hookimpl
    def lanner_middleware(self, app: App) -> list[object]:
        return [Tag(self.name)]


class Tag:
    """Middleware that only records who made it."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def process_request(self, req: object, resp: object) -> None:
        """Do nothing; the tag is what the tests look at."""


def middleware_tags(app: App) -> list[str]:
    return [getattr(mw, "name", "?") for mw in app.plugin_assembly.middleware]


# -- discovery and order ---------------------------------------------------------


def test_defaults_fill_the_slots_as_soon_as_the_app_exists() -> None:
    app = App()
    assert isinstance(app.ws_options.media_handlers[TEXT], JSONHandlerWS)
    assert app.ws_options.media_handlers.owners == {TEXT: "lanner.json", BINARY: "lanner.msgpack"}
    assert isinstance(app.resp_options.media_handlers["application/json"], JSONHandler)
    assert app.req_options.media_handlers.owners["application/msgpack"] == "lanner.msgpack"
    assert set(app.error_handlers.owners.values()) == {"lanner.errors"}
    names = [(p.name, p.layer) for p in app.plugin_assembly.plugins]
    assert names == [
        ("lanner.json", "default"),
        ("lanner.msgpack", "default"),
        ("lanner.errors", "default"),
        ("lanner.memory", "default"),
    ]


def test_installed_plugin_is_found_with_its_distribution_and_hooks(fake: FakeDists) -> None:
    module = fake.add("tagger", MIDDLEWARE_PLUGIN, dist="lanner-tagger", version="2.5")
    app = App()
    info = app.plugin_assembly.plugins[-1]
    assert (info.name, info.distribution, info.version, info.layer) == (
        "tagger",
        "lanner-tagger",
        "2.5",
        "installed",
    )
    assert info.hooks == ("lanner_middleware",)
    assert middleware_tags(app) == [module]


def test_plugins_are_called_defaults_then_installed_by_name_then_in_process_in_order(
    fake: FakeDists,
) -> None:
    zeta = fake.add("zeta", MIDDLEWARE_PLUGIN)
    alpha = fake.add("alpha", MIDDLEWARE_PLUGIN)
    app = App(plugins=[InProcess("first-given"), InProcess("second-given")])
    assert middleware_tags(app) == [alpha, zeta, "first-given", "second-given"]
    layers = [p.layer for p in app.plugin_assembly.plugins]
    assert layers == ["default"] * 4 + ["installed"] * 2 + ["in-process"] * 2


def test_configure_runs_first_and_every_hook_in_call_order(fake: FakeDists) -> None:
    calls: list[tuple[str, str]] = []

    class Recorder:
        def __init__(self, name: str) -> None:
            self.name = name

        @hookimpl
        def lanner_configure(self, app: App) -> None:
            calls.append((self.name, "configure"))

        @hookimpl
        def lanner_lifespan(self, app: App) -> None:
            calls.append((self.name, "lifespan"))

        @hookimpl
        def lanner_sinks(self, app: App) -> None:
            calls.append((self.name, "sinks"))

    App(plugins=[Recorder("a"), Recorder("b")])
    assert calls == [
        ("a", "configure"),
        ("b", "configure"),
        ("a", "lifespan"),
        ("b", "lifespan"),
        ("a", "sinks"),
        ("b", "sinks"),
    ]


def test_each_app_has_its_own_plugin_manager() -> None:
    first = App(plugins=[InProcess("only-first")])
    second = App()
    assert middleware_tags(first) == ["only-first"]
    assert middleware_tags(second) == []


def test_in_process_plugin_name_is_name_then_dunder_name_then_class_name() -> None:
    class Nameless:
        @hookimpl
        def lanner_middleware(self) -> list[object]:
            return []

    module = types.ModuleType("module_plugin")
    module.lanner_middleware = hookimpl(lambda app: [Tag("from-module")])  # type: ignore[attr-defined]
    app = App(plugins=[InProcess("attr-name"), module, Nameless()])
    assert [p.name for p in app.plugin_assembly.plugins[4:]] == [
        "attr-name",
        "module_plugin",
        "Nameless",
    ]
    assert middleware_tags(app) == ["attr-name", "from-module"]


def test_a_hook_may_leave_out_the_app_argument() -> None:
    class NoArgs:
        @hookimpl
        def lanner_middleware(self) -> list[object]:
            return [Tag("no-args")]

    assert middleware_tags(App(plugins=[NoArgs()])) == ["no-args"]


def test_the_scan_happens_once_per_process_and_not_when_autoload_is_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    info = tmp_path / "lanner_scanned-3.1.dist-info"
    _entry_points.clear_cache()
    try:
        App()  # autoload off (conftest): had it scanned, the scan would miss the dist below
        info.mkdir()
        (info / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: lanner-scanned\nVersion: 3.1\n"
        )
        (info / "entry_points.txt").write_text("[lanner]\nscanned = no_such_module_xyz\n")

        found = {ep.name: ep for ep in _entry_points.scan()}
        assert _entry_points.distribution_of(found["scanned"]) == ("lanner-scanned", "3.1")
        (info / "entry_points.txt").write_text("[lanner]\nrenamed = no_such_module_xyz\n")
        again = {ep.name for ep in _entry_points.scan()}
        assert "scanned" in again
        assert "renamed" not in again
    finally:
        _entry_points.clear_cache()  # later tests scan the real environment again


def test_plugin_app_helper_loads_only_the_given_plugins(fake: FakeDists) -> None:
    installed = fake.add("installed", MIDDLEWARE_PLUGIN)
    app = plugin_app(InProcess("given"), config={"given": {"level": 3}})
    assert middleware_tags(app) == ["given"]
    assert not fake.imported(installed)
    assert app.plugin_config("given") == {"level": 3}
    with pytest.raises(TypeError, match="autoload_plugins"):
        plugin_app(autoload_plugins=True)


# -- turning plugins off -----------------------------------------------------------

# (description, App arguments, environment, whether the plugin "other" loads)
DISABLE_WAYS: list[tuple[str, dict[str, Any], dict[str, str], bool]] = [
    ("autoload_plugins=False", {"autoload_plugins": False}, {}, False),
    ("autoload_plugins=[other]", {"autoload_plugins": ["other"]}, {}, True),
    ("disable_plugins=[bomb]", {"disable_plugins": ["bomb"]}, {}, True),
    (
        "env autoload off beats autoload_plugins=[bomb]",
        {"autoload_plugins": ["bomb", "other"]},
        {"LANNER_DISABLE_PLUGIN_AUTOLOAD": "1"},
        False,
    ),
    ("LANNER_PLUGINS=other", {}, {"LANNER_PLUGINS": "other"}, True),
    (
        "LANNER_PLUGINS and autoload_plugins both apply",
        {"autoload_plugins": ["bomb", "other"]},
        {"LANNER_PLUGINS": "other"},
        True,
    ),
    ("LANNER_DISABLE_PLUGINS=bomb", {}, {"LANNER_DISABLE_PLUGINS": " bomb, "}, True),
]


@pytest.mark.parametrize(
    ("kwargs", "env", "loads_other"),
    [w[1:] for w in DISABLE_WAYS],
    ids=[w[0] for w in DISABLE_WAYS],
)
def test_a_disabled_plugin_is_never_imported(
    fake: FakeDists,
    monkeypatch: pytest.MonkeyPatch,
    kwargs: dict[str, Any],
    env: dict[str, str],
    loads_other: bool,
) -> None:
    bomb = fake.add("bomb", BOMB)
    other = fake.add("other", MIDDLEWARE_PLUGIN)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = App(**kwargs)
    assert not fake.imported(bomb)
    assert middleware_tags(app) == ([other] if loads_other else [])


def test_the_bomb_does_go_off_when_nothing_disables_it(fake: FakeDists) -> None:
    fake.add("bomb", BOMB)
    with pytest.raises(PluginLoadError, match="must never be imported"):
        App()


@pytest.mark.parametrize("name", ["lanner.json", "lanner.msgpack"])
def test_default_media_plugins_can_be_disabled(name: str) -> None:
    app = App(disable_plugins=[name])
    assert name not in app.ws_options.media_handlers.owners.values()
    assert name not in app.resp_options.media_handlers.owners.values()
    assert name not in [p.name for p in app.plugin_assembly.plugins]


def test_default_media_plugin_disabled_through_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LANNER_DISABLE_PLUGINS", "lanner.json")
    app = App()
    assert TEXT not in app.ws_options.media_handlers
    assert "application/json" not in app.req_options.media_handlers


def test_the_errors_plugin_cannot_be_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match=r"'lanner.errors' cannot be disabled"):
        App(disable_plugins=["lanner.errors"])
    monkeypatch.setenv("LANNER_DISABLE_PLUGINS", "lanner.errors")
    with pytest.raises(ValueError, match="add_error_handler"):
        App()


def test_an_in_process_plugin_can_be_disabled_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    assert middleware_tags(App(plugins=[InProcess("x")], disable_plugins=["x"])) == []
    monkeypatch.setenv("LANNER_DISABLE_PLUGINS", "x")
    assert middleware_tags(App(plugins=[InProcess("x"), InProcess("y")])) == ["y"]


@pytest.mark.parametrize(
    "kwargs",
    [{"autoload_plugins": "bomb"}, {"disable_plugins": "bomb"}],
    ids=["autoload", "disable"],
)
def test_a_bare_string_instead_of_a_list_of_names_is_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(TypeError, match=r'write \["name"\]'):
        App(**kwargs)


def test_a_single_plugin_instead_of_a_list_is_refused() -> None:
    with pytest.raises(TypeError, match=r"plugins=\[my_plugin\]"):
        App(plugins=sys.modules[__name__])  # type: ignore[arg-type]


# -- load failures and validation ----------------------------------------------------


def test_an_import_failure_names_plugin_distribution_version_cause_and_remedy(
    fake: FakeDists,
) -> None:
    fake.add("broken", "import no_such_dependency_qq\n", dist="lanner-broken", version="0.9")
    with pytest.raises(PluginLoadError) as caught:
        App()
    message = str(caught.value)
    assert "'broken'" in message
    assert "lanner-broken 0.9" in message
    assert "ModuleNotFoundError(\"No module named 'no_such_dependency_qq'\")" in message
    assert 'disable_plugins=["broken"]' in message
    assert "LANNER_DISABLE_PLUGINS=broken" in message
    assert "lanner serve --disable-plugin broken" in message
    assert isinstance(caught.value.__cause__, ModuleNotFoundError)


def test_a_misspelled_hook_names_the_plugin_and_the_closest_hook(fake: FakeDists) -> None:
    fake.add(
        "typo",
        """
        @hookimpl
        def lanner_midleware(app):
            return []
        """,
        dist="lanner-typo",
    )
    with pytest.raises(PluginLoadError) as caught:
        App()
    message = str(caught.value)
    assert "'typo' (distribution lanner-typo 1.0)" in message
    assert "lanner_midleware, which is not a lanner hook" in message
    assert "Did you mean lanner_middleware?" in message


def test_an_unmarked_misspelled_hook_is_an_error_too() -> None:
    class Unmarked:
        name = "unmarked"

        def lanner_error_handler(self, app: App) -> None:
            """Misspelled and not marked."""

    with pytest.raises(PluginLoadError, match="Did you mean lanner_error_handlers"):
        App(plugins=[Unmarked()])


def test_a_hook_without_the_marker_is_an_error_rather_than_silently_ignored() -> None:
    class Unmarked:
        name = "forgetful"

        def lanner_sinks(self, app: App) -> None:
            """A real hook name, but never marked."""

    with pytest.raises(PluginLoadError, match=r"'forgetful'.*without the @lanner.hookimpl"):
        App(plugins=[Unmarked()])


def test_a_non_callable_lanner_attribute_is_not_mistaken_for_a_hook() -> None:
    class WithData:
        name = "data"
        lanner_version = "1"

    loaded = App(plugins=[WithData()]).plugin_assembly.plugins[-1]
    assert (loaded.name, loaded.hooks, loaded.error) == ("data", (), None)


def test_a_specname_that_is_not_a_hook_is_an_error() -> None:
    class Specname:
        name = "spec"

        @hookimpl(specname="lanner_sink")
        def sinks(self, app: App) -> None:
            """Aliased to a misspelled hook."""

    with pytest.raises(PluginLoadError, match="Did you mean lanner_sinks"):
        App(plugins=[Specname()])


@pytest.mark.parametrize("option", ["tryfirst", "trylast", "hookwrapper", "wrapper"])
def test_ordering_and_wrapper_options_are_refused(option: str) -> None:
    class Ordered:
        name = "ordered"

        @hookimpl(**{option: True})
        def lanner_middleware(self, app: App) -> Iterator[None]:
            yield

    with pytest.raises(PluginLoadError, match=f"'ordered'.*{option}=True"):
        App(plugins=[Ordered()])


def test_a_hook_with_an_argument_the_spec_lacks_is_an_error_naming_the_plugin() -> None:
    class ExtraArg:
        name = "extra"

        @hookimpl
        def lanner_middleware(self, app: App, request: object) -> None:
            """Asks for an argument that no hook provides."""

    with pytest.raises(PluginLoadError, match=r"'extra'.*could not be registered.*request"):
        App(plugins=[ExtraArg()])


def test_the_lanner_prefix_is_reserved_for_installed_and_in_process_plugins(
    fake: FakeDists,
) -> None:
    with pytest.raises(PluginLoadError, match=r"'lanner.mine'.*reserved prefix"):
        App(plugins=[InProcess("lanner.mine")])
    fake.add("lanner.sneaky", MIDDLEWARE_PLUGIN)
    with pytest.raises(PluginLoadError, match=r"'lanner.sneaky' \(distribution.*reserved prefix"):
        App()


def test_two_plugins_with_one_name_are_an_error_naming_both(fake: FakeDists) -> None:
    fake.add("twin", MIDDLEWARE_PLUGIN, dist="lanner-twin")
    with pytest.raises(PluginLoadError) as caught:
        App(plugins=[InProcess("twin")])
    message = str(caught.value)
    assert "distribution lanner-twin" in message
    assert "'twin' (in-process plugin)" in message


def test_an_error_raised_by_a_hook_reaches_the_caller_with_a_note_naming_the_plugin() -> None:
    class Strict:
        name = "strict"

        @hookimpl
        def lanner_configure(self, app: App) -> None:
            raise ValueError("strict: unknown key 'colour'")

    class Failing:
        name = "failing"

        @hookimpl
        def lanner_sinks(self, app: App) -> None:
            raise KeyError("boom")

    with pytest.raises(ValueError, match="unknown key") as caught:
        App(plugins=[Strict()])
    if sys.version_info >= (3, 11):
        assert (
            "Raised by plugin 'strict' (in-process plugin) in lanner_configure"
            in (caught.value.__notes__[0])
        )
    with pytest.raises(KeyError) as caught_key:
        App(plugins=[Failing()])
    if sys.version_info >= (3, 11):
        assert "'failing' (in-process plugin) in lanner_sinks" in caught_key.value.__notes__[0]


@pytest.mark.parametrize(
    ("hook", "result", "expected"),
    [
        ("lanner_middleware", Tag("single"), "a list of middleware objects"),
        ("lanner_lifespan", object(), "an async context manager"),
        ("lanner_http_media_handlers", [("application/x", None)], "a mapping"),
        ("lanner_sinks", [("/a",)], "a (prefix, sink) pair"),
        ("lanner_sinks", [("/a[", Tag("x").process_request)], "a valid regular expression"),
    ],
)
def test_a_hook_result_of_the_wrong_shape_is_a_type_error_naming_the_plugin(
    hook: str, result: object, expected: str
) -> None:
    plugin = type("Shaped", (), {"name": "shaped"})()
    setattr(plugin, hook, hookimpl(lambda app: result))
    with pytest.raises(TypeError) as caught:
        App(plugins=[plugin])
    message = str(caught.value)
    assert "Plugin 'shaped' (in-process plugin) returned" in message
    assert f"from {hook}; expected {expected}" in message


def test_an_installed_plugin_module_given_in_process_too_is_an_error(fake: FakeDists) -> None:
    module = fake.add("both", MIDDLEWARE_PLUGIN, dist="lanner-both")
    App(autoload_plugins=False, plugins=[__import__(module)])  # alone, it is fine
    with pytest.raises(PluginLoadError) as caught:
        App(plugins=[sys.modules[module]])
    message = str(caught.value)
    assert "is the same object as the installed plugin 'both'" in message
    assert "autoload_plugins=False" in message
    assert "plugin_config['both'] configures it either way" in message
    assert "disable_plugins" not in message  # it would disable the in-process copy too
    assert "rename" not in message.lower()


def test_autoload_naming_a_plugin_that_is_not_installed_is_refused(fake: FakeDists) -> None:
    fake.add("present", MIDDLEWARE_PLUGIN)
    with pytest.raises(PluginLoadError) as info:
        App(autoload_plugins=["presnet"])
    message = str(info.value)
    assert "'presnet'" in message
    assert "not installed" in message
    assert "present" in message


def test_autoload_names_are_not_checked_when_the_environment_turns_autoload_off(
    fake: FakeDists, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANNER_DISABLE_PLUGIN_AUTOLOAD", "1")
    app = App(autoload_plugins=["not_installed_anywhere"])
    assert [p.name for p in app.plugin_assembly.plugins if p.layer == "installed"] == []


def test_a_config_section_that_names_no_plugin_is_refused(fake: FakeDists) -> None:
    fake.add("present", MIDDLEWARE_PLUGIN)
    with pytest.raises(PluginLoadError) as info:
        App(plugin_config={"presnet": {"tag": "x"}})
    message = str(info.value)
    assert "'presnet'" in message
    assert "no plugin has that name" in message
    assert "present" in message


def test_config_sections_for_disabled_or_not_loaded_installed_plugins_are_fine(
    fake: FakeDists, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = fake.add("present", MIDDLEWARE_PLUGIN)
    disabled = App(plugin_config={"present": {"tag": "x"}}, disable_plugins=["present"])
    assert middleware_tags(disabled) == []
    assert disabled.plugin_config("present") == {"tag": "x"}
    with pytest.warns(UnknownPluginWarning, match="'other'"):  # absent here: harmless
        loaded = App(plugin_config={"present": {}, "other": {}}, disable_plugins=["other"])
    assert middleware_tags(loaded) == [module]
    monkeypatch.setenv("LANNER_DISABLE_PLUGIN_AUTOLOAD", "1")
    not_loaded = App(plugin_config={"present": {"tag": "y"}})
    assert middleware_tags(not_loaded) == []
    assert not_loaded.plugin_config("present") == {"tag": "y"}
