"""OwnedDict: every way of writing records its owner and respects freezing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lanner._owned import APP_OWNER, OwnedDict
from lanner.media import Handlers, JSONHandler


def _owned() -> OwnedDict[str, int]:
    owned: OwnedDict[str, int] = OwnedDict("test mapping")
    owned.contribute("a", 1, "plugin_x")
    return owned


@pytest.mark.parametrize(
    "write",
    [
        lambda d: d.__setitem__("a", 2),
        lambda d: d.update({"a": 2}),
        lambda d: d.update(a=2),
        lambda d: d.__ior__({"a": 2}),
    ],
)
def test_app_writes_record_the_app_as_owner(write: Callable[[OwnedDict[str, int]], None]) -> None:
    owned = _owned()
    write(owned)
    assert owned["a"] == 2
    assert owned.owners["a"] == APP_OWNER


def test_setdefault_only_claims_a_missing_key() -> None:
    owned = _owned()
    assert owned.setdefault("a", 9) == 1
    assert owned.owners["a"] == "plugin_x"
    assert owned.setdefault("b", 3) == 3
    assert owned.owners["b"] == APP_OWNER


def test_removals_forget_the_owner() -> None:
    owned = _owned()
    owned["b"] = 2
    assert owned.pop("a") == 1
    assert owned.pop("missing", 7) == 7
    assert owned.popitem() == ("b", 2)
    assert owned.owners == {}
    owned["c"] = 3
    owned.clear()
    assert owned.owners == {}
    assert dict(owned) == {}


def test_a_plugin_never_overrides_the_app() -> None:
    owned = _owned()
    owned["a"] = 5
    owned.contribute("a", 6, "plugin_y")
    assert owned["a"] == 5


@pytest.mark.parametrize(
    "write",
    [
        lambda d: d.__setitem__("a", 2),
        lambda d: d.__delitem__("a"),
        lambda d: d.update({"a": 2}),
        lambda d: d.setdefault("z", 2),
        lambda d: d.pop("a"),
        lambda d: d.popitem(),
        lambda d: d.clear(),
        lambda d: d.__ior__({"a": 2}),
    ],
)
def test_every_write_to_a_frozen_mapping_raises(
    write: Callable[[OwnedDict[str, int]], None],
) -> None:
    owned = _owned()
    owned.freeze()
    with pytest.raises(RuntimeError, match="after the app has started"):
        write(owned)
    assert dict(owned) == {"a": 1}


@pytest.mark.parametrize(
    "remove",
    [
        lambda h: h.pop("Application/JSON"),
        lambda h: h.popitem(),
        lambda h: h.clear(),
        lambda h: h.__delitem__("application/json; charset=utf-8"),
    ],
)
def test_removing_a_media_handler_also_forgets_cached_lookups(
    remove: Callable[[Handlers], object],
) -> None:
    handlers = Handlers()
    handlers["application/json"] = JSONHandler()
    assert handlers.find("application/json; charset=utf-8") is not None
    remove(handlers)
    assert handlers.find("application/json; charset=utf-8") is None
