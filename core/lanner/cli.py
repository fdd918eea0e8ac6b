"""The ``lanner`` command: serve an app with uvicorn, and list plugins as JSON.

``lanner serve MODULE:APP`` imports ``MODULE`` from the current directory and
runs it under uvicorn. Plugin switches travel through the environment
(``LANNER_DISABLE_PLUGINS``, ``LANNER_DISABLE_PLUGIN_AUTOLOAD``), so the
processes uvicorn starts for ``--reload`` and ``--workers`` obey them too.

``lanner plugins`` prints a JSON list of installed plugins (``--all`` adds the
default ones); ``--app MODULE:APP`` instead shows what each plugin of that app
provides, what a higher layer or the app author overrode, and any conflict
(which also makes the command exit with status 1). A plugin that
fails to import is listed with its error; the command still succeeds.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from typing import TYPE_CHECKING, Any, Final, cast

import click

from lanner.broadcast.select import ENV_VAR as BROADCAST_ENV
from lanner.plugins import PluginAssembly, _entry_points, describe_installed
from lanner.plugins.defaults import ESSENTIAL_PLUGINS

if TYPE_CHECKING:
    from lanner.app import App

__all__ = ["main"]

WS_CHOICES: Final = ("auto", "websockets-sansio", "wsproto", "websockets", "none")
LOG_LEVELS: Final = ("critical", "error", "warning", "info", "debug", "trace")
HTTP_CHOICES: Final = ("h11", "httptools", "auto")
H11_PROTOCOL: Final = "lanner._h11_protocol:H11Protocol"
"""uvicorn's h11 protocol plus a deadline on request heads: what ``--http h11`` runs."""


@click.group()
@click.version_option(package_name="lanner", prog_name="lanner")
def main() -> None:
    """lanner: serve real-time ASGI apps and inspect their plugins."""


@main.command()
@click.argument("app")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to bind.")
@click.option("--reload", is_flag=True, help="Restart when source files change (development).")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Worker processes.")
@click.option(
    "--log-level",
    type=click.Choice(LOG_LEVELS, case_sensitive=False),
    default=None,
    help="Log level.",
)
@click.option(
    "--disable-plugin",
    "disable_plugins",
    multiple=True,
    metavar="NAME",
    help="Do not load this plugin (repeatable); passed on as LANNER_DISABLE_PLUGINS.",
)
@click.option(
    "--no-plugin-autoload",
    is_flag=True,
    help="Load no installed plugin; passed on as LANNER_DISABLE_PLUGIN_AUTOLOAD=1.",
)
@click.option(
    "--broadcast",
    metavar="URL",
    default=None,
    help="Backend URL for app.broadcast (memory://, redis://...); passed on as "
    "LANNER_BROADCAST_URL.",
)
@click.option(
    "--ws",
    type=click.Choice(WS_CHOICES),
    default="auto",
    show_default=True,
    help="uvicorn's WebSocket implementation.",
)
@click.option("--ws-max-size", type=int, default=16 * 1024 * 1024, show_default=True, help="Bytes.")
@click.option("--ws-ping-interval", type=float, default=20.0, show_default=True, help="Seconds.")
@click.option("--ws-ping-timeout", type=float, default=20.0, show_default=True, help="Seconds.")
@click.option(
    "--proxy-headers/--no-proxy-headers",
    default=True,
    show_default=True,
    help="Trust X-Forwarded-For / X-Forwarded-Proto from trusted proxies.",
)
@click.option("--root-path", default="", help="ASGI root_path, when mounted below a prefix.")
@click.option("--ssl-keyfile", default=None, type=click.Path(dir_okay=False), help="TLS key.")
@click.option("--ssl-certfile", default=None, type=click.Path(dir_okay=False), help="TLS cert.")
@click.option(
    "--http",
    type=click.Choice(HTTP_CHOICES),
    default="h11",
    show_default=True,
    help="HTTP implementation: h11 bounds header size and time; httptools (if installed) "
    "is faster but bounds neither; auto picks httptools when installed.",
)
@click.option(
    "--h11-max-incomplete-event-size",
    type=click.IntRange(min=1),
    default=16 * 1024,
    show_default=True,
    help="h11: the largest request line plus headers, in bytes; larger ones get 400.",
)
@click.option(
    "--timeout-request-header",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    help="h11: seconds a client may take to send a request's line and headers (0: no limit).",
)
@click.option(
    "--timeout-keep-alive",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Seconds an idle kept-alive HTTP connection stays open.",
)
@click.option(
    "--limit-concurrency",
    type=click.IntRange(min=1),
    default=None,
    help="Most connections (WebSockets and SSE streams included) before new requests get 503.",
)
@click.option(
    "--limit-max-requests",
    type=click.IntRange(min=1),
    default=None,
    help="Exit (a worker: restart) after this many requests.",
)
@click.option(
    "--backlog",
    type=click.IntRange(min=1),
    default=2048,
    show_default=True,
    help="Connections the OS queues before the server accepts them.",
)
@click.option(
    "--timeout-graceful-shutdown",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Seconds to wait for open connections (SSE streams, WebSockets) at shutdown.",
)
def serve(
    app: str,
    host: str,
    port: int,
    reload: bool,
    workers: int | None,
    log_level: str | None,
    disable_plugins: tuple[str, ...],
    no_plugin_autoload: bool,
    broadcast: str | None,
    ws: str,
    ws_max_size: int,
    ws_ping_interval: float,
    ws_ping_timeout: float,
    proxy_headers: bool,
    root_path: str,
    ssl_keyfile: str | None,
    ssl_certfile: str | None,
    http: str,
    h11_max_incomplete_event_size: int,
    timeout_request_header: float,
    timeout_keep_alive: int,
    limit_concurrency: int | None,
    limit_max_requests: int | None,
    backlog: int,
    timeout_graceful_shutdown: int,
) -> None:
    """Serve APP (MODULE:ATTRIBUTE, such as myapp:app) with uvicorn."""
    from lanner import _h11_protocol
    from lanner._server_logging import server_log_config
    from lanner._uvicorn import run as run_uvicorn

    _check_app_ref(app)
    blocked = ESSENTIAL_PLUGINS.intersection(disable_plugins)
    if blocked:
        raise click.BadParameter(
            f"{min(blocked)} cannot be disabled: lanner's default error handling depends on it.",
            param_hint="--disable-plugin",
        )
    if disable_plugins:
        names = _entry_points.env_names(_entry_points.DISABLE_ENV) | frozenset(disable_plugins)
        os.environ[_entry_points.DISABLE_ENV] = ",".join(sorted(names))
    if no_plugin_autoload:
        os.environ[_entry_points.AUTOLOAD_OFF_ENV] = "1"
    if broadcast is not None:
        os.environ[BROADCAST_ENV] = broadcast
    # Through the environment, so worker and reloaded processes get it too.
    os.environ[_h11_protocol.TIMEOUT_ENV] = f"{timeout_request_header:g}"
    _add_cwd_to_path()
    run_uvicorn(
        app,
        host=host,
        port=port,
        reload=reload,
        workers=workers,
        log_level=log_level,
        log_config=server_log_config(),
        ws=ws,
        ws_max_size=ws_max_size,
        ws_ping_interval=ws_ping_interval,
        ws_ping_timeout=ws_ping_timeout,
        proxy_headers=proxy_headers,
        root_path=root_path,
        ssl_keyfile=ssl_keyfile,
        ssl_certfile=ssl_certfile,
        http=H11_PROTOCOL if http == "h11" else http,
        h11_max_incomplete_event_size=h11_max_incomplete_event_size,
        timeout_keep_alive=timeout_keep_alive,
        limit_concurrency=limit_concurrency,
        limit_max_requests=limit_max_requests,
        backlog=backlog,
        timeout_graceful_shutdown=timeout_graceful_shutdown,
    )


