"""The public surface: what users catch or configure is exported, private names are not."""

from __future__ import annotations

from importlib import metadata

import pytest

import lanner
import lanner.plugins
import lanner_auth_mw
import lanner_media_cbor
from lanner.options import RequestOptions, ResponseOptions
from lanner.plugins import hookspecs
from lanner.routing import RouteConflictError


def test_what_users_catch_or_configure_is_exported() -> None:
    assert lanner.RouteConflictError is RouteConflictError
    assert lanner.RequestOptions is RequestOptions
    assert lanner.ResponseOptions is ResponseOptions
    assert {"RouteConflictError", "RequestOptions", "ResponseOptions"} <= set(lanner.__all__)
    app = lanner.App()
    app.add_route("/a/{id}", Resource())
    with pytest.raises(lanner.RouteConflictError):
        app.add_route("/a/{name}", Resource())


class Resource:
    async def on_get(self, req: lanner.Request, resp: lanner.Response, **params: str) -> None:
        """Answer every GET."""


@pytest.mark.parametrize(
    ("module", "private"),
    [
        (lanner.plugins, {"LAYERS", "Layer", "plugin_name"}),
        (hookspecs, {"hookspec", "PROJECT_NAME", "HOOK_NAMES"}),
        (
            lanner_auth_mw,
            {"AuthConfig", "parse_config", "Origin", "parse_origin", "TokenTable"},
        ),
    ],
    ids=["lanner.plugins", "hookspecs", "lanner_auth_mw"],
)
def test_private_names_are_not_in_all(module: object, private: set[str]) -> None:
    exported = set(module.__all__)
    assert exported.isdisjoint(private)
    assert all(hasattr(module, name) for name in exported)


@pytest.mark.parametrize(
    ("module", "distribution"),
    [
        (lanner, "lanner"),
        (lanner_auth_mw, "lanner-auth-mw"),
        (lanner_media_cbor, "lanner-media-cbor"),
    ],
)
def test_version_is_the_installed_distributions(module: object, distribution: str) -> None:
    assert module.__version__ == metadata.version(distribution)
