"""lanner_media_cbor as a plugin: application/cbor, the opt-in BINARY slot, config, hostile input.

The plugin is loaded in-process (the test suite runs with autoload off); the
entry-point path is covered by tests/plugins/test_plugin_distributions.py.
"""

from __future__ import annotations

import struct
from typing import Any

import cbor2
import msgpack
import pytest

import lanner
import lanner_media_cbor
from lanner import App, Request, WebSocket, WebSocketPayloadType
from lanner.media import MessagePackHandlerWS
from lanner.testing import ASGIConductor
from lanner_media_cbor import CBORConfigError, CBORHandler, CBORHandlerWS, CBORPayloadError
from tests.e2e.apps.plugin_cbor_app import Echo  # the same resource the real server runs

BINARY = WebSocketPayloadType.BINARY
OPT_IN = {"ws_binary": True}
"""The config that lets the plugin take the WebSocket BINARY slot."""


def _app(config: dict[str, Any] | None = None) -> App:
    app = App(
        autoload_plugins=False,
        plugins=[lanner_media_cbor],
        plugin_config={"media_cbor": config} if config is not None else None,
    )
    app.add_route("/echo", Echo())
    return app


def test_installed_alone_it_adds_application_cbor_and_leaves_the_ws_wire_format() -> None:
    # An installed distribution never changes the WebSocket wire format of an app
    # that did not ask: BINARY stays MessagePack until the app opts in.
    for app in (_app(), _app({}), _app({"ws_binary": False})):
        assert isinstance(app.ws_options.media_handlers[BINARY], MessagePackHandlerWS)
        assert isinstance(app.req_options.media_handlers["application/cbor"], CBORHandler)
        assert isinstance(app.resp_options.media_handlers["application/cbor"], CBORHandler)
        assert "application/msgpack" in app.req_options.media_handlers  # JSON, msgpack stay
        assert [p.name for p in app.plugin_assembly.plugins][-1] == "media_cbor"


def test_ws_binary_true_takes_the_binary_slot() -> None:
    app = _app(OPT_IN)
    assert isinstance(app.ws_options.media_handlers[BINARY], CBORHandlerWS)
    assert isinstance(app.req_options.media_handlers["application/cbor"], CBORHandler)


def test_the_report_shows_what_the_plugin_provides_either_way() -> None:
    def provides(app: App) -> dict[str, Any]:
        (entry,) = [e for e in app.plugin_assembly.report(app) if e["name"] == "media_cbor"]
        return dict(entry["provides"])

    http = {"application/cbor": "lanner_media_cbor.handlers.CBORHandler"}
    assert provides(_app()) == {"lanner_http_media_handlers": http}
    assert provides(_app(OPT_IN)) == {
        "lanner_http_media_handlers": http,
        "lanner_ws_media_handlers": {"BINARY": "lanner_media_cbor.handlers.CBORHandlerWS"},
    }


def test_unknown_key_is_an_error_naming_it_and_the_valid_ones() -> None:
    with pytest.raises(CBORConfigError) as caught:
        _app({"ws_binaryy": False})
    message = str(caught.value)
    assert "'ws_binaryy'" in message
    assert "'ws_binary'" in message


@pytest.mark.parametrize("value", ["false", 0, None, [False]])
def test_ws_binary_must_be_a_bool(value: object) -> None:
    with pytest.raises(CBORConfigError, match="must be True or False"):
        _app({"ws_binary": value})


def test_app_author_setting_beats_the_plugin() -> None:
    app = _app(OPT_IN)
    mine = MessagePackHandlerWS()
    app.ws_options.media_handlers[BINARY] = mine
    app.freeze()
    assert app.ws_options.media_handlers[BINARY] is mine


def test_disabled_plugin_contributes_nothing() -> None:
    app = App(autoload_plugins=False, plugins=[lanner_media_cbor], disable_plugins=["media_cbor"])
    assert "application/cbor" not in app.req_options.media_handlers
    assert isinstance(app.ws_options.media_handlers[BINARY], MessagePackHandlerWS)