@main.command("plugins")
@click.option("--all", "show_all", is_flag=True, help="Include lanner's default plugins.")
@click.option(
    "--app",
    "app_ref",
    default=None,
    metavar="MODULE:APP",
    help="Show what each plugin of this app provides and what was overridden.",
)
def plugins_command(show_all: bool, app_ref: str | None) -> None:
    """Print the installed plugins as a JSON list."""
    entries: list[dict[str, Any]]
    if app_ref is None:
        entries = [info.as_dict() for info in describe_installed(include_defaults=show_all)]
    else:
        app = _import_app(app_ref)
        assembly = getattr(app, "plugin_assembly", None)
        if not isinstance(assembly, PluginAssembly):
            raise click.ClickException(
                f"{app_ref} is a {type(app).__name__}, not a lanner App; point --app at "
                "the App instance (MODULE:ATTRIBUTE)."
            )
        report = assembly.report(cast("App", app))
        entries = [e for e in report if show_all or e["layer"] != "default"]
        app_sinks = [pattern.pattern for pattern, _, _ in getattr(app, "_sinks", ())]
        conflicts = assembly.open_conflicts(app_sinks)
        if conflicts:
            click.echo(json.dumps(entries, indent=2))
            raise click.ClickException(
                f"{app_ref} will not start: "
                + "\n".join(conflict.message() for conflict in conflicts)
            )
    click.echo(json.dumps(entries, indent=2))


def _check_app_ref(ref: str) -> tuple[str, str]:
    module, _, attr = ref.partition(":")
    if not module or not attr:
        raise click.BadParameter(
            f"expected MODULE:ATTRIBUTE such as myapp:app, found {ref!r}", param_hint="APP"
        )
    return module, attr


def _add_cwd_to_path() -> None:
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)


def _import_app(ref: str) -> object:
    module_name, attr = _check_app_ref(ref)
    _add_cwd_to_path()
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        # Keep the notes: the one naming the plugin whose hook raised is the useful part.
        notes = "".join(f"\n{note}" for note in getattr(exc, "__notes__", ()))
        raise click.ClickException(f"Could not import {module_name!r}: {exc!r}{notes}") from exc
    obj: object = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise click.ClickException(
                f"Module {module_name!r} has no attribute {attr!r}; expected MODULE:ATTRIBUTE "
                "naming the App instance."
            ) from None
    return obj
