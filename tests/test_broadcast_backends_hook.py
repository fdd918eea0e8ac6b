"""The lanner_broadcast_backends hook: backends by URL scheme, from plugins."""

from __future__ import annotations

import pytest

import lanner
from lanner.broadcast import MemoryBackend, memory_backend
from lanner.testing import ASGIConductor


class Provides:
    def __init__(self, name: str, backends: dict[str, object]) -> None:
        self.name = name
        self.backends = backends

    @lanner.hookimpl
    def lanner_broadcast_backends(self, app: lanner.App) -> dict[str, object]:
        return self.backends


def test_memory_comes_from_the_default_plugin() -> None:
    app = lanner.App(autoload_plugins=False)
    assert app.broadcast_backends.owners == {"memory": "lanner.memory"}
    provided = app.plugin_assembly.report(app)
    memory = next(p for p in provided if p["name"] == "lanner.memory")
    assert list(memory["provides"]["lanner_broadcast_backends"]) == ["memory"]


async def test_a_plugin_provides_a_scheme_the_app_chooses() -> None:
    made: list[str] = []

    def factory(url: str, app: lanner.App) -> MemoryBackend:
        made.append(url)
        return memory_backend("memory://", app)

    plugin = Provides("custom", {"Custom": factory})  # schemes compare lower-case
    app = lanner.App(autoload_plugins=False, plugins=[plugin], broadcast="custom://")
    assert made == ["custom://"]
    assert app.broadcast_backends.owners["custom"] == "custom"
    async with ASGIConductor(app), app.broadcast.subscribe("c") as sub:
        await app.broadcast.publish("c", text="via custom")
        assert (await sub.next()).text == "via custom"


def test_a_plugin_may_override_memory() -> None:
    def mine(url: str, app: lanner.App) -> MemoryBackend:
        return MemoryBackend(history=3)

    app = lanner.App(autoload_plugins=False, plugins=[Provides("mine", {"memory": mine})])
    assert app.broadcast_backends.owners["memory"] == "mine"


def test_the_memory_plugin_can_be_disabled_with_another_url_given() -> None:
    def other(url: str, app: lanner.App) -> MemoryBackend:
        return MemoryBackend()

    app = lanner.App(
        autoload_plugins=False,
        disable_plugins=["lanner.memory"],
        plugins=[Provides("other", {"other": other})],
        broadcast="other://",
    )
    assert "memory" not in app.broadcast_backends
    with pytest.raises(ValueError, match=r"No broadcast backend for memory://.*installed: none"):
        lanner.App(autoload_plugins=False, disable_plugins=["lanner.memory"])


@pytest.mark.parametrize(
    ("backends", "expected"),
    [
        ({"redis://": memory_backend}, "a bare URL scheme such as 'redis'"),
        ({"nats": "not callable"}, "must be callable as factory(url, app)"),
    ],
)
def test_bad_entries_are_type_errors_naming_the_plugin(
    backends: dict[str, object], expected: str
) -> None:
    with pytest.raises(TypeError) as info:
        lanner.App(autoload_plugins=False, plugins=[Provides("broken", backends)])
    assert "broken" in str(info.value)
    assert expected in str(info.value)


def test_a_factory_returning_something_else_is_a_type_error() -> None:
    plugin = Provides("odd", {"odd": lambda url, app: object()})
    with pytest.raises(TypeError, match=r"returned object, not a lanner.BroadcastBackend"):
        lanner.App(autoload_plugins=False, plugins=[plugin], broadcast="odd://")