async def test_http_cbor_round_trip() -> None:
    body = {"name": "lanner", "tags": ["a", "b"], "raw": b"\x00\x01"}
    async with ASGIConductor(_app()) as conductor:
        result = await conductor.simulate_post(
            "/echo", body=cbor2.dumps(body), content_type="application/cbor"
        )
    assert result.status_code == 200
    assert result.headers["content-type"] == "application/cbor"
    assert cbor2.loads(result.content) == body


@pytest.mark.parametrize(
    "payload",
    [
        b"\x82\x01",  # truncated
        b"\x5b" + struct.pack(">Q", 2**63),  # a byte string claiming 2**63 bytes
        b"\x81" * 100_000 + b"\x00",  # nested 100000 deep
        b"\xd9\x27\x0f\x00",  # unknown tag
        b"\xd8\x1c\x81\xd8\x1d\x00",  # a shared value containing itself
    ],
    ids=["truncated", "huge-length", "deep", "unknown-tag", "cyclic"],
)
async def test_hostile_http_body_is_400_naming_cbor(payload: bytes) -> None:
    async with ASGIConductor(_app()) as conductor:
        result = await conductor.simulate_post(
            "/echo", body=payload, content_type="application/cbor"
        )
    assert result.status_code == 400
    assert "application/cbor" in result.json["description"]
    assert "CBOR" in result.json["description"]


async def test_ws_cbor_round_trip() -> None:
    message = {"type": "chat", "text": "hi", "n": [1, 2.5, None], "blob": b"\xff"}
    async with ASGIConductor(_app(OPT_IN)) as conductor, conductor.simulate_ws("/echo") as ws:
        await ws.send_data(cbor2.dumps(message))
        assert cbor2.loads(await ws.receive_data()) == message


async def test_without_opt_in_ws_echoes_messagepack() -> None:
    conductor = ASGIConductor(_app())
    async with conductor, conductor.simulate_ws("/echo") as ws:
        await ws.send_msgpack({"a": 1})
        assert msgpack.unpackb(await ws.receive_data()) == {"a": 1}


HOSTILE_FRAMES = {
    "truncated": b"\x83\x01\x02",
    "huge-length": b"\x7b" + struct.pack(">Q", 2**63),
    "deep": b"\xa1\x61k" * 10_000 + b"\x00",
    "unknown-tag": b"\xd9\x27\x0f\x00",
    "cyclic": b"\xd8\x1c\x81\xd8\x1d\x00",
    "string-reference": b"\xd9\x01\x00\x82\x63abc\xd8\x19\x00",
    "huge-bignum": b"\xc2\x5a" + struct.pack(">I", 1 << 20) + b"\x01" * (1 << 20),
    "trailing": b"\x01\x02",
}


async def test_hostile_ws_frames_reach_the_responder_and_the_connection_survives() -> None:
    async with ASGIConductor(_app(OPT_IN)) as conductor, conductor.simulate_ws("/echo") as ws:
        for name, frame in HOSTILE_FRAMES.items():
            await ws.send_data(frame)
            reply = await ws.receive_text()
            assert reply.startswith("CBORPayloadError: Invalid CBOR payload"), name
            # The same connection still decodes a good frame afterwards.
            await ws.send_data(cbor2.dumps([name]))
            assert cbor2.loads(await ws.receive_data()) == [name]
        assert ws.ready


async def test_uncaught_payload_error_is_a_valueerror_the_responder_sees() -> None:
    seen: list[BaseException] = []

    class Strict:
        async def on_websocket(self, req: Request, ws: WebSocket) -> None:
            await ws.accept()
            try:
                await ws.receive_media()
            except ValueError as exc:
                seen.append(exc)
                await ws.close(4400)

    app = App(
        autoload_plugins=False,
        plugins=[lanner_media_cbor],
        plugin_config={"media_cbor": OPT_IN},
    )
    app.add_route("/strict", Strict())
    async with ASGIConductor(app) as conductor, conductor.simulate_ws("/strict") as ws:
        await ws.send_data(b"\x82\x01")
        with pytest.raises(lanner.WebSocketDisconnected) as closed:
            await ws.receive_data()
    assert closed.value.code == 4400
    assert len(seen) == 1
    assert isinstance(seen[0], CBORPayloadError)
