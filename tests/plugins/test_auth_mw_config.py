"""auth_mw's configuration: it fails closed, rejects mistakes clearly and never shows a token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import lanner_auth_mw
from lanner import App
from lanner_auth_mw import AuthConfigError
from lanner_auth_mw._config import parse_config
from lanner_auth_mw._origins import Origin, parse_origin
from lanner_auth_mw._tokens import TokenTable

SECRET = "tok-3f9a1c7e5b"


def _app(section: Any = None, **kwargs: Any) -> App:
    config = {"auth_mw": section} if section is not None else None
    return App(autoload_plugins=False, plugins=[lanner_auth_mw], plugin_config=config, **kwargs)


@pytest.mark.parametrize(
    "section",
    [None, {}, {"tokens": {}}, {"query_param": "access_token"}, {"allowed_origins": []}],
    ids=["no-config", "empty", "no-tokens", "only-query-param", "only-origins"],
)
def test_unconfigured_plugin_fails_closed_saying_what_to_do(section: Any) -> None:
    with pytest.raises(AuthConfigError) as caught:
        _app(section)
    message = str(caught.value)
    assert "'tokens'" in message
    assert "'verify'" in message
    assert 'disable_plugins=["auth_mw"]' in message
    assert "LANNER_DISABLE_PLUGINS=auth_mw" in message
    assert "--disable-plugin auth_mw" in message


def test_disabling_the_plugin_is_the_way_to_run_without_it() -> None:
    app = _app(None, disable_plugins=["auth_mw"])
    assert "auth_mw" not in {p.name for p in app.plugin_assembly.plugins}


def test_unknown_key_names_it_and_the_valid_ones() -> None:
    with pytest.raises(AuthConfigError) as caught:
        _app({"tokens": {"alice": SECRET}, "allowed_origin": ["https://app.example"]})
    message = str(caught.value)
    assert "'allowed_origin'" in message
    assert "'allowed_origins'" in message


@pytest.mark.parametrize(
    ("tokens", "expected"),
    [
        (["alice"], "must map names to tokens"),
        ({"alice": ""}, "is empty"),
        ({"alice": 12345}, "must be a string"),
        ({"": SECRET}, "names are non-empty strings"),
        ({"alice": "has space"}, "printable ASCII"),
        ({"alice": "tab\there"}, "printable ASCII"),
        ({"alice": "caf\u00e9"}, "printable ASCII"),
        ({"alice": "x" * 8193}, "printable ASCII"),
    ],
)
def test_bad_tokens_are_rejected(tokens: object, expected: str) -> None:
    with pytest.raises(AuthConfigError, match=expected):
        _app({"tokens": tokens})


def test_duplicate_tokens_are_rejected_without_showing_them() -> None:
    with pytest.raises(AuthConfigError) as caught:
        _app({"tokens": {"alice": SECRET, "bob": SECRET}})
    message = str(caught.value)
    assert "'alice'" in message
    assert "'bob'" in message
    assert SECRET not in message


def test_error_messages_never_show_a_token() -> None:
    with pytest.raises(AuthConfigError) as caught:
        _app({"tokens": {"alice": SECRET + " with space"}})
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("verify", "expected"),
    [
        ("no_colon_here", "'module:callable'"),
        (42, "'module:callable'"),
        ("tests.plugins.no_such_module:verify", "cannot be imported"),
        ("tests.plugins.auth_mw_verifiers:missing", "cannot be imported"),
        ("tests.plugins.auth_mw_verifiers:not_callable", "not a callable"),
    ],
)
def test_bad_verify_is_rejected(verify: object, expected: str) -> None:
    with pytest.raises(AuthConfigError, match=expected):
        _app({"verify": verify})


def test_verify_alone_is_enough() -> None:
    config = parse_config({"verify": "tests.plugins.auth_mw_verifiers:verify_sync"})
    assert config.verify is not None
    assert config.verify_ref == "tests.plugins.auth_mw_verifiers:verify_sync"
    assert len(config.tokens) == 0


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({"query_param": ""}, "non-empty string"),
        ({"query_param": 1}, "non-empty string"),
        ({"subprotocol_prefix": "bearer "}, "Sec-WebSocket-Protocol"),
        ({"subprotocol_prefix": "bearer/"}, "Sec-WebSocket-Protocol"),
        ({"allowed_origins": "https://app.example"}, "list of strings"),
        ({"allowed_origins": [1]}, "must hold strings"),
        ({"allowed_origins": ["*"]}, "leave 'allowed_origins' out"),
        ({"allowed_origins": ["null"]}, "opaque origin"),
        ({"allowed_origins": ["https://app.example/"]}, "no path or trailing slash"),
        ({"allowed_origins": ["https://app.example/app"]}, "not an origin"),
        ({"allowed_origins": ["app.example"]}, "not an origin"),
        ({"allowed_origins": ["https://app.example:99999"]}, "not an origin"),
        ({"allowed_origins": ["Self"]}, "written 'self'"),
        ({"allowed_origins": ["'self'"]}, "or 'self' for the origin the request was sent to"),
        ({"exempt": ["health"]}, "starting with '/'"),
        ({"exempt": "/health"}, "list of strings"),
    ],
)
def test_bad_options_are_rejected(section: dict[str, Any], expected: str) -> None:
    with pytest.raises(AuthConfigError, match=expected):
        _app({"tokens": {"alice": SECRET}, **section})


def test_env_and_file_token_references_are_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTH_MW_TEST_TOKEN", "from-env-token")
    token_file = tmp_path / "token"
    token_file.write_text("from-file-token\n", encoding="utf-8")
    app = _app(
        {"tokens": {"env": {"$env": "AUTH_MW_TEST_TOKEN"}, "file": {"$file": str(token_file)}}}
    )
    config = parse_config(app.plugin_config("auth_mw"))
    assert config.tokens.lookup("from-env-token") == "env"
    assert config.tokens.lookup("from-file-token") == "file"


def test_missing_env_reference_fails_at_startup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTH_MW_TEST_UNSET", raising=False)
    with pytest.raises(ValueError, match="AUTH_MW_TEST_UNSET"):
        _app({"tokens": {"alice": {"$env": "AUTH_MW_TEST_UNSET"}}})


def test_parsed_config_keeps_every_option() -> None:
    config = parse_config(
        {
            "tokens": {"alice": SECRET},
            "query_param": "access_token",
            "subprotocol_prefix": "bearer.",
            "allowed_origins": ["https://app.example", "http://localhost:8000"],
            "exempt": ["/health"],
        }
    )
    assert config.query_param == "access_token"
    assert config.subprotocol_prefix == "bearer."
    assert config.allowed_origins == frozenset(
        {Origin("https", "app.example", 443), Origin("http", "localhost", 8000)}
    )
    assert config.exempt == {"/health"}
    assert config.allow_self is False


def test_self_is_kept_apart_from_the_listed_origins() -> None:
    config = parse_config({"tokens": {"alice": SECRET}, "allowed_origins": ["self"]})
    assert config.allow_self is True
    assert config.allowed_origins == frozenset()
    both = parse_config(
        {"tokens": {"alice": SECRET}, "allowed_origins": ["https://app.example", "self"]}
    )
    assert both.allow_self is True
    assert both.allowed_origins == {Origin("https", "app.example", 443)}


# -- origins -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://app.example", Origin("https", "app.example", 443)),
        ("https://app.example:443", Origin("https", "app.example", 443)),
        ("HTTPS://APP.Example", Origin("https", "app.example", 443)),
        ("http://app.example", Origin("http", "app.example", 80)),
        ("http://localhost:8000", Origin("http", "localhost", 8000)),
        ("http://[::1]:8000", Origin("http", "::1", 8000)),
        ("chrome-extension://abcdef", Origin("chrome-extension", "abcdef", None)),
    ],
)
def test_parse_origin_normalises(text: str, expected: Origin) -> None:
    assert parse_origin(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "null",
        "",
        "app.example",
        "https://",
        "https://app.example/",
        "https://app.example/path",
        "https://app.example?x=1",
        "https://app.example#frag",
        "https://user@app.example",
        "https://app.example:notaport",
        " https://app.example",
        "https://app.example\t",
        "https://\u00e4pp.example",
        "https://[::1",
    ],
)
def test_parse_origin_rejects_non_origins(text: str) -> None:
    with pytest.raises(ValueError):
        parse_origin(text)


# -- tokens ------------------------------------------------------------------


def test_token_table_finds_each_name() -> None:
    table = TokenTable({f"user{i}": f"token-{i:04d}" for i in range(50)})
    for i in range(50):
        assert table.lookup(f"token-{i:04d}") == f"user{i}"
    assert table.lookup("token-0050") is None
    assert table.lookup("") is None
    assert table.lookup("token-000") is None


def test_token_table_compares_every_entry_whatever_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    import hmac

    compared: list[int] = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        compared.append(1)
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    table = TokenTable({"first": "aaaa-token", "middle": "bbbb-token", "last": "cccc-token"})
    for candidate in ("aaaa-token", "bbbb-token", "cccc-token", "nope"):
        compared.clear()
        table.lookup(candidate)
        assert len(compared) == 3, candidate
